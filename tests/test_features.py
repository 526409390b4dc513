"""Daily features on hand-built days with known answers; catalogue; store behaviour."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from test_features_support import daily_row, days, local_day, q, routine, store_readings, tokyo_day

from meterrisk import features, store

D0 = date(2025, 1, 1)


def load_days(con, household, dates, kwh_at, **kw):
    store_readings(con, pl.concat([tokyo_day(household, d, kwh_at) for d in dates]), **kw)


def test_wake_and_bed_time_of_a_regular_day(tokyo):
    load_days(tokyo, "a", days(D0, 10), routine(wake=6.5, bed=22.5))
    features.compute(tokyo)
    row = daily_row(tokyo, "a", date(2025, 1, 5))
    assert row["wake_time_h"] == pytest.approx(6.5, abs=0.5)
    assert row["bed_time_h"] == pytest.approx(22.5, abs=0.5)
    assert row["inactive_night_h"] == pytest.approx(8.0, abs=1.0)
    assert row["coverage"] == 1.0 and row["dq_flag"] == "ok"
    assert row["baseload_kwh"] == pytest.approx(0.03)
    assert row["active_slots"] == 32 and row["active_share"] == pytest.approx(32 / 48)
    assert row["daily_kwh"] == pytest.approx(48 * 0.03 + 32 * 0.3)
    assert row["excess_kwh"] == pytest.approx(32 * 0.3)
    assert row["night_activity_share"] == 0.0
    assert row["meal_windows_active"] == 3
    assert row["breakfast_kwh"] == pytest.approx(5 * 0.3)  # 06:30-09:00
    assert row["lunch_kwh"] == pytest.approx(5 * 0.3)  # 11:00-13:30
    assert row["dinner_kwh"] == pytest.approx(6 * 0.3)  # 17:00-20:00
    assert row["meal_kwh"] == pytest.approx(16 * 0.3)
    assert row["daytime_floor_h"] == 0.0 and row["longest_inactive_run_h"] == 0.0


def test_bedtime_after_midnight_reads_past_24(tokyo):
    load_days(tokyo, "a", days(D0, 10), lambda h: 0.03 + (0.3 if h >= 9.0 or h < 1.0 else 0.0))
    features.compute(tokyo)
    row = daily_row(tokyo, "a", date(2025, 1, 5))
    assert row["wake_time_h"] == pytest.approx(9.0, abs=0.5)
    # 00:00-01:00 belongs to the previous evening: bed at 01:00 next morning = 25.0
    assert row["bed_time_h"] == pytest.approx(25.0, abs=0.5)


def test_night_activity_shows_in_night_share(tokyo):
    load_days(tokyo, "a", days(D0, 7), routine())
    restless = date(2025, 1, 8)
    load_days(tokyo, "a", [restless], lambda h: routine()(h) + (0.4 if 1.0 <= h < 3.0 else 0.0))
    load_days(tokyo, "a", [date(2025, 1, 9)], routine())
    features.compute(tokyo)
    row = daily_row(tokyo, "a", restless)
    # 4 of the 10 half hours between 00:00 and 05:00 active (baseload stays the 10th percentile)
    assert row["night_activity_share"] == pytest.approx(0.4)
    assert daily_row(tokyo, "a", date(2025, 1, 7))["night_activity_share"] == 0.0


def test_zero_readings_are_readings(tokyo):
    load_days(tokyo, "a", days(D0, 8), routine(base=0.0))
    features.compute(tokyo)
    row = daily_row(tokyo, "a", date(2025, 1, 4))
    assert row["present_slots"] == 48 and row["zero_slots"] == 16 and row["coverage"] == 1.0
    assert row["baseload_kwh"] == 0.0 and row["dq_flag"] == "ok"
    assert row["wake_time_h"] == pytest.approx(6.5, abs=0.5)


def test_gap_day_gets_nulls_and_a_flag(tokyo):
    load_days(tokyo, "a", days(D0, 5), routine())
    gap = date(2025, 1, 6)
    partial = tokyo_day("a", gap, routine()).slice(0, 30)  # readings stop at 15:00
    store_readings(tokyo, partial)
    load_days(tokyo, "a", [date(2025, 1, 7)], routine())
    features.compute(tokyo)
    row = daily_row(tokyo, "a", gap)
    assert row["present_slots"] == 30 and row["coverage"] == pytest.approx(30 / 48)
    assert row["dq_flag"] == "low_coverage"
    for col in ("wake_time_h", "bed_time_h", "daily_kwh", "active_share", "meal_kwh", "regularity_corr"):
        assert row[col] is None, col
    # The evening before the gap day cannot see the gap day's early morning? It can: the gap
    # day's 00:00-03:00 is present, so bedtime of the 5th is known.
    assert daily_row(tokyo, "a", date(2025, 1, 5))["bed_time_h"] == pytest.approx(22.5, abs=0.5)


def test_outing_stuck_on_and_inactive_run(tokyo):
    def day_out(h):
        kwh = 0.03
        if 7 <= h < 9 or 16 <= h < 22:
            kwh += 0.2  # ordinary use: active, but below the stuck-on floor
        if 19 <= h < 22:
            kwh = 1.0  # a heater on
        return kwh
    load_days(tokyo, "a", days(D0, 8), day_out)
    features.compute(tokyo)
    row = daily_row(tokyo, "a", date(2025, 1, 5))
    assert row["wake_time_h"] == pytest.approx(7.0)
    assert row["bed_time_h"] == pytest.approx(22.0)
    assert row["daytime_floor_h"] == pytest.approx(7.0)  # 09:00-16:00 at the floor
    assert row["longest_daytime_floor_h"] == pytest.approx(7.0)
    assert row["longest_inactive_run_h"] == pytest.approx(7.0)
    assert row["stuck_on_h"] == pytest.approx(3.0)
    assert row["peak_kwh"] == pytest.approx(1.0) and row["peak_time_h"] == pytest.approx(19.0)
    assert row["lunch_kwh"] == 0.0 and row["meal_windows_active"] == 2


def test_regularity_high_for_routine_low_for_disrupted_day(tokyo):
    load_days(tokyo, "a", days(D0, 20), routine())
    odd = date(2025, 1, 21)
    load_days(tokyo, "a", [odd], lambda h: 0.03 + (0.3 if h >= 13.0 or h < 3.0 else 0.0))
    load_days(tokyo, "a", [date(2025, 1, 22)], routine())
    features.compute(tokyo)
    assert daily_row(tokyo, "a", date(2025, 1, 20))["regularity_corr"] == pytest.approx(1.0)
    assert daily_row(tokyo, "a", date(2025, 1, 10))["regularity_corr"] is None  # < 14 prior days
    assert daily_row(tokyo, "a", odd)["regularity_corr"] < 0.5


@pytest.mark.parametrize("day, slots", [(date(2025, 3, 30), 46), (date(2025, 10, 26), 50)])
def test_clock_change_days_in_london(tmp_path, day, slots):
    con = store.connect(tmp_path / "s.duckdb", timezone="Europe/London")
    frames = [local_day("l", d, "Europe/London", routine(wake=7.0, bed=22.0, base=0.05))
              for d in days(date.fromordinal(day.toordinal() - 8), 11)]
    store_readings(con, pl.concat(frames))
    features.compute(con)
    row = daily_row(con, "l", day)
    assert row["expected_slots"] == slots and row["present_slots"] == slots
    assert row["coverage"] == 1.0 and row["dq_flag"] == "ok"
    assert row["wake_time_h"] == pytest.approx(7.0)  # clock time, not elapsed slots
    assert row["bed_time_h"] == pytest.approx(22.0)
    assert row["active_slots"] == 30  # 07:00-22:00 on the wall clock
    assert row["night_activity_share"] == 0.0
    con.close()


def test_rerun_changes_nothing_and_catalogue_is_stored(tokyo):
    load_days(tokyo, "a", days(D0, 30), routine())
    first = features.compute(tokyo)
    n = q(tokyo, "SELECT count(*) AS n FROM daily_features")["n"][0]
    again = features.compute(tokyo)
    assert again["households_updated"] == 0 and again["windows_computed"] == 0
    assert first["windows_computed"] == 1
    features.compute(tokyo, full=True)
    assert q(tokyo, "SELECT count(*) AS n FROM daily_features")["n"][0] == n == 30
    assert q(tokyo, "SELECT count(*) AS n FROM household_features")["n"][0] == 1
    dupes = q(tokyo, "SELECT household_id, local_date FROM daily_features GROUP BY ALL HAVING count(*) > 1")
    assert dupes.height == 0
    assert q(tokyo, "SELECT count(*) AS n FROM feature_catalog")["n"][0] == features.catalog().height


def test_catalogue_has_100_documented_numeric_window_features(tokyo):
    cat = features.catalog()
    assert cat.select("name", "level").is_unique().all()
    window = cat.filter(pl.col("level") == "household_window")
    assert window.filter(pl.col("name") != "dq_flag").height >= 100
    assert (cat["description"].str.len_chars() > 20).all()
    assert (cat["unit"].str.len_chars() > 0).all()
    # The table the migration created has exactly the catalogue's columns, in order.
    cols = q(tokyo, "SELECT * FROM household_features LIMIT 0").columns
    assert cols == ["household_id", "as_of", *window["name"].to_list(), "computed_at"]
    daily_cols = q(tokyo, "SELECT * FROM daily_features LIMIT 0").columns
    assert daily_cols == ["household_id", "local_date", *cat.filter(pl.col("level") == "daily")["name"]]


def test_window_deviation_reads_as_a_reason(tokyo):
    # 8 weeks waking at 06:30 and cooking a lot, then 4 weeks waking at 08:00 cooking less.
    early = days(D0, 56)
    late = days(date(2025, 2, 26), 28)
    load_days(tokyo, "a", early, routine(wake=6.5))
    load_days(tokyo, "a", late, lambda h: routine(wake=8.0)(h) - (0.12 if 17 <= h < 20 else 0.0))
    as_of = late[-1]
    out = features.window_features(tokyo, pl.DataFrame({"household_id": ["a"], "as_of": [as_of]}))
    row = out.to_dicts()[0]
    assert row["dq_flag"] == "ok" and row["valid_days_28d"] == 28 and row["valid_days_baseline"] == 56
    assert row["wake_time_h_delta"] == pytest.approx(1.5, abs=0.1)
    assert row["wake_time_h_z"] > 3
    assert row["wake_time_h_mean_28d"] == pytest.approx(8.0)
    assert row["wake_time_h_sd_28d"] == pytest.approx(0.0)
    assert row["wake_time_h_slope_4w"] == pytest.approx(0.0, abs=1e-9)
    assert row["wake_time_h_slope_12w"] > 0
    # breakfast window shrinks (06:30-09:00 -> 08:00-09:00) and dinner energy drops 40%
    assert row["dinner_kwh_ratio_8w"] == pytest.approx(0.6, abs=0.01)
    assert row["breakfast_kwh_ratio_8w"] == pytest.approx(2 / 5, abs=0.01)
    assert 0.9 < row["interdaily_stability_28d"] <= 1.0
    assert 0 < row["relative_amplitude_28d"] <= 1.0
    stored = q(tokyo, "SELECT * FROM household_features WHERE household_id = 'a'")
    assert stored.height == 1 and stored["wake_time_h_delta"][0] == row["wake_time_h_delta"]
    finite = [k for k, v in row.items() if isinstance(v, float)]
    assert all(math.isfinite(row[k]) for k in finite)


def test_insufficient_data_window_is_flagged_and_null(tokyo):
    load_days(tokyo, "a", days(D0, 10), routine())
    out = features.window_features(
        tokyo, pl.DataFrame({"household_id": ["a", "nobody"], "as_of": [date(2025, 1, 10)] * 2}))
    assert out["dq_flag"].to_list() == ["insufficient_data", "insufficient_data"]
    a = out.filter(pl.col("household_id") == "a").to_dicts()[0]
    assert a["valid_days_28d"] == 10 and a["wake_time_h_mean_28d"] is None
    assert out.filter(pl.col("household_id") == "nobody")["valid_days_28d"][0] == 0


def test_window_features_rejects_bad_requests(tokyo):
    with pytest.raises(ValueError, match="as_of"):
        features.window_features(tokyo, pl.DataFrame({"household_id": ["a"]}))


def test_compute_adds_windows_for_assessment_dates(tokyo):
    load_days(tokyo, "a", days(D0, 40), routine())
    tokyo.execute("INSERT INTO assessments VALUES ('a', DATE '2025-01-30', 3, false, now())")
    summary = features.compute(tokyo)
    assert summary["as_of"] == date(2025, 2, 9)
    keys = q(tokyo, "SELECT as_of FROM household_features ORDER BY as_of")["as_of"].to_list()
    assert keys == [date(2025, 1, 30), date(2025, 2, 9)]


def test_cli_computes_and_lists(tmp_path):
    from click.testing import CliRunner

    from meterrisk.cli import main

    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    load_days(con, "a", days(D0, 30), routine())
    con.close()
    runner = CliRunner()
    result = runner.invoke(main, ["features", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 windows computed" in result.output
    listed = runner.invoke(main, ["features", "--list"])
    assert listed.exit_code == 0 and "wake_time_h_delta" in listed.output
    store.connect(tmp_path / "empty.duckdb").close()
    empty = runner.invoke(main, ["features", "--db", str(tmp_path / "empty.duckdb")])
    assert empty.exit_code == 2 and "no readings" in empty.output


def test_heating_sensitivity_from_the_temperature_table(tokyo):
    dates = days(D0, 30)
    temps = [2.0 + (i % 10) for i in range(30)]  # 2..11 C, so HDD (base 15.5) varies 4.5..13.5
    for d, t in zip(dates, temps):
        heat = 0.02 * (15.5 - t)  # kWh per awake half hour per degree-day
        load_days(tokyo, "a", [d], lambda h, heat=heat: routine()(h) + (heat if 6.5 <= h < 22.5 else 0.0))
    con_t = pl.DataFrame({"local_date": dates, "temp_c": temps})
    tokyo.register("_temps", con_t)
    tokyo.execute("INSERT INTO temperature SELECT * FROM _temps")
    row = features.window_features(tokyo, pl.DataFrame({"household_id": ["a"], "as_of": [dates[-1]]})).to_dicts()[0]
    assert row["kwh_per_hdd_28d"] == pytest.approx(32 * 0.02, rel=1e-6)  # 32 awake half hours
    assert row["kwh_per_cdd_28d"] is None  # never above 22 C
    assert row["mean_temp_c_28d"] == pytest.approx(sum(temps[2:]) / 28)


def test_every_feature_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "features.md").read_text(encoding="utf-8")
    missing = [n for n in features.catalog()["name"] if f"`{n}`" not in doc]
    assert not missing, f"add to docs/features.md: {missing}"
