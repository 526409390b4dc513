"""Half-hour building blocks on the timeline: the night baseload and active half hours.

Everything downstream (daily features, circadian metrics) is defined on the arrays made
here, so the thresholds live in one place. Zeros are readings; a missing half hour is NaN
in the timeline and is never filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference_numpy.timeline import Timeline

# Thresholds are the package's: the reference checks the implementation, not the definitions.
from meterrisk.features.activity import (  # noqa: E402,F401
    ACTIVE_MARGIN_KWH, ACTIVE_MARGIN_REL, BASELOAD_DAYS, BASELOAD_MIN_SLOTS, BASELOAD_QUANTILE,
    BDAY_SHIFT_H, DEPENDS_FORWARD, LOOKAHEAD_DAYS, MIN_COVERAGE, NIGHT_END_H, NIGHT_START_H,
    READ_BEFORE, REGULARITY_DAYS, REGULARITY_MIN_DAYS,
)


def night_baseload(tl: Timeline) -> np.ndarray:
    """(H, D) baseload: the 10th percentile (linear interpolation) of the 00:00-05:00 readings
    of the last 7 local days including today; NaN with fewer than 10 such readings, or when
    today has no night reading at all (such a day cannot reach 80% coverage anyway)."""
    table = tl.columns_by_bin(np.zeros(len(tl.day), dtype=np.int64), 1,
                              tl.clock_min < NIGHT_END_H * 60)[:, 0, :]
    nights = Timeline.gather(tl.kwh, table, np.nan)  # (H, D, k) night readings per day
    h, d, k = nights.shape
    padded = np.concatenate([np.full((h, BASELOAD_DAYS - 1, k), np.nan), nights], axis=1)
    window = np.lib.stride_tricks.sliding_window_view(padded, BASELOAD_DAYS, axis=1).reshape(h, d, -1)
    n = (~np.isnan(window)).sum(axis=2)
    # Only the smallest few values matter for a 10th percentile: partition, then sort those.
    smallest = min(int(BASELOAD_QUANTILE * (window.shape[2] - 1)) + 2, window.shape[2])
    ordered = np.sort(np.partition(np.where(np.isnan(window), np.inf, window), smallest - 1, axis=2)
                      [:, :, :smallest], axis=2)
    pos = BASELOAD_QUANTILE * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    lo_v = np.take_along_axis(ordered, np.minimum(lo, smallest - 1)[..., None], axis=2)[..., 0]
    hi_v = np.take_along_axis(ordered, np.minimum(hi, smallest - 1)[..., None], axis=2)[..., 0]
    with np.errstate(invalid="ignore"):
        q = lo_v + (pos - lo) * (hi_v - lo_v)
    tonight = (~np.isnan(nights)).any(axis=2)
    return np.where((n >= BASELOAD_MIN_SLOTS) & tonight, q, np.nan)



def active_threshold(baseload_kwh: np.ndarray) -> np.ndarray:
    """kWh a half hour must exceed to count as active: baseload plus a noise margin."""
    return baseload_kwh + np.maximum(ACTIVE_MARGIN_KWH, ACTIVE_MARGIN_REL * baseload_kwh)


@dataclass
class Activity:
    """Per half hour (H, T): ``counted`` (a reading on a day with a baseload: the half hours
    activity shares are taken over), ``active``, ``excess_kwh`` above the baseload (0 where not
    counted) and the sustained onsets/offsets; per day (H, D): ``baseload_kwh``."""

    baseload_kwh: np.ndarray
    counted: np.ndarray
    active: np.ndarray
    excess_kwh: np.ndarray
    sustained_start: np.ndarray
    sustained_end: np.ndarray


def activity(tl: Timeline, baseload_kwh: np.ndarray) -> Activity:
    base = tl.days.spread(baseload_kwh)
    present = tl.present
    counted = present & ~np.isnan(base)
    with np.errstate(invalid="ignore"):
        active = tl.kwh > active_threshold(base)  # False wherever either side is NaN
        excess = np.where(counted, np.maximum(tl.kwh - base, 0.0), 0.0)
    # Neighbours by column: the next column is the next half hour for every household, and a
    # missing reading is neither active nor present, so gaps break runs. "Sustained": at least
    # 2 of 3 consecutive half hours active, anchored on this one. Starts must be onsets (the
    # half hour before is not active) and ends offsets, so load that runs on from the night
    # (an all-electric home's water heater until 05:00) is not read as waking at 04:00.
    nxt1, nxt2 = _shift(active, -1), _shift(active, -2) & _shift(present, -1)
    prv1, prv2 = _shift(active, 1), _shift(active, 2) & _shift(present, 1)
    return Activity(
        baseload_kwh=baseload_kwh, counted=counted, active=active, excess_kwh=excess,
        sustained_start=active & (nxt1 | nxt2) & ~prv1,
        sustained_end=active & (prv1 | prv2) & ~nxt1,
    )


def _shift(a: np.ndarray, by: int) -> np.ndarray:
    """a shifted along columns: out[:, t] = a[:, t - by], False where that is outside."""
    out = np.zeros_like(a)
    if by > 0:
        out[:, by:] = a[:, :-by]
    else:
        out[:, :by] = a[:, -by:]
    return out
