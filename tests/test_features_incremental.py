"""Incremental updates give exactly what a full recompute gives."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_features_support import delete_readings, q, store_readings

from meterrisk import features, store

START = date(2025, 1, 1)


def random_readings(households: list[str], first: int, n_days: int, seed: int) -> pl.DataFrame:
    """Noisy daily routines (Tokyo, UTC+9): random wake/bed times, meals, outings, gaps."""
    rng = np.random.default_rng(seed)
    frames = []
    for hh in households:
        for d in range(first, first + n_days):
            day = START + timedelta(days=d)
            h = np.arange(48) / 2
            wake, bed = rng.normal(7, 0.7), rng.normal(22, 0.7)
            kwh = 0.03 + rng.gamma(2, 0.005, 48)
            awake = (h >= wake) & (h < bed)
            kwh += awake * rng.gamma(2, 0.08, 48) * (rng.random(48) < 0.8)
            kwh += ((h >= 18) & (h < 19)) * 0.5
            keep = rng.random(48) > 0.03  # scattered gaps
            start = datetime(day.year, day.month, day.day) - timedelta(hours=9)
            ts = [start + timedelta(minutes=30 * i) for i in range(48)]
            frames.append(pl.DataFrame({"household_id": hh, "ts_utc": ts, "kwh": kwh}).filter(pl.Series(keep)))
    return pl.concat(frames)


def snapshot(con) -> dict[str, pl.DataFrame]:
    return {
        "daily": q(con, "SELECT * FROM daily_features ORDER BY household_id, local_date"),
        "profiles": q(con, "SELECT * FROM daily_profiles ORDER BY household_id, local_date"),
        "windows": q(con, "SELECT * EXCLUDE (computed_at) FROM household_features ORDER BY household_id, as_of"),
    }


def test_incremental_update_equals_full_recompute(tmp_path):
    hh = ["a", "b", "c"]
    inc = store.connect(tmp_path / "inc.duckdb", timezone="Asia/Tokyo")
    store_readings(inc, random_readings(hh, 0, 70, seed=1), file_id=1)
    features.compute(inc)
    early = pl.DataFrame({"household_id": hh, "as_of": [START + timedelta(days=50)] * 3})
    features.window_features(inc, early)

    # New days arrive, one past day is corrected, one day is withdrawn.
    store_readings(inc, random_readings(hh, 70, 2, seed=2), file_id=2)
    fix_day = START + timedelta(days=40)
    delete_readings(inc, "a", fix_day)
    store_readings(inc, random_readings(["a"], 40, 1, seed=3), file_id=3)
    delete_readings(inc, "b", START + timedelta(days=60))
    summary = features.compute(inc)
    assert summary["households_updated"] == 3
    assert 0 < summary["days_recomputed"] < 3 * 72  # not everything
    keys = q(inc, "SELECT household_id, as_of FROM household_features")

    full = store.connect(tmp_path / "full.duckdb", timezone="Asia/Tokyo")
    readings = q(inc, "SELECT household_id, ts_utc, kwh FROM readings")
    store_readings(full, readings)
    features.compute(full, full=True)
    features.window_features(full, keys)

    a, b = snapshot(inc), snapshot(full)
    assert a["daily"].height == 3 * 72 - 1
    for name in a:
        assert_frame_equal(a[name], b[name], check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
    # the stale early window was recomputed, and matches
    assert a["windows"].height == 9
    inc.close()
    full.close()


def test_new_day_rows_are_found_by_version_and_give_the_full_result(tmp_path):
    hh = ["a", "b"]
    inc = store.connect(tmp_path / "inc.duckdb", timezone="Asia/Tokyo")
    store_readings(inc, random_readings(hh, 0, 60, seed=4), file_id=1)
    assert features.compute(inc)["changes_found_by"] == "full"  # first run: nothing recorded yet
    store_readings(inc, random_readings(hh, 60, 1, seed=5), file_id=2)
    summary = features.compute(inc)
    assert summary["changes_found_by"] == "version"
    assert summary["households_updated"] == 2
    assert features.compute(inc)["households_updated"] == 0  # nothing new: nothing recomputed

    full = store.connect(tmp_path / "full.duckdb", timezone="Asia/Tokyo")
    store_readings(full, q(inc, "SELECT household_id, ts_utc, kwh FROM readings"))
    features.compute(full, full=True)
    features.window_features(full, q(inc, "SELECT household_id, as_of FROM household_features"))
    a, b = snapshot(inc), snapshot(full)
    for name in a:
        assert_frame_equal(a[name], b[name], check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
    # Versions are each store's own; the days computed are the same.
    state = q(inc, "SELECT household_id, local_date FROM feature_state ORDER BY ALL")
    assert state.equals(q(full, "SELECT household_id, local_date FROM feature_state ORDER BY ALL"))


def test_deleted_or_back_filled_readings_are_found_by_version(tmp_path):
    con = store.connect(tmp_path / "s.duckdb", timezone="Asia/Tokyo")
    store_readings(con, random_readings(["a"], 0, 40, seed=6), file_id=5)
    features.compute(con)
    gone = START + timedelta(days=20)
    delete_readings(con, "a", gone)  # e.g. a --replace with a file that lacks the day
    summary = features.compute(con)
    assert summary["changes_found_by"] == "version"
    assert q(con, "SELECT count(*) AS n FROM daily_features WHERE local_date = ?", [gone])["n"][0] == 0
    # A file that committed late with an older id than the last sync saw.
    store_readings(con, random_readings(["a"], 20, 1, seed=7), file_id=4)
    summary = features.compute(con)
    assert summary["changes_found_by"] == "version"
    assert q(con, "SELECT count(*) AS n FROM daily_features WHERE local_date = ?", [gone])["n"][0] == 1


def test_next_day_changes_only_next_morning_features_and_no_window(tmp_path):
    """The day before new readings changes only in daily.NEXT_MORNING; a window as of that
    day leaves those out, so it is final when its own day's readings are in."""
    from meterrisk.features.daily import NEXT_MORNING

    hh = ["a", "b", "c"]
    con = store.connect(tmp_path / "s.duckdb", timezone="Asia/Tokyo")
    store_readings(con, random_readings(hh, 0, 40, seed=8), file_id=1)
    features.compute(con)
    last = START + timedelta(days=39)
    day_sql = "SELECT * FROM daily_features WHERE local_date = ? ORDER BY household_id"
    before = q(con, day_sql, [last])
    window_before = snapshot(con)["windows"]
    assert window_before["as_of"].unique().to_list() == [last]

    store_readings(con, random_readings(hh, 40, 1, seed=9), file_id=2)
    features.compute(con)
    after = q(con, day_sql, [last])
    changed = {c for c in before.columns if not before[c].equals(after[c])}
    assert changed == set(NEXT_MORNING)  # bedtime needs the next morning; nothing else does
    windows = snapshot(con)["windows"]
    assert_frame_equal(windows.filter(pl.col("as_of") == last), window_before)
    assert windows.filter(pl.col("as_of") == last + timedelta(days=1)).height == 3
    features.compute(con, full=True)  # recomputed from scratch, with the next morning known
    assert_frame_equal(snapshot(con)["windows"].filter(pl.col("as_of") == last), window_before,
                       check_exact=False, rel_tol=1e-9, abs_tol=1e-12)


def test_a_full_run_that_fails_part_way_leaves_the_previous_tables_whole(tmp_path, monkeypatch):
    """A full run writes fresh tables in one transaction: an error in a later batch rolls the
    whole run back, with the error itself (not an aborted-transaction error) reaching the caller."""
    import importlib

    compute = importlib.import_module("meterrisk.features.compute")
    con = store.connect(tmp_path / "s.duckdb", timezone="Asia/Tokyo")
    store_readings(con, random_readings(["a", "b", "c"], 0, 40, seed=10), file_id=1)
    features.compute(con)
    before = snapshot(con)
    real = compute.daily.compute_daily
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(compute.daily, "compute_daily", failing)
    monkeypatch.setattr(compute, "DAILY_BATCH_ROWS", 1)  # one household a batch
    monkeypatch.setenv("METERRISK_FEATURE_THREADS", "0")
    with pytest.raises(RuntimeError, match="disk full"):
        features.compute(con, full=True, batch_size=1)
    after = snapshot(con)
    for name in before:
        assert_frame_equal(after[name], before[name])
    con.close()


def test_loading_temperatures_refreshes_the_temperature_features(tmp_path):
    """Issue 13: `meterrisk temperature` then `meterrisk features` used to recompute nothing
    until --full, so the windows kept null temperature features."""
    con = store.connect(tmp_path / "s.duckdb", timezone="Asia/Tokyo")
    store_readings(con, random_readings(["a", "b"], 0, 40, seed=11), file_id=1)
    features.compute(con)
    windows = "SELECT household_id, as_of, mean_temp_c_28d FROM household_features ORDER BY ALL"
    assert q(con, windows)["mean_temp_c_28d"].null_count() == 2
    days = [START + timedelta(days=i) for i in range(40)]
    con.register("_t", pl.DataFrame({"local_date": days, "temp_c": [5.0 + i % 7 for i in range(40)]}))
    con.execute("INSERT INTO temperature SELECT * FROM _t")
    con.unregister("_t")
    summary = features.compute(con)
    assert summary["households_updated"] == 0  # no day row changed: only the windows
    incremental = q(con, windows)
    assert incremental["mean_temp_c_28d"].null_count() == 0
    features.compute(con, full=True)
    assert_frame_equal(incremental, q(con, windows))
    con.close()
