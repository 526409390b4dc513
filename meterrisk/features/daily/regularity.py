"""Regularity: how alike today's pattern of active half hours is to the household's recent norm.

The norm is the mean active profile of the valid days among the previous 28, as running sums
over the day frame (a difference of two cumulative rows), so a day never re-reads four weeks.
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
        m = ~np.isnan(halfhour_active) & (norm_n > 0)
        x = np.where(m, halfhour_active, 0.0)
        y = np.where(m, np.divide(norm_sum, norm_n, dtype=np.float64), 0.0)
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


def norm_sums(profile: np.ndarray, valid: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per day (row): the summed active flags and reading counts per clock half hour over the
    valid days among the previous 28, and how many such days there are.

    ``profile`` is (rows, 48) with NaN for a half hour without a reading, ``valid`` says which
    days count, ``pos`` is each row's day number within its household (rows sorted by
    household and date, dense). A window is a difference of two cumulative rows, restarted
    at each household's first row. A numpy kernel: the same as 97 Polars cumulative sums and
    shifts, at a tenth of the cost.
    """
    use = valid[:, None] & ~np.isnan(profile)
    # One int32 array (active flags, reading counts, valid days), one scan and one gather.
    both = np.concatenate([np.where(use, profile, 0.0).astype(np.int32), use.astype(np.int32),
                           valid[:, None].astype(np.int32)], axis=1)
    c = np.zeros((len(both) + 1, both.shape[1]), dtype=np.int32)
    np.cumsum(both, axis=0, out=c[1:])
    i = np.arange(len(both))
    lo = np.maximum(i - A.REGULARITY_DAYS, i - pos)  # first of the 28 rows before, in the household
    sums = c[i] - c[lo]
    k = profile.shape[1]
    return sums[:, :k], sums[:, k:2 * k], sums[:, 2 * k]

