"""Deviation of each household from its own earlier baseline.

Recent = valid days in the 28 days up to as_of; baseline = valid days in weeks 5-12 before
as_of (ages 28..83). These columns carry the care-worker reasons: ``wake_time_h_delta`` = 1.5
reads "wakes 1.5 h later than usual", ``meal_kwh_ratio_8w`` = 0.6 reads "cooking activity down
40%", and ``*_z`` says how unusual that change is for this household.
"""

from __future__ import annotations

import polars as pl

from meterrisk.features.window import BASELINE_FIRST, VALID, _baseline, _recent

MIN_BASELINE_DAYS = 14

#: Daily features with z and delta columns, with the SD floor (natural units) that keeps a very
#: regular household's tiny SD from turning a trivial change into a huge z.
DEVIATING: dict[str, float] = {
    "wake_time_h": 0.25, "bed_time_h": 0.25, "inactive_night_h": 0.25, "active_share": 0.02,
    "daily_kwh": 0.2, "excess_kwh": 0.2, "meal_kwh": 0.1, "breakfast_kwh": 0.05,
    "dinner_kwh": 0.05, "regularity_corr": 0.05, "daytime_floor_h": 0.25,
    "longest_inactive_run_h": 0.25, "night_activity_share": 0.02, "peak_kwh": 0.05,
}
#: Energy and activity features whose recent/baseline ratio is reported.
RATIOS = ["daily_kwh", "excess_kwh", "meal_kwh", "breakfast_kwh", "lunch_kwh", "dinner_kwh",
          "active_share"]

BASE = VALID & (pl.col("age") >= BASELINE_FIRST)


def _enough() -> pl.Expr:
    return pl.col("_base").sum() >= MIN_BASELINE_DAYS  # _base = BASE by row, added by prepare


def deltas() -> list[pl.Expr]:
    """{f}_delta: mean daily {f} over the last 28 days minus its mean over weeks 5-12 before as_of.

    Unit: as the daily feature
    Edge cases: null with fewer than 14 valid baseline days.
    """
    return [
        pl.when(_enough()).then(_recent(f).mean() - _baseline(f).mean())
        .alias(f"{f}_delta") for f in DEVIATING
    ]


def z_scores() -> list[pl.Expr]:
    """{f}_z: {f}_delta divided by the day-to-day SD of {f} in weeks 5-12 (floored per feature).

    Unit: standard deviations
    Edge cases: null with fewer than 14 valid baseline days.
    """
    out = []
    for f, floor in DEVIATING.items():
        delta = _recent(f).mean() - _baseline(f).mean()
        sd = pl.max_horizontal(_baseline(f).std(), pl.lit(floor))
        out.append(pl.when(_enough()).then(delta / sd).alias(f"{f}_z"))
    return out


def ratios() -> list[pl.Expr]:
    """{f}_ratio_8w: mean daily {f} over the last 4 weeks divided by its mean over weeks 5-12
    (0.6 = down 40%).

    Unit: ratio
    Edge cases: null with fewer than 14 valid baseline days or a baseline mean below 0.001.
    """
    out = []
    for f in RATIOS:
        base = _baseline(f).mean()
        out.append(pl.when(_enough() & (base > 1e-3)).then(_recent(f).mean() / base)
                   .alias(f"{f}_ratio_8w"))
    return out


def deviations() -> list[pl.Expr]:
    return [*deltas(), *z_scores(), *ratios()]


FAMILIES = [deltas, z_scores, ratios]
