"""Window features (meterrisk.features.windows) on hand-made daily rows with known answers."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from meterrisk.features import registry
from meterrisk.features.catalog import window_columns
from meterrisk.features.windows.frame import window_frame
from meterrisk.features.windows.spans import SUMMARISED

AS_OF = date(2025, 6, 30)
EMPTY_PROFILES = pl.DataFrame(schema={"household_id": pl.String, "local_date": pl.Date,
                                      "hourly_excess_kwh": pl.Array(pl.Float64, 24),
                                      "hourly_active_slots": pl.Array(pl.Float64, 24)})


def daily(ages, household="a", **features) -> pl.DataFrame:
    """Valid daily rows at ``ages`` (days before AS_OF); features given as a value or a
    function of age, every other summarised feature 1.0."""
    rows = []
    for age in ages:
        row = {"household_id": household, "local_date": AS_OF - timedelta(days=age), "dq_flag": "ok"}
        for f in SUMMARISED:
            v = features.get(f, 1.0)
            row[f] = float(v(age)) if callable(v) else v
        row["temp_c"] = None
        rows.append(row)
    schema = {"household_id": pl.String, "local_date": pl.Date, "dq_flag": pl.String,
              **{f: pl.Float64 for f in SUMMARISED}, "temp_c": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def one(days: pl.DataFrame, profiles: pl.DataFrame = EMPTY_PROFILES, as_of: date = AS_OF) -> dict:
    requests = pl.DataFrame({"household_id": [days["household_id"][0]], "as_of": [as_of]})
    return window_frame(requests, days, profiles).to_dicts()[0]


def test_a_constant_series_has_an_sd_of_exactly_zero():
    # 0.1 is not a binary fraction: sums of it round, and an SD from raw sums of squares
    # would be ~1e-9 instead of 0.
    row = one(daily(range(84), daily_kwh=0.1, regularity_corr=0.7, peak_kwh=lambda a: 0.3 if a < 40 else 0.2))
    assert row["daily_kwh_sd_28d"] == 0.0
    assert row["regularity_corr_sd_28d"] == 0.0
    assert row["peak_kwh_sd_28d"] == 0.0  # constant in the window, not over the household's rows
    assert row["daily_kwh_mean_28d"] == pytest.approx(0.1, rel=1e-15)
    assert row["daily_kwh_slope_12w"] == pytest.approx(0.0, abs=1e-15)
    assert row["peak_kwh_z"] == pytest.approx((0.3 - (0.3 * 12 + 0.2 * 44) / 56) / 0.05, rel=1e-12)


def test_a_trend_of_one_hour_per_week_has_slope_one():
    row = one(daily(range(84), wake_time_h=lambda age: 9.0 - age / 7.0))
    for weeks in (4, 8, 12):
        assert row[f"wake_time_h_slope_{weeks}w"] == pytest.approx(1.0, rel=1e-12)
    assert row["wake_time_h_delta"] == pytest.approx(6.0, rel=1e-12)  # mean age 13.5 vs 55.5: 6 weeks


def test_the_as_of_days_next_morning_features_are_left_out():
    days = daily(range(84), bed_time_h=lambda age: 22.0 if age else 30.0)
    row = one(days)
    assert row["bed_time_h_mean_28d"] == 22.0 and row["bed_time_h_sd_28d"] == 0.0
    assert row["longest_inactive_run_h_mean_28d"] == 1.0
    assert row["days_with_readings_28d"] == 28 and row["valid_days_28d"] == 28


def test_gating_and_counts():
    days = daily([*range(20), *range(30, 84)], active_share=lambda a: 0.01 if a < 3 else 0.3)
    row = one(days)
    assert row["dq_flag"] == "insufficient_data" and row["valid_days_28d"] == 20
    assert row["valid_days_baseline"] == 54 and row["floor_days_28d"] is None
    row = one(daily(range(2, 30), active_share=lambda a: 0.01 if a < 5 else 0.3))
    assert row["dq_flag"] == "no_baseline" and row["valid_days_baseline"] == 2
    assert row["floor_days_28d"] == 3 and row["days_since_last_reading"] == 2
    assert row["daily_kwh_delta"] is None and row["daily_kwh_mean_28d"] == 1.0
    assert one(daily(range(100, 120)), as_of=AS_OF)["days_since_last_reading"] is None


def test_circadian_of_identical_days():
    days = daily(range(84))
    day = [0.0] * 7 + [1.0, 2.0] + [0.5] * 12 + [1.5, 1.0, 0.0]
    n = days.height
    profiles = days.select("household_id", "local_date").with_columns(
        hourly_excess_kwh=pl.Series([day] * n, dtype=pl.Array(pl.Float64, 24)),
        hourly_active_slots=pl.Series([[float(v > 0) for v in day]] * n, dtype=pl.Array(pl.Float64, 24)))
    row = one(days, profiles)
    assert row["interdaily_stability_28d"] == 1.0
    assert row["l5_kwh_28d"] == 0.0 and row["l5_onset_h_28d"] == 0.0  # hours 0-4, the first of three
    assert row["m10_onset_h_28d"] == 7.0
    assert row["m10_kwh_28d"] == pytest.approx((1 + 2 + 0.5 * 8) / 10, rel=1e-12)
    steps = np.diff(np.array(day * 28)) ** 2  # the night steps 00:00 <- 23:00 count too
    x = np.array(day * 28)
    assert row["intradaily_variability_28d"] == pytest.approx(steps.mean() / x.var(), rel=1e-12)
    assert row["interdaily_stability_delta"] == 0.0


def test_registry_lists_every_window_column_in_catalogue_order():
    from meterrisk.features.windows.sums import Window

    names = [c.name for c in registry.window_columns(Window())]
    assert names + ["dq_flag"] == window_columns()
    assert len(set(names)) == len(names)
    private = [f for m in registry.modules(registry.WINDOW_MODULES) for f in registry.public_functions(m)
               if f.__name__.startswith("_")]
    assert private == []


def test_catalogue_is_the_one_before_the_registry(tmp_path):
    """Names, levels, units, descriptions and order as the numpy engine's catalogue had them
    (tests/reference_numpy/feature_catalog.csv), and the window columns in the order of the
    household_features table the migrations create."""
    from pathlib import Path

    from meterrisk import store
    from meterrisk.features.catalog import catalog

    want = pl.read_csv(Path(__file__).parent / "reference_numpy" / "feature_catalog.csv", infer_schema=False)
    got = catalog()
    assert got.columns == want.columns
    for c in got.columns:
        assert got[c].fill_null("").to_list() == want[c].fill_null("").to_list(), c
    con = store.connect(tmp_path / "s.duckdb")
    table = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'household_features' "
        "ORDER BY ordinal_position").fetchall()]
    con.close()
    assert [c for c in table if c not in ("household_id", "as_of", "computed_at")] == window_columns()


def test_read_ranges_merge_overlapping_windows_and_skip_the_gaps():
    from meterrisk.features.store_io import _read_ranges

    d = date(2025, 1, 1)
    days = [0, 90, 120, 400, 401]  # 90's window starts 6 days after 0's ends; 120's overlaps 90's
    requests = pl.DataFrame({"household_id": ["a"] * len(days) + ["b"],
                             "as_of": [d + timedelta(days=k) for k in days] + [d]})
    got = _read_ranges(requests, 84).sort("household_id", "lo")
    assert got.rows() == [("a", d - timedelta(days=83), d),
                          ("a", d + timedelta(days=90 - 83), d + timedelta(days=120)),
                          ("a", d + timedelta(days=400 - 83), d + timedelta(days=401)),
                          ("b", d - timedelta(days=83), d)]
