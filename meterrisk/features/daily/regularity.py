"""Regularity: how alike today's pattern of active half hours is to the household's recent norm.

The norm is the mean active profile of the valid days among the previous 28, as running sums
over the day frame (a difference of two cumulative rows), so a day never re-reads four weeks.
"""

from __future__ import annotations

import polars as pl

from meterrisk.features import activity as A


def regularity_corr(halfhour_active: list[pl.Expr], norm_sum: list[pl.Expr], norm_n: list[pl.Expr],
                    norm_days: pl.Expr) -> pl.Expr:
    """Pearson correlation of today's 48 clock-half-hour active profile with the mean active
    profile of the valid days among the previous 28.

    Unit: correlation (-1..1)
    Edge cases: null with fewer than 14 valid previous days, or a constant profile today
    (e.g. no activity at all). Clock-change days: the duplicated half hour is active if any
    of its readings is; a skipped half hour is missing.
    """
    used = [x.is_not_null() & (k > 0) for x, k in zip(halfhour_active, norm_n)]
    xs = [pl.when(m).then(x.cast(pl.Float64)).otherwise(0.0) for m, x in zip(used, halfhour_active)]
    ys = [pl.when(m).then(s.cast(pl.Float64) / k.cast(pl.Float64)).otherwise(0.0)
          for m, s, k in zip(used, norm_sum, norm_n)]
    n = pl.sum_horizontal(m.cast(pl.Int32) for m in used).cast(pl.Float64)
    sx, sy = pl.sum_horizontal(xs), pl.sum_horizontal(ys)
    sxy = pl.sum_horizontal(x * y for x, y in zip(xs, ys))
    sxx = pl.sum_horizontal(x * x for x in xs)
    syy = pl.sum_horizontal(y * y for y in ys)
    cov = sxy - sx * sy / n
    var_x, var_y = sxx - sx * sx / n, syy - sy * sy / n
    # A constant profile (today's or the norm) has no correlation: null, not rounding noise.
    flat = (var_x <= 1e-12 * n) | (var_y <= 1e-12 * n)
    corr = cov / (var_x * var_y).sqrt()
    return pl.when((norm_days >= A.REGULARITY_MIN_DAYS) & ~flat & corr.is_finite()).then(corr)


def with_norm(frame: pl.LazyFrame, profile: list[str], valid: str
              ) -> tuple[pl.LazyFrame, list[pl.Expr], list[pl.Expr], pl.Expr]:
    """``frame`` (a day frame: sorted by household and date, dense, ``_pos`` = day number within
    the household) with running sums added, and per day the summed active flags and reading
    counts per clock half hour over the valid days among the previous 28, and how many such
    days there are. ``profile`` names the 48 Int8 columns (null = no reading), ``valid`` the
    Boolean column saying which days count."""
    use = [pl.col(valid) & pl.col(c).is_not_null() for c in profile]
    counts = {**{f"_ca{b}": pl.when(u).then(pl.col(c).cast(pl.Int64)).otherwise(0)
                 for b, (u, c) in enumerate(zip(use, profile))},
              **{f"_cu{b}": u.cast(pl.Int64) for b, u in enumerate(use)},
              "_cv": pl.col(valid).cast(pl.Int64)}
    # Cumulative sums over the whole frame, restarted per household by subtracting the total
    # before its first row: plain scans and a forward fill, no per-household windows.
    frame = (frame.with_columns(**counts)
             .with_columns(**{f"{n}_c": pl.col(n).cum_sum() for n in counts})
             .with_columns(**{f"{n}_c": pl.col(f"{n}_c") - pl.when(pl.col("_pos") == 0)
                              .then(pl.col(f"{n}_c") - pl.col(n)).forward_fill() for n in counts}))

    def previous(name: str) -> pl.Expr:
        # The 28 rows before this one: cumulative at d-1 minus cumulative at d-29.
        c = pl.col(f"{name}_c")
        days = A.REGULARITY_DAYS + 1
        return (pl.when(pl.col("_pos") >= 1).then(c.shift(1)).otherwise(0)
                - pl.when(pl.col("_pos") >= days).then(c.shift(days)).otherwise(0))

    return (frame, [previous(f"_ca{b}") for b in range(len(profile))],
            [previous(f"_cu{b}") for b in range(len(profile))], previous("_cv"))
