"""Regularity: how alike today's pattern of active half hours is to the household's recent norm.

The norm is the mean active profile of the valid days among the previous 28, as running sums
over the day frame (a difference of two cumulative rows, :func:`meterrisk.features.daily.inputs.regularity_norm`),
and an incremental run reads the earlier days' profiles from daily_profiles, never four weeks
of readings.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from meterrisk.features import activity as A


def regularity_corr(halfhour_active: np.ndarray, norm_sum: np.ndarray, norm_n: np.ndarray,
                    norm_days: np.ndarray) -> pl.Expr:
    """Pearson correlation of today's 48 clock-half-hour active profile with the mean active
    profile of the valid days among the previous 28.

    Unit: correlation (-1..1)
    Edge cases: null with fewer than 14 valid previous days, or a constant profile today
    (e.g. no activity at all). Clock-change days: the duplicated half hour is active if any
    of its readings is; a skipped half hour is missing.
    """
    # Its inputs are (days, 48) arrays the norm kernel made, so the sums run in numpy too:
    # written as 48-column Polars expressions this one feature cost more than all the others.
    with np.errstate(invalid="ignore", divide="ignore"):
        # halfhour_active: 1 active, 0 not, -1 (or NaN) no reading in the half hour.
        m = (halfhour_active >= 0) & (norm_n > 0)
        # Row-major, so that each day's sums run along its own 48 values in one fixed order:
        # over the engine's Fortran-ordered arrays numpy's reduction order depended on where
        # the row sat in the array, and a household's value on who else was in it (last bits;
        # a shard and the whole town disagreed, tests/test_shards_feature_invariance.py).
        x = np.ascontiguousarray(np.where(m, halfhour_active, 0.0))
        y = np.ascontiguousarray(np.where(m, np.divide(norm_sum, norm_n, dtype=np.float64), 0.0))
        n = m.sum(axis=1)
        sx, sy = x.sum(axis=1), y.sum(axis=1)
        cov = np.einsum("dk,dk->d", x, y) - sx * sy / n
        var_x = np.einsum("dk,dk->d", x, x) - sx * sx / n
        var_y = np.einsum("dk,dk->d", y, y) - sy * sy / n
        # A constant profile (today's or the norm) has no correlation: null, not rounding noise.
        flat = (var_x <= 1e-12 * n) | (var_y <= 1e-12 * n)
        corr = np.where(flat, np.nan, cov / np.sqrt(var_x * var_y))
    ok = (norm_days >= A.REGULARITY_MIN_DAYS) & np.isfinite(corr)
    return pl.lit(pl.Series(np.where(ok, corr, np.nan)).fill_nan(None))
