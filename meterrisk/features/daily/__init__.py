"""Daily features: one row per household and local date with readings.

Each feature is a function in one of the modules below, named after its output column, that
returns a ``pl.Expr`` over the day frame (:mod:`meterrisk.features.dayframe`). Its parameters
name what it needs: the half-hour inputs of :mod:`meterrisk.features.daily.inputs` (``kwh``,
``active``, ``counted``, ``excess``, ``sustained_start``, ``bday_*``, ``baseload``), cross-day
inputs (``prev_bed_time_h``; ``halfhour_active``/``norm_*`` for regularity), or features
computed before it. Docstrings carry the definition, ``Unit:`` and edge cases; the catalogue is
built from them. To add a feature, write one such function in the module it belongs to.

Coverage rule: a day with coverage < 0.8, or without a baseload, keeps its accounting
columns (expected/present/zero slots, coverage, dq_flag) but every behavioural feature is
null. Values are never imputed.
"""

from meterrisk.features.daily.engine import compute_daily, feature_functions
from meterrisk.features.daily.meals import EVENING, MORNING, NOON
from meterrisk.features.daily.night import BLIP_END_H, BLIP_MAX_KWH, BLIP_MIN_KWH, BLIP_MIN_SLOTS
from meterrisk.features.daily.outings import DAYTIME, STUCK_MIN_LEVEL_KWH
from meterrisk.features.daily.sleep import NEXT_MORNING, WAKE_AFTER_H


ACCOUNTING = ["expected_slots", "present_slots", "zero_slots", "coverage", "dq_flag"]
BEHAVIOURAL = [
    "daily_kwh", "baseload_kwh", "excess_kwh", "peak_kwh", "peak_time_h", "active_slots",
    "active_share", "night_activity_share", "wake_time_h", "bed_time_h", "inactive_night_h",
    "longest_inactive_run_h", "breakfast_kwh", "lunch_kwh", "dinner_kwh", "meal_kwh",
    "meal_windows_active", "daytime_floor_h", "longest_daytime_floor_h", "stuck_on_h",
    "regularity_corr", "night_blips", "night_unreadable",
]
#: daily_features' columns, in table order.
COLUMNS = ["household_id", "local_date", *ACCOUNTING, *BEHAVIOURAL]
INTEGER = {"expected_slots", "present_slots", "zero_slots", "active_slots", "meal_windows_active",
           "night_blips", "night_unreadable"}

__all__ = ["ACCOUNTING", "BEHAVIOURAL", "CATALOGUED", "COLUMNS", "INTEGER", "NEXT_MORNING", "compute_daily",
           "feature_functions", "MORNING", "NOON", "EVENING", "DAYTIME", "WAKE_AFTER_H", "STUCK_MIN_LEVEL_KWH",
           "BLIP_END_H", "BLIP_MIN_KWH", "BLIP_MAX_KWH", "BLIP_MIN_SLOTS"]

#: Every daily feature function (the catalogue documents them from their docstrings).
CATALOGUED = feature_functions()
