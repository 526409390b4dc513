"""Half-hour building blocks: the night baseload, and which half hours are active.

Everything downstream (daily features, profiles, circadian metrics) is defined on the flags
made here, so the thresholds live in one place. Zeros are readings; a missing half hour is
null and is never filled.
"""

from __future__ import annotations

import polars as pl

#: Night window for the baseload and night activity (local clock hours, [start, end)).
NIGHT_START_H, NIGHT_END_H = 0.0, 5.0
#: Baseload = this quantile of night slots over the last BASELOAD_DAYS days (incl. today).
BASELOAD_QUANTILE = 0.10
BASELOAD_DAYS = 7
#: Fewer night readings than this in the baseload window -> no baseload (day unusable).
BASELOAD_MIN_SLOTS = 10
#: Night loads (storage heating, air conditioning). The day floor is the same quantile of the
#: 05:00-24:00 half hours (readings >= 0) of the same 7 days; when the night floor sits at least
#: NIGHT_LOAD_MIN_KWH above it (and above its active threshold), something runs all night and
#: the day floor is the baseload instead. A night whose lower-median reading, whose first
#: hour (its lowest reading before LOAD_FIRST_HOUR_END_H) and whose level before the morning
#: (its lowest reading from LOAD_LEVEL_FROM_H to 04:30) all sit that far above the baseload,
#: or with CYCLE_MIN_SLOTS or more half hours CYCLE_MIN_KWH above it and CYCLE_MIN_SWITCHES
#: or more changes between such half hours and others (a thermostat cycling), cannot be read
#: for behaviour (daily.night.night_unreadable).
NIGHT_LOAD_MIN_KWH = 0.1
CYCLE_MIN_KWH = 0.2
CYCLE_MIN_SLOTS = 3
CYCLE_MIN_SWITCHES = 4
#: On a night with a raised load, the morning is read from the first half hour after 04:00
#: below the midpoint of the baseload and the night's level (or down by half the load), if
#: that comes before this hour,
LOAD_MORNING_END_H = 12.0
LOAD_LEVEL_FROM_H = 3.0
LOAD_FIRST_HOUR_END_H = 1.0
#: A slot is active when kwh > baseload + max(ACTIVE_MARGIN_KWH, ACTIVE_MARGIN_REL * baseload):
#: the margin absorbs refrigerator cycling and standby noise.
ACTIVE_MARGIN_KWH = 0.03
ACTIVE_MARGIN_REL = 0.5
#: Wake-up is looked for from this local clock hour on.
WAKE_AFTER_H = 4.0
#: Behavioural day boundary: activity before this hour counts towards the previous evening.
BDAY_SHIFT_H = 3
#: Days with coverage below this get null behavioural features and dq_flag 'low_coverage'.
MIN_COVERAGE = 0.8
#: Previous days the regularity norm profile uses, and how many of them must be valid.
REGULARITY_DAYS = 28
REGULARITY_MIN_DAYS = 14
#: Incremental updates. A changed day changes features up to DEPENDS_FORWARD days later
#: (its night feeds 7 baseloads, whose active profiles feed 28 regularity norms) and the
#: previous day (bedtime looks into the next morning).
DEPENDS_FORWARD = REGULARITY_DAYS + BASELOAD_DAYS - 1  # 34
LOOKAHEAD_DAYS = 1
#: Day rows needed before the first recomputed day: its baseload window, plus one day so the
#: previous evening's bedtime (for inactive_night_h) is exact. Older days' active profiles
#: come from daily_profiles.halfhour_active.
READ_BEFORE = BASELOAD_DAYS


def active_threshold(baseload_kwh: pl.Expr) -> pl.Expr:
    """kWh a half hour must exceed to count as active: baseload plus a noise margin."""
    return baseload_kwh + pl.max_horizontal(pl.lit(ACTIVE_MARGIN_KWH), ACTIVE_MARGIN_REL * baseload_kwh)


def is_active(kwh: pl.Expr, baseload_kwh: pl.Expr) -> pl.Expr:
    """Above the threshold; False for a missing reading or a day without baseload."""
    return (kwh > active_threshold(baseload_kwh)).fill_null(False)
