"""Deviation of each household from its own earlier baseline.

Recent = valid days in the 28 days up to as_of; baseline = valid days in weeks 5-12 before
as_of (ages 28..83). These columns carry the care-worker reasons: ``wake_time_h_delta`` = 1.5
reads "wakes 1.5 h later than usual", ``meal_kwh_ratio_8w`` = 0.6 reads "cooking activity down
40%", and ``*_z`` says how unusual that change is for this household.
"""

from __future__ import annotations

import numpy as np

from reference_numpy.window import _F, Days

MIN_BASELINE_DAYS = 14

# The features and SD floors are the package's: the reference checks the implementation.
from meterrisk.features.windows.deviation import DEVIATING, RATIOS  # noqa: E402,F401


def _enough(d: Days) -> np.ndarray:
    return d.base.sum(axis=1) >= MIN_BASELINE_DAYS


def _delta(d: Days, f: str) -> np.ndarray:
    return d.recent_mean[:, _F[f]] - d.baseline_mean[:, _F[f]]


def deltas(d: Days) -> dict[str, np.ndarray]:
    """{f}_delta: mean daily {f} over the last 28 days minus its mean over weeks 5-12 before as_of.

    Unit: as the daily feature
    Edge cases: null with fewer than 14 valid baseline days.
    """
    enough = _enough(d)
    return {f"{f}_delta": np.where(enough, _delta(d, f), np.nan) for f in DEVIATING}


def z_scores(d: Days) -> dict[str, np.ndarray]:
    """{f}_z: {f}_delta divided by the day-to-day SD of {f} in weeks 5-12 (floored per feature).

    Unit: standard deviations
    Edge cases: null with fewer than 14 valid baseline days.
    """
    enough = _enough(d)
    out = {}
    for f, floor in DEVIATING.items():
        sd = np.fmax(d.baseline_sd[:, _F[f]], floor)  # an undefined SD (< 2 days) gives the floor
        out[f"{f}_z"] = np.where(enough, _delta(d, f) / sd, np.nan)
    return out


def ratios(d: Days) -> dict[str, np.ndarray]:
    """{f}_ratio_8w: mean daily {f} over the last 4 weeks divided by its mean over weeks 5-12
    (0.6 = down 40%).

    Unit: ratio
    Edge cases: null with fewer than 14 valid baseline days or a baseline mean below 0.001.
    """
    enough = _enough(d)
    out = {}
    for f in RATIOS:
        base = d.baseline_mean[:, _F[f]]
        ok = enough & (base > 1e-3)
        out[f"{f}_ratio_8w"] = np.where(ok, d.recent_mean[:, _F[f]] / np.where(ok, base, 1.0), np.nan)
    return out


FAMILIES = [deltas, z_scores, ratios]
