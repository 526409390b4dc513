"""Which days a household window reads, and which daily columns it summarises.

A window as of date A reads the daily rows of A-83 .. A. Spans are given in days of age
(days before A): ``(lo, hi)`` covers ages lo .. hi-1. The as_of day's next-morning features
(``NEXT_MORNING``) are left out of every span, so a window reads no readings after its as_of.
"""

from __future__ import annotations

from meterrisk.features.daily import NEXT_MORNING

RECENT_DAYS = 28
BASELINE_FIRST, BASELINE_LAST = 28, 83  # weeks 5-12 before as_of, in days of age
HISTORY_DAYS = 84
MIN_VALID_DAYS = 21
MIN_BASELINE_DAYS = 14

RECENT = (0, RECENT_DAYS)
BASELINE = (BASELINE_FIRST, HISTORY_DAYS)
HISTORY = (0, HISTORY_DAYS)

#: Daily features summarised by mean and SD over the last 28 days (name, unit).
SUMMARISED = {
    "daily_kwh": "kWh", "baseload_kwh": "kWh per half hour", "excess_kwh": "kWh",
    "peak_kwh": "kWh per half hour", "peak_time_h": "hours (local clock)",
    "active_share": "fraction", "night_activity_share": "fraction",
    "wake_time_h": "hours (local clock)", "bed_time_h": "hours (local clock, may exceed 24)",
    "inactive_night_h": "hours", "longest_inactive_run_h": "hours", "breakfast_kwh": "kWh",
    "lunch_kwh": "kWh", "dinner_kwh": "kWh", "meal_kwh": "kWh", "meal_windows_active": "count",
    "daytime_floor_h": "hours", "longest_daytime_floor_h": "hours", "stuck_on_h": "hours",
    "regularity_corr": "correlation", "night_blips": "count", "night_unreadable": "fraction",
}
#: Daily features with 4/8/12-week trends.
TRENDED = ["wake_time_h", "bed_time_h", "active_share", "daily_kwh", "excess_kwh", "meal_kwh",
           "regularity_corr", "daytime_floor_h", "night_activity_share", "longest_inactive_run_h"]
TREND_WEEKS = {4: 14, 8: 28, 12: 42}  # weeks -> minimum valid days for a slope
#: Weekend (Sat, Sun) minus weekday mean over the last 28 days.
WEEKEND = ["daily_kwh", "wake_time_h", "active_share", "daytime_floor_h"]

#: Window columns kept when a window has too few valid days (everything else is nulled).
ALWAYS_SET = ("valid_days_28d", "days_with_readings_28d", "valid_days_baseline", "days_since_last_reading")


def of_feature(feature: str, span: tuple[int, int]) -> tuple[int, int]:
    """``span`` as it applies to daily ``feature``: age 0 is left out for NEXT_MORNING features."""
    lo, hi = span
    return (max(lo, 1), hi) if feature in NEXT_MORNING else span
