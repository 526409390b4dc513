"""The numpy timeline engine for daily features: known answers for its reductions, and the
same results as the Polars implementation it replaced (tests/reference_daily_polars.py) on
random, gappy, clock-change and incremental inputs."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

import reference_daily_polars as reference
from conftest import REAL_LCL

from meterrisk.features import daily
from meterrisk.features.timeline import Segments, Timeline


def assert_same(new: pl.DataFrame, old: pl.DataFrame) -> None:
    """Same rows, columns and dtypes; floats equal to 1e-9 relative; nulls in the same places."""
    key = ["household_id", "local_date"]
    new, old = new.sort(key), old.sort(key)
    assert new.columns == old.columns
    assert new.height == old.height
    assert new.select(key).equals(old.select(key))
    for c in old.columns:
        a, b = new[c], old[c]
        assert a.dtype == b.dtype, c
        assert (a.is_null() == b.is_null()).all(), c
        if a.dtype == pl.List(pl.Float64):
            x, y = (np.array(s.fill_null([]).to_list(), dtype=object) for s in (a, b))
            for u, v in zip(x, y):
                assert np.allclose(np.array(u, dtype=float), np.array(v, dtype=float), rtol=1e-9, equal_nan=True), c
        elif a.dtype.is_float():
            both = a.is_not_null() & b.is_not_null()
            assert np.allclose(a.filter(both).to_numpy(), b.filter(both).to_numpy(), rtol=1e-9, atol=1e-12), c
        else:
            assert a.equals(b), c


def both(readings: pl.DataFrame, calendar: pl.DataFrame, **kw) -> None:
    new_days, new_profiles = daily.compute_daily(readings, calendar, **kw)
    old_days, old_profiles = reference.compute_daily(readings, calendar, **kw)
    assert_same(new_days, old_days)
    assert_same(new_profiles, old_profiles)


def calendar_of(readings: pl.DataFrame, zone: str = "Asia/Tokyo") -> pl.DataFrame:
    days = readings.select(pl.col("local_date").unique()).to_series().to_list()
    return pl.DataFrame({"local_date": days, "expected_slots": [_slots(d, zone) for d in days]})


def _slots(d: date, zone: str) -> int:
    start = pl.datetime(d.year, d.month, d.day, time_zone=zone)
    nxt = d + timedelta(days=1)
    end = pl.datetime(nxt.year, nxt.month, nxt.day, time_zone=zone)
    return int(pl.select((end - start).dt.total_minutes() // 30).item())


def random_readings(zone: str, first: date, n_days: int, n_households: int, seed: int,
                    missing: float = 0.03) -> pl.DataFrame:
    """A daily routine with noise, outings, zeros and gaps, in ``zone`` (clock changes included)."""
    rng = np.random.default_rng(seed)
    start = datetime(first.year, first.month, first.day)
    utc = pl.datetime_range(start, start + timedelta(days=n_days), "30m", time_zone=zone,
                            eager=True, closed="left").dt.convert_time_zone("UTC")
    rows = []
    for h in range(n_households):
        local = utc.dt.convert_time_zone(zone)
        hour = (local.dt.hour() + local.dt.minute() / 60).to_numpy()
        wake, bed = rng.normal(6.5, 1), rng.normal(22, 1)
        awake = (hour >= wake + rng.normal(0, 0.5, len(hour))) & (hour < bed)
        kwh = rng.uniform(0.02, 0.05) + rng.gamma(2, 0.01, len(hour)) + awake * rng.gamma(1.5, 0.1, len(hour))
        kwh = np.where(rng.random(len(hour)) < 0.01, 0.0, np.round(kwh, 3))
        keep = rng.random(len(hour)) > missing
        rows.append(pl.DataFrame({
            "household_id": f"H{h}", "ts_utc": utc.dt.replace_time_zone(None),
            "local_ts": local.dt.replace_time_zone(None), "kwh": kwh,
        }).filter(pl.Series(keep)))
    return pl.concat(rows).with_columns(local_date=pl.col("local_ts").dt.date())


# ---------------------------------------------------------------- known answers

def test_segments_reduce_within_each_day():
    ids = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    seg = Segments(ids, 3)
    a = np.array([[1, 2, 3, 4, 5, 6, 7, 8]], dtype=float)
    assert seg.sum(a).tolist() == [[6, 9, 21]]
    mask = a > 2
    assert seg.min_where(mask, a).tolist() == [[3, 4, 6]]
    assert np.isnan(seg.max_where(a > 7, a)[0, :2]).all() and seg.max_where(a > 7, a)[0, 2] == 8
    assert seg.spread(np.array([[10.0, 20.0, 30.0]])).tolist() == [[10, 10, 10, 20, 20, 30, 30, 30]]


def test_longest_run_restarts_at_day_boundaries_and_gaps():
    seg = Segments(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 2)
    cond = np.array([[True, False, True, True, True, True, False, True],
                     [True, True, True, True, True, True, True, True],
                     [False] * 8])
    # Row 0: day 0 has runs 1 and 2 (the run through midnight is cut), day 1 has 2 and 1.
    assert seg.longest_run(cond).tolist() == [[2, 2], [4, 4], [0, 0]]


def test_labels_outside_the_days_are_left_out():
    seg = Segments(np.array([-1, -1, 0, 0, 1]), 2)  # behavioural day -1: the night before day 0
    assert seg.sum(np.ones((1, 5))).tolist() == [[2, 1]]


def test_a_clock_change_day_has_46_or_50_columns():
    r = random_readings("Europe/London", date(2024, 3, 30), 3, 1, seed=1, missing=0)
    tl = Timeline.from_frame(r)
    assert np.bincount(tl.day).tolist() == [48, 46, 48]
    r = random_readings("Europe/London", date(2024, 10, 26), 3, 1, seed=1, missing=0)
    tl = Timeline.from_frame(r)
    assert np.bincount(tl.day).tolist() == [48, 50, 48]
    assert tl.clock_min[tl.day == 1].tolist()[2:6] == [60, 90, 60, 90]  # 01:00-02:00 twice


def test_wake_time_on_a_known_day():
    day = date(2025, 5, 1)
    local = [datetime(2025, 5, 1) + timedelta(minutes=30 * i) for i in range(-7 * 48, 48 + 6)]
    kwh = [0.3 if (t.hour * 60 + t.minute) >= 6 * 60 + 30 and t.hour < 21 else 0.03 for t in local]
    r = pl.DataFrame({"household_id": "A", "local_ts": local, "kwh": kwh}).with_columns(
        ts_utc=pl.col("local_ts") - pl.duration(hours=9), local_date=pl.col("local_ts").dt.date())
    days, _ = daily.compute_daily(r, calendar_of(r))
    row = days.filter(pl.col("local_date") == day).row(0, named=True)
    assert row["wake_time_h"] == 6.5 and row["bed_time_h"] == 21.0 and row["dq_flag"] == "ok"


# ---------------------------------------------------------------- same as the Polars version

@pytest.mark.parametrize("seed", range(3))
def test_matches_polars_on_gappy_tokyo_households(seed):
    from benchmarks.bench_features import readings_chunk

    r = readings_chunk([f"H{i}" for i in range(30)], 0, 40, seed=seed)
    r = r.filter(pl.Series(np.random.default_rng(seed).random(r.height) > 0.05 * seed))
    both(r, calendar_of(r))


@pytest.mark.parametrize("first", [date(2024, 3, 20), date(2024, 10, 15)])
def test_matches_polars_across_clock_changes(first):
    r = random_readings("Europe/London", first, 25, 6, seed=first.month)
    both(r, calendar_of(r, "Europe/London"))


def test_matches_polars_when_incremental_with_stored_profiles():
    r = random_readings("Asia/Tokyo", date(2025, 1, 1), 70, 8, seed=5)
    _, profiles = reference.compute_daily(r, calendar_of(r))
    lo = date(2025, 2, 20)
    since = r.select(pl.col("household_id").unique()).with_columns(lo=pl.lit(lo))
    prior = profiles.filter(pl.col("local_date") < lo).select("household_id", "local_date", "halfhour_active")
    recent = r.filter(pl.col("local_date") >= lo - timedelta(days=7))
    both(recent, calendar_of(r), since=since, prior=prior)


def test_matches_polars_on_real_london_households():
    files = sorted((REAL_LCL / "halfhourly").glob("*.csv.gz"))[:6]
    if not files:
        pytest.skip("real LCL data not available")
    raw = pl.concat([pl.read_csv(f, infer_schema_length=0) for f in files])
    utc = pl.col("tstp").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f")
    r = raw.select(
        household_id="LCLid", ts_utc=utc,
        local_ts=utc.dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/London").dt.replace_time_zone(None),
        kwh=pl.col("energy(kWh/hh)").str.strip_chars().cast(pl.Float64, strict=False),
    ).drop_nulls().unique(["household_id", "ts_utc"]).with_columns(local_date=pl.col("local_ts").dt.date())
    both(r, calendar_of(r, "Europe/London"))
