"""Night blips (daily) and their 12-week mean (window) on hand-built days with known answers."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from test_features_support import daily_row, days, routine, store_readings, tokyo_day

from meterrisk import features
from meterrisk.features.daily.inputs import lower_median

D0 = date(2025, 1, 1)


def with_bumps(bumps: dict[float, float]):
    """routine() plus ``bumps[h]`` kWh in the half hour starting at clock hour h."""
    base = routine()
    return lambda h: base(h) + bumps.get(h, 0.0)


def test_night_blips_count_small_bumps_above_the_nights_median(tokyo):
    night = date(2025, 1, 8)
    frames = [tokyo_day("a", d, routine()) for d in days(D0, 7)]
    # 01:00 +0.05 and 03:30 +0.1 count; 02:00 +0.02 is too small, 03:00 +0.5 (a water heater)
    # too big; 04:30 +0.05 is after the night window.
    frames.append(tokyo_day("a", night, with_bumps({1.0: 0.05, 2.0: 0.02, 3.0: 0.5, 3.5: 0.1, 4.5: 0.05})))
    # Only 6 of the 9 half hours 00:00-04:00 present (coverage 45/48 is still fine): no count.
    gappy = tokyo_day("a", night + timedelta(days=1), with_bumps({1.0: 0.05}))
    frames.append(gappy.with_row_index("i").filter(~pl.col("i").is_in([3, 5, 7])).drop("i"))  # 01:30, 02:30, 03:30
    store_readings(tokyo, pl.concat(frames))
    features.compute(tokyo)
    assert daily_row(tokyo, "a", night)["night_blips"] == 2
    assert daily_row(tokyo, "a", date(2025, 1, 7))["night_blips"] == 0
    gap_row = daily_row(tokyo, "a", night + timedelta(days=1))
    assert gap_row["present_slots"] == 45 and gap_row["dq_flag"] == "ok"
    assert gap_row["night_blips"] is None


def test_night_blips_floor_is_the_nights_own_median_not_the_baseload(tokyo):
    # A warm night (heater on low all night, +0.04 over last week's floor): not a blip, because
    # every half hour rises together; one light on top of it still counts.
    store_readings(tokyo, pl.concat(
        [tokyo_day("a", d, routine()) for d in days(D0, 7)]
        + [tokyo_day("a", date(2025, 1, 8), lambda h: routine()(h) + (0.04 if h < 5 else 0.0) + (0.06 if h == 2.0 else 0.0))]))
    features.compute(tokyo)
    assert daily_row(tokyo, "a", date(2025, 1, 8))["night_blips"] == 1


def test_low_median_of_an_even_count_is_the_lower_middle_reading():
    frame = pl.DataFrame({"a": [0.05, None, None], "b": [0.01, None, 0.3], "c": [0.04, None, None],
                          "d": [0.02, None, None]})
    got = frame.select(lower_median([pl.col(c) for c in "abcd"]).alias("m"))["m"].to_list()
    assert got == [0.02, None, 0.3]


def test_night_blips_mean_84d_reads_the_whole_window(tokyo):
    # 8 weeks with two blips a night, then 4 weeks with none: 28-day mean 0, 84-day mean 4/3.
    early = [tokyo_day("a", d, with_bumps({1.0: 0.05, 2.5: 0.08})) for d in days(D0, 56)]
    late = [tokyo_day("a", d, routine()) for d in days(D0 + timedelta(days=56), 28)]
    store_readings(tokyo, pl.concat(early + late))
    as_of = D0 + timedelta(days=83)
    row = features.window_features(tokyo, pl.DataFrame({"household_id": ["a"], "as_of": [as_of]})).to_dicts()[0]
    assert row["valid_days_28d"] == 28
    assert row["night_blips_mean_28d"] == 0.0 and row["night_blips_sd_28d"] == 0.0
    assert row["night_blips_mean_84d"] == pytest.approx(2 * 56 / 84)
