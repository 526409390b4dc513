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
    BDAY_SHIFT_H, CYCLE_MIN_KWH, CYCLE_MIN_SLOTS, CYCLE_MIN_SWITCHES, DEPENDS_FORWARD,
    LOAD_FIRST_HOUR_END_H, LOAD_LEVEL_FROM_H, LOAD_MORNING_END_H, LOOKAHEAD_DAYS, MIN_COVERAGE,
    NIGHT_END_H, NIGHT_LOAD_MIN_KWH, NIGHT_START_H, READ_BEFORE, REGULARITY_DAYS,
    REGULARITY_MIN_DAYS, WAKE_AFTER_H,
)
from meterrisk.features.daily.inputs import NIGHT_FLOOR_END_H  # noqa: E402


def baseload(tl: Timeline) -> np.ndarray:
    """(H, D) baseload: the night floor, or the day floor (the same quantile of the 05:00-24:00
    readings >= 0 of the same 7 days) when the night floor is at least NIGHT_LOAD_MIN_KWH above
    the day floor and above its active threshold (a night load: storage heating, AC)."""
    night = night_baseload(tl)
    day = _floor(tl, tl.clock_min >= NIGHT_END_H * 60, need_tonight=False, consumption=True)
    with np.errstate(invalid="ignore"):
        raised = (night - day >= NIGHT_LOAD_MIN_KWH) & (night > active_threshold(day))
    return np.where(raised, day, night)


def night_baseload(tl: Timeline) -> np.ndarray:
    """(H, D) night floor: the 10th percentile (linear interpolation) of the 00:00-05:00 readings
    of the last 7 local days including today; NaN with fewer than 10 such readings, or when
    today has no night reading at all (such a day cannot reach 80% coverage anyway)."""
    return _floor(tl, tl.clock_min < NIGHT_END_H * 60, need_tonight=True)


def _floor(tl: Timeline, mask: np.ndarray, need_tonight: bool, consumption: bool = False) -> np.ndarray:
    """The 10th percentile of the readings in the ``mask`` columns of the last 7 days
    (``consumption``: only readings >= 0, exports of solar homes are not a floor)."""
    table = tl.columns_by_bin(np.zeros(len(tl.day), dtype=np.int64), 1, mask)[:, 0, :]
    nights = Timeline.gather(tl.kwh, table, np.nan)  # (H, D, k) night readings per day
    if consumption:
        nights = np.where(nights < 0, np.nan, nights)
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
    tonight = (~np.isnan(nights)).any(axis=2) | (not need_tonight)
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
    night_load_on: np.ndarray  # (H, D)
    night_wake_start: np.ndarray  # (H, T)


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
    load_on, wake_start = _night_load(tl, baseload_kwh, active, nxt1)
    # The half hours before the wake-up a night load leaves readable are the load's: not active
    # and no excess, but counted (sustained onsets and offsets keep the unmasked flags).
    until = tl.days.min_where(wake_start & (tl.clock_h >= WAKE_AFTER_H), tl.clock_h)
    until = np.where(np.isnan(until), LOAD_MORNING_END_H, until)
    with np.errstate(invalid="ignore"):
        hidden = (tl.days.spread(load_on.astype(np.float64)) == 1) & (tl.clock_h < tl.days.spread(until))
    return Activity(
        baseload_kwh=baseload_kwh, counted=counted, active=active & ~hidden,
        excess_kwh=np.where(hidden, 0.0, excess),
        sustained_start=active & (nxt1 | nxt2) & ~prv1,
        sustained_end=active & (prv1 | prv2) & ~nxt1,
        night_load_on=load_on, night_wake_start=wake_start,
    )


def _night_load(tl: Timeline, baseload_kwh: np.ndarray, active: np.ndarray,
                nxt1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per day, whether a night load hides the night (raised all night, or a thermostat
    cycling), and per half hour the wake onsets such a night leaves readable: active at t and
    t+1, from the load's end on (see meterrisk.features.daily.inputs)."""
    from reference_numpy.daily import _day_low_median

    days, clock_h, kwh = tl.days, tl.clock_h, tl.kwh
    base = days.spread(baseload_kwh)
    night = clock_h < NIGHT_FLOOR_END_H
    with np.errstate(invalid="ignore"):
        high = kwh >= base + CYCLE_MIN_KWH
        # Changes from the half hour before, within the day's night.
        first_of_day = np.r_[True, tl.day[1:] != tl.day[:-1]]
        switch = (high != np.concatenate([np.zeros((len(high), 1), dtype=bool), high[:, :-1]], axis=1)) \
            & night & ~first_of_day
        level = days.min_where(~np.isnan(kwh) & (clock_h >= LOAD_LEVEL_FROM_H) & night, kwh)
        first = days.min_where(~np.isnan(kwh) & (clock_h < LOAD_FIRST_HOUR_END_H), kwh)
        median = _day_low_median(kwh, night, days)
        load = baseload_kwh + NIGHT_LOAD_MIN_KWH
        raised = (median >= load) & (level >= load) & (first >= load)
        cycling = (days.sum(switch) >= CYCLE_MIN_SWITCHES) & (days.sum(high & night) >= CYCLE_MIN_SLOTS)
        mid = days.spread((baseload_kwh + level) / 2)
        prev = np.full_like(kwh, np.nan)
        prev[:, 1:] = kwh[:, :-1]
        fell = prev - kwh >= days.spread((level - baseload_kwh) / 2)
        below = ((kwh < mid) | fell) & (clock_h >= WAKE_AFTER_H) & (clock_h < LOAD_MORNING_END_H)
        load_end = np.where(raised, days.min_where(below, clock_h), WAKE_AFTER_H)
        wake_start = active & nxt1 & (clock_h >= days.spread(load_end))
    return raised | cycling, wake_start


def _shift(a: np.ndarray, by: int) -> np.ndarray:
    """a shifted along columns: out[:, t] = a[:, t - by], False where that is outside."""
    out = np.zeros_like(a)
    if by > 0:
        out[:, by:] = a[:, :-by]
    else:
        out[:, :by] = a[:, -by:]
    return out
