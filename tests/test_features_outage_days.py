"""A day whose readings never change (all exactly 0 kWh, or one value repeated: a meter or
communication fault, issue 13's "outages are not inactivity") is a data-quality day, not a
day without activity. Before the fix it was a valid day with no activity, no meals and no
wake-up, so a two-week outage read like a resident who had stopped cooking and getting up."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from test_features_grid import both, calendar_of
from test_features_night_loads import FIRST, readings

from meterrisk.features import daily, dayframe

ZONE = "Asia/Tokyo"
ZERO_DAY, FLAT_DAY = FIRST + timedelta(days=9), FIRST + timedelta(days=10)


def with_outages() -> pl.DataFrame:
    r = readings()
    return r.with_columns(kwh=pl.when(pl.col("local_date") == ZERO_DAY).then(0.0)
                          .when(pl.col("local_date") == FLAT_DAY).then(0.047).otherwise(pl.col("kwh")))


def test_unchanging_days_are_meter_outages_not_still_days():
    r = with_outages()
    days, _ = daily.compute_daily(dayframe.from_readings(r, ZONE), calendar_of(r), ZONE)
    out = days.filter(pl.col("local_date").is_in([ZERO_DAY, FLAT_DAY]))
    assert out["dq_flag"].to_list() == ["meter_outage", "meter_outage"]
    for c in ("active_share", "wake_time_h", "meal_windows_active", "daily_kwh", "longest_inactive_run_h"):
        assert out[c].is_null().all(), c
    # Accounting still says what the day held: 48 readings, 48 of them zero on the zero day.
    assert out["present_slots"].to_list() == [48, 48]
    assert out["zero_slots"].to_list() == [48, 0]
    others = days.filter(~pl.col("local_date").is_in([ZERO_DAY, FLAT_DAY]) & (pl.col("local_date") >= FIRST + timedelta(days=7)))
    assert (others["dq_flag"] == "ok").all()


def test_a_day_with_any_change_is_read_as_usual():
    # One half hour 0.001 kWh above the rest: the meter is reporting, the home is just still.
    r = with_outages().with_columns(
        kwh=pl.when((pl.col("local_date") == ZERO_DAY) & (pl.col("local_ts").dt.hour() == 3)
                    & (pl.col("local_ts").dt.minute() == 0)).then(0.001).otherwise(pl.col("kwh")))
    days, _ = daily.compute_daily(dayframe.from_readings(r, ZONE), calendar_of(r), ZONE)
    assert days.filter(pl.col("local_date") == ZERO_DAY)["dq_flag"].item() != "meter_outage"


def test_both_engines_agree_on_outage_days():
    r = with_outages()
    both(r, calendar_of(r))
