"""Sleep and waking: when sustained activity starts in the morning and ends at night.

Bedtime belongs to the behavioural day (03:00 to 03:00 next morning), so a bedtime of 00:30
reads 24.5 h on the evening it ends, and the day's bedtime reads the next morning's readings
(NEXT_MORNING below).
"""

from __future__ import annotations

import polars as pl

from meterrisk.features import activity as A
from meterrisk.features.halfhours import HalfHours

WAKE_AFTER_H = A.WAKE_AFTER_H
#: The features of a day that read the next morning's readings (the evening is seen to its
#: end only after 03:00 next day). A window as of a date leaves them out for that date, so
#: it depends on readings up to the end of its as_of only: computed on the evening of as_of,
#: or weeks later, it is the same window, and it never goes stale when the next day arrives.
NEXT_MORNING = ("bed_time_h", "longest_inactive_run_h")


def wake_time_h(sustained_start: HalfHours, night_wake_h: pl.Expr, night_unreadable: pl.Expr) -> pl.Expr:
    """Wake time: first onset of sustained activity (2 of 3 consecutive half hours active,
    the half hour before not active) at or after 04:00. After a night load (night_unreadable):
    the first 2 consecutive active half hours once the load has gone (a raised load: from the
    first half hour after 04:00 below the midpoint of the baseload and the night's level, or
    down by half the load from the half hour before; a cycling one: from 04:00).

    Unit: hours (local clock; 06:30 -> 6.5)
    Edge cases: null when no sustained activity starts all day (away, or no one active), or
    when a raised night load runs on until 12:00 (the morning cannot be read). Activity running
    on from the night (e.g. a water heater until 05:00) is not a wake-up; neither is a heater
    or air conditioner switching on and off.
    """
    ordinary = sustained_start.from_(WAKE_AFTER_H).first_clock()
    return pl.when(night_unreadable == 1).then(night_wake_h).otherwise(ordinary)


def bed_time_h(bday_sustained_end: HalfHours, bday_present: HalfHours, present_slots: pl.Expr) -> pl.Expr:
    """Bedtime: end of the last sustained activity (its next half hour not active) after 04:00
    and before 03:00 next morning.

    Unit: hours (local clock; may exceed 24: 00:30 next morning -> 24.5)
    Edge cases: null when no sustained activity, or fewer than 4 of the next morning's
    00:00-03:00 half hours are present (the evening cannot be seen to its end), or when the
    next night cannot be read (night_unreadable the next day: the evening runs into the night
    load; the engine nulls it, as it does longest_inactive_run_h).
    """
    last_end = bday_sustained_end.from_(WAKE_AFTER_H).last_end()
    next_morning = bday_present.from_(24.0).count()
    # A date without readings of its own has no evening to end, whatever the night after shows.
    return pl.when((next_morning >= 4) & (present_slots > 0)).then(last_end)


def inactive_night_h(wake_time_h: pl.Expr, prev_bed_time_h: pl.Expr) -> pl.Expr:
    """Hours from the previous evening's bedtime to this morning's wake time (sleep proxy).

    Unit: hours
    Edge cases: null unless both the previous calendar day's bedtime and today's wake time exist.
    """
    return wake_time_h + 24.0 - prev_bed_time_h


def longest_inactive_run_h(bday_counted: HalfHours, bday_active: HalfHours, wake_time_h: pl.Expr,
                           bed_time_h: pl.Expr) -> pl.Expr:
    """Longest run of consecutive inactive half hours between wake time and bedtime.

    Unit: hours
    Edge cases: null when wake or bed time is null; a gap ends a run.
    """
    awake = HalfHours(tuple(((pl.lit(c) >= wake_time_h) & (pl.lit(c) < bed_time_h)).fill_null(False)
                            for c in bday_counted.clock_h), bday_counted.clock_h)
    run = (bday_counted & ~bday_active & awake).longest_run() * 0.5
    return pl.when(wake_time_h.is_not_null() & bed_time_h.is_not_null()).then(run)
