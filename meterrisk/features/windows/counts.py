"""Day counts over the window: data sufficiency and days of a kind (floor days, no meals...).

Each function takes the :class:`~meterrisk.features.windows.sums.Window` and returns one
expression, named after the function; counts are Int32 in household_features.
"""

from __future__ import annotations

import polars as pl

from meterrisk.features.windows.spans import BASELINE, HISTORY_DAYS, RECENT
from meterrisk.features.windows.sums import HAS_ROW, H, T, VALID, Window

DTYPE = pl.Int32  # every column of this module


def valid_days_28d(w: Window) -> pl.Expr:
    """Days in the 28 up to as_of with coverage >= 0.8 and a baseload (dq_flag 'ok').

    Unit: days
    """
    return w.total(VALID, RECENT)


def days_with_readings_28d(w: Window) -> pl.Expr:
    """Days in the 28 up to as_of with at least one reading.

    Unit: days
    """
    return w.total(HAS_ROW, RECENT)


def valid_days_baseline(w: Window) -> pl.Expr:
    """Valid days in weeks 5-12 before as_of (the household's own baseline for deviations).

    Unit: days
    """
    return w.total(VALID, BASELINE)


def days_since_last_reading(w: Window) -> pl.Expr:
    """Days from the last day with readings to as_of (0 = readings on as_of), within 12 weeks.

    Unit: days
    """
    last = pl.when(HAS_ROW).then(pl.col(T)).forward_fill().over(H)
    age = w.at_as_of(pl.col(T)) - w.at_as_of(last)
    return pl.when(age < HISTORY_DAYS).then(age)


def floor_days_28d(w: Window) -> pl.Expr:
    """Valid days in the last 28 with active_share below 0.05: whole days at the floor
    (away, in hospital, or not moving; electricity alone cannot tell which).

    Unit: days
    """
    return w.total(VALID & (pl.col("active_share") < 0.05).fill_null(False), RECENT)


def no_meal_days_28d(w: Window) -> pl.Expr:
    """Valid days in the last 28 with no active cooking window (meal_windows_active = 0).

    Unit: days
    """
    return w.total(VALID & (pl.col("meal_windows_active") == 0).fill_null(False), RECENT)


def stuck_on_days_28d(w: Window) -> pl.Expr:
    """Valid days in the last 28 with load held 0.25 kWh above baseload for 6 h or more
    (stuck_on_h >= 6: something left on, or long continuous heating).

    Unit: days
    """
    return w.total(VALID & (pl.col("stuck_on_h") >= 6).fill_null(False), RECENT)


def restless_nights_28d(w: Window) -> pl.Expr:
    """Valid days in the last 28 with night_activity_share above 0.2 (day/night reversal sign).

    Unit: days
    Edge cases: nights a night load hides (night_unreadable) have no night_activity_share and
    are not counted.
    """
    return w.total(VALID & (pl.col("night_activity_share") > 0.2).fill_null(False), RECENT)


def late_wake_days_28d(w: Window) -> pl.Expr:
    """Valid days in the last 28 with no sustained activity before 10:00 (late or no wake-up).

    Unit: days
    Edge cases: a day without a wake time after a night load (night_unreadable: the morning
    cannot be read) is not counted.
    """
    unread = (pl.col("night_unreadable") == 1).fill_null(False)
    late = (pl.col("wake_time_h") >= 10).fill_null(~unread)
    return w.total(VALID & late, RECENT)
