"""Summaries of the daily features over the last weeks: means, SDs, trends, weekend differences.

Each function takes the :class:`~meterrisk.features.windows.sums.Window` and returns its
columns as expressions (a family: one column per daily feature, ``{f}`` in the docstring).
"""

from __future__ import annotations

import polars as pl

from meterrisk.features.windows.spans import RECENT, SUMMARISED, TREND_WEEKS, TRENDED, WEEKEND
from meterrisk.features.windows.sums import WEEKEND as IS_WEEKEND
from meterrisk.features.windows.sums import Window, centred, known


def means_28d(w: Window) -> dict[str, pl.Expr]:
    """{f}_mean_28d: mean of daily {f} over valid days in the 28 days up to as_of.

    Unit: as the daily feature
    """
    return {f"{f}_mean_28d": w.mean(f, RECENT) for f in SUMMARISED}


def sds_28d(w: Window) -> dict[str, pl.Expr]:
    """{f}_sd_28d: day-to-day standard deviation of daily {f} over valid days in the last 28 days
    (small in healthy older people; rising variability is a warning sign).

    Unit: as the daily feature's amount
    """
    return {f"{f}_sd_28d": w.sd(f, RECENT) for f in SUMMARISED}


def trends(w: Window) -> dict[str, pl.Expr]:
    """{f}_slope_{w}w: least-squares slope of daily {f} per week over the last 4, 8 or 12 weeks
    (valid days only; positive = rising towards as_of).

    Unit: daily feature amount per week
    Edge cases: null with fewer than 14 / 28 / 42 valid days in the 4 / 8 / 12 weeks.
    """
    out = {}
    for f in TRENDED:
        for weeks, min_days in TREND_WEEKS.items():
            span = (0, 7 * weeks)
            out[f"{f}_slope_{weeks}w"] = pl.when(w.n(f, span) >= min_days).then(w.slope_per_week(f, span))
    return out


def weekend_differences(w: Window) -> dict[str, pl.Expr]:
    """{f}_weekend_diff_28d: mean daily {f} on Saturdays and Sundays minus weekdays (last 28 days).

    Unit: as the daily feature's amount
    """
    out = {}
    for f in WEEKEND:
        n_all, s_all = w.n(f, RECENT), w.sum(f, RECENT)
        n_we = w.total(known(f) & IS_WEEKEND, RECENT)
        s_we = w.total(pl.when(IS_WEEKEND).then(centred(f)).otherwise(0.0), RECENT)
        # Both means relative to the same household constant, which cancels in the difference.
        weekend = pl.when(n_we > 0).then(s_we / n_we)
        weekday = pl.when(n_all - n_we > 0).then((s_all - s_we) / (n_all - n_we))
        out[f"{f}_weekend_diff_28d"] = weekend - weekday
    return out
