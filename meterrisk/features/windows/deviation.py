"""Deviation of each household from its own earlier baseline.

Recent = valid days in the 28 days up to as_of; baseline = valid days in weeks 5-12 before
as_of (ages 28..83). These columns carry the care-worker reasons: ``wake_time_h_delta`` = 1.5
reads "wakes 1.5 h later than usual", ``meal_kwh_ratio_8w`` = 0.6 reads "cooking activity down
40%", and ``*_z`` says how unusual that change is for this household.
"""

from __future__ import annotations

import polars as pl

from meterrisk.features.windows.spans import BASELINE, MIN_BASELINE_DAYS, RECENT
from meterrisk.features.windows.sums import VALID, Window

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


def _enough(w: Window) -> pl.Expr:
    return w.total(VALID, BASELINE) >= MIN_BASELINE_DAYS


def _delta(w: Window, f: str) -> pl.Expr:
    # Both means relative to the household constant: it cancels (the sums stay small).
    recent = pl.when(w.n(f, RECENT) > 0).then(w.sum(f, RECENT) / w.n(f, RECENT))
    base = pl.when(w.n(f, BASELINE) > 0).then(w.sum(f, BASELINE) / w.n(f, BASELINE))
    return recent - base


def deltas(w: Window) -> dict[str, pl.Expr]:
    """{f}_delta: mean daily {f} over the last 28 days minus its mean over weeks 5-12 before as_of.

    Unit: as the daily feature's amount
    Edge cases: null with fewer than 14 valid baseline days.
    """
    return {f"{f}_delta": pl.when(_enough(w)).then(_delta(w, f)) for f in DEVIATING}


def z_scores(w: Window) -> dict[str, pl.Expr]:
    """{f}_z: {f}_delta divided by the day-to-day SD of {f} in weeks 5-12 (floored per feature).

    Unit: standard deviations
    Edge cases: null with fewer than 14 valid baseline days.
    """
    out = {}
    for f, floor in DEVIATING.items():
        sd = pl.max_horizontal(w.sd(f, BASELINE), pl.lit(floor))  # an undefined SD gives the floor
        out[f"{f}_z"] = pl.when(_enough(w)).then(_delta(w, f) / sd)
    return out


def ratios(w: Window) -> dict[str, pl.Expr]:
    """{f}_ratio_8w: mean daily {f} over the last 4 weeks divided by its mean over weeks 5-12
    (0.6 = down 40%).

    Unit: ratio
    Edge cases: null with fewer than 14 valid baseline days or a baseline mean below 0.001.
    """
    out = {}
    for f in RATIOS:
        base = w.mean(f, BASELINE)
        out[f"{f}_ratio_8w"] = pl.when(_enough(w) & (base > 1e-3)).then(w.mean(f, RECENT) / base)
    return out
