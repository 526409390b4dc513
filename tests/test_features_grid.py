"""The daily feature engine (Polars expressions over the day frame): known answers for its
building blocks, and the same results as the numpy timeline engine it replaced
(tests/reference_numpy/) on random, gappy, clock-change, incremental and real inputs: counts
and times exact, sums to 1e-9 relative."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from conftest import REAL_LCL
from reference_numpy import daily as reference

from meterrisk.features import daily, dayframe, layouts
from meterrisk.features.halfhours import HalfHours

PROFILES = ["hourly_excess_kwh", "hourly_active_slots", "halfhour_active"]


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


def both(readings: pl.DataFrame, calendar: pl.DataFrame, zone: str = "Asia/Tokyo", **kw) -> None:
    new_days, new_profiles = daily.compute_daily(dayframe.from_readings(readings, zone), calendar, zone, **kw)
    old_days, old_profiles = reference.compute_daily(readings, calendar, **kw)
    assert_same(new_days, old_days)
    # The reference keeps profiles as lists, the engine as fixed-size arrays and bits (as stored).
    assert_same(new_profiles.select(
        "household_id", "local_date", pl.col("hourly_excess_kwh").arr.to_list(),
        pl.col("hourly_active_slots").arr.to_list(), halfhour_active=_from_bits()), old_profiles)


def _from_bits() -> pl.Expr:
    """halfhour_seen/halfhour_active bits -> the reference's list of 48 (null = no reading)."""
    def bit(name: str, b: int) -> pl.Expr:
        return (pl.col(name) & pl.lit(1 << b, dtype=pl.Int64)) != 0
    return pl.when(pl.col("halfhour_seen").is_not_null()).then(pl.concat_list(
        pl.when(bit("halfhour_seen", b)).then(bit("halfhour_active", b).cast(pl.Int8)) for b in range(48)))


def _to_bits(profiles: pl.DataFrame) -> pl.DataFrame:
    """The reference's halfhour_active lists as the engine's stored bits."""
    def bits(test) -> pl.Expr:
        return pl.sum_horizontal(
            pl.when(test(pl.col("halfhour_active").list.get(b))).then(pl.lit(1 << b, dtype=pl.Int64)).otherwise(0)
            for b in range(48))
    return profiles.select("household_id", "local_date", halfhour_seen=bits(lambda e: e.is_not_null()),
                           halfhour_active=bits(lambda e: (e == 1).fill_null(False)))


def calendar_of(readings: pl.DataFrame, zone: str = "Asia/Tokyo") -> pl.DataFrame:
    days = readings.select(pl.col("local_date").unique()).to_series().to_list()
    return pl.DataFrame({"local_date": days, "expected_slots": [len(layouts.slot_clocks(d, zone)) for d in days]})


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

def _frame(rows: list[list]) -> pl.DataFrame:
    return pl.DataFrame({f"c{i}": [r[i] for r in rows] for i in range(len(rows[0]))})


def test_half_hours_reduce_within_the_day_and_select_by_clock():
    f = _frame([[1.0, 2.0, None, 4.0], [0.0, 0.0, 0.0, 0.0]])
    h = HalfHours(tuple(pl.col(f"c{i}") for i in range(4)), (0.0, 0.5, 1.0, 1.5))
    got = f.select(total=h.total(), peak=h.maximum(), late=h.between(1.0, 2.0).total(),
                   n=h.map(lambda e: e.is_not_null()).count(),
                   first_big=h.map(lambda e: (e > 1.5).fill_null(False)).first_clock(),
                   last_big_end=h.map(lambda e: (e > 1.5).fill_null(False)).last_end())
    assert got.rows() == [(7.0, 4.0, 4.0, 3, 0.5, 2.0), (0.0, 0.0, 0.0, 4, None, None)]


def test_longest_run_restarts_at_gaps_and_counts_zero_when_never():
    f = _frame([[True, False, True, True, True, False, True],
                [True] * 7, [False] * 7])
    h = HalfHours(tuple(pl.col(f"c{i}") for i in range(7)), tuple(i / 2 for i in range(7)))
    assert f.select(h.longest_run())[:, 0].to_list() == [3, 7, 0]


def test_a_clock_change_day_has_46_or_50_slots_with_their_clocks():
    assert len(layouts.slot_clocks(date(2024, 3, 31), "Europe/London")) == 46
    autumn = layouts.slot_clocks(date(2024, 10, 27), "Europe/London")
    assert len(autumn) == 50 and autumn[2:6] == (60, 90, 60, 90)  # 01:00-02:00 twice
    assert layouts.slot_clocks(date(2024, 10, 27), "Asia/Tokyo") == layouts.ORDINARY
    table = layouts.layout_table(date(2024, 10, 26), date(2024, 10, 28), "Europe/London")
    assert table["slots"].to_list() == [48, 50, 48]
    assert table["layout"][0] == table["layout"][2] == 0 and table["layout"][1] != 0


def test_zones_that_change_at_midnight_or_by_half_an_hour_get_their_own_clocks():
    # Havana skips 00:00-01:00 in spring (the day starts at 01:00) and repeats it in autumn;
    # Lord Howe moves its clocks by 30 minutes (49 slots).
    spring = layouts.slot_clocks(date(2024, 3, 10), "America/Havana")
    assert len(spring) == 46 and spring[:2] == (60, 90)
    assert layouts.slot_clocks(date(2024, 11, 3), "America/Havana")[:4] == (0, 30, 0, 30)
    lord_howe = layouts.slot_clocks(date(2024, 4, 7), "Australia/Lord_Howe")
    assert len(lord_howe) == 49 and lord_howe[3:5] == (90, 90)


def test_wake_time_on_a_known_day():
    day = date(2025, 5, 1)
    local = [datetime(2025, 5, 1) + timedelta(minutes=30 * i) for i in range(-7 * 48, 48 + 6)]
    kwh = [0.3 if (t.hour * 60 + t.minute) >= 6 * 60 + 30 and t.hour < 21 else 0.03 for t in local]
    r = pl.DataFrame({"household_id": "A", "local_ts": local, "kwh": kwh}).with_columns(
        ts_utc=pl.col("local_ts") - pl.duration(hours=9), local_date=pl.col("local_ts").dt.date())
    days, _ = daily.compute_daily(dayframe.from_readings(r, "Asia/Tokyo"), calendar_of(r), "Asia/Tokyo")
    row = days.filter(pl.col("local_date") == day).row(0, named=True)
    assert row["wake_time_h"] == 6.5 and row["bed_time_h"] == 21.0 and row["dq_flag"] == "ok"


def test_every_daily_column_comes_from_exactly_one_feature_function():
    names = [f.__name__ for f in daily.feature_functions()]
    assert len(names) == len(set(names))
    computed = {"expected_slots", "coverage", "dq_flag"}  # the coverage rule's accounting
    assert set(names) | computed == set(daily.COLUMNS[2:])


# ---------------------------------------------------------------- same as the numpy engine

@pytest.mark.parametrize("seed", range(3))
def test_matches_numpy_on_gappy_tokyo_households(seed):
    from benchmarks.bench_features import readings_chunk

    r = readings_chunk([f"H{i}" for i in range(30)], 0, 40, seed=seed)
    r = r.filter(pl.Series(np.random.default_rng(seed).random(r.height) > 0.05 * seed))
    both(r, calendar_of(r))


@pytest.mark.parametrize("zone, first", [
    ("Europe/London", date(2024, 3, 20)), ("Europe/London", date(2024, 10, 15)),
    ("America/Havana", date(2024, 3, 1)), ("America/Havana", date(2024, 10, 25)),  # at midnight
    ("Australia/Lord_Howe", date(2024, 3, 30)),  # by 30 minutes
])
def test_matches_numpy_across_clock_changes(zone, first):
    r = random_readings(zone, first, 25, 6, seed=first.month)
    both(r, calendar_of(r, zone), zone)


def test_matches_numpy_when_incremental_with_stored_profiles():
    r = random_readings("Asia/Tokyo", date(2025, 1, 1), 70, 8, seed=5)
    _, profiles = reference.compute_daily(r, calendar_of(r))
    lo = date(2025, 2, 20)
    since = r.select(pl.col("household_id").unique()).with_columns(lo=pl.lit(lo))
    prior = profiles.filter(pl.col("local_date") < lo).select("household_id", "local_date", "halfhour_active")
    recent = r.filter(pl.col("local_date") >= lo - timedelta(days=7))
    zone = "Asia/Tokyo"
    new_days, _ = daily.compute_daily(dayframe.from_readings(recent, zone), calendar_of(r), zone,
                                      since=since, prior=_to_bits(prior))
    old_days, _ = reference.compute_daily(recent, calendar_of(r), since=since, prior=prior)
    assert_same(new_days, old_days)


def test_matches_numpy_on_real_london_households():
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
    both(r, calendar_of(r, "Europe/London"), "Europe/London")
