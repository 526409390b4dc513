"""The window stage (compute.window_frame: Polars window sums) against the numpy grid version it
replaced (tests/reference_numpy) and that one against the Polars version before it
(tests/test_features_reference.py): random daily frames and the committed sample."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import test_features_reference as reference
from reference_numpy import frame as numpy_reference
from reference_numpy import window

from meterrisk import features, store
from meterrisk.features.compute import window_frame

KEY = ["household_id", "as_of"]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "sample"
D0 = date(2025, 1, 1)


def _daily_table(rng, n_households: int, n_days: int, temperature: bool) -> pl.DataFrame:
    """Daily rows with gaps, invalid days, null features, sparse and dense households."""
    rows = []
    for h in range(n_households):
        present = rng.random() * 0.9 + 0.1  # share of days with a row (few for some)
        ok = [0.3, 0.8, 0.97, 1.0][h % 4]
        for d in range(n_days):
            if rng.random() > present:
                continue
            flag = "ok" if rng.random() < ok else rng.choice(["low_coverage", "no_baseload", None])
            row = {"household_id": f"H{h:02d}", "local_date": D0 + timedelta(days=d), "dq_flag": flag}
            for f in window.SUMMARISED:
                v = {"active_share": rng.uniform(0, 0.5) if rng.random() > 0.1 else rng.uniform(0, 0.06),
                     "wake_time_h": rng.uniform(5, 12), "stuck_on_h": rng.uniform(0, 8),
                     "night_activity_share": rng.uniform(0, 0.4)}.get(f, rng.gamma(2.0, 1.0))
                row[f] = None if (flag != "ok" or rng.random() < 0.08) else float(v)
            row["meal_windows_active"] = None if row["meal_windows_active"] is None else int(rng.integers(0, 4))
            rows.append(row)
    schema = {"household_id": pl.String, "local_date": pl.Date, "dq_flag": pl.String,
              **{f: pl.Float64 for f in window.SUMMARISED}, "meal_windows_active": pl.Int32}
    days = pl.DataFrame(rows, schema=schema, orient="row")
    dates = pl.date_range(D0, D0 + timedelta(days=n_days), eager=True)
    temp = pl.DataFrame({"local_date": dates,
                         "temp_c": 10 + 12 * np.sin(np.arange(len(dates)) / 15) + rng.normal(0, 2, len(dates))})
    temp = temp.with_columns(pl.when(pl.Series(rng.random(len(dates)) < 0.1)).then(None)
                             .otherwise(pl.col("temp_c")).alias("temp_c"))
    if not temperature:
        temp = temp.with_columns(temp_c=pl.lit(None, dtype=pl.Float64))
    return days.join(temp, on="local_date", how="left")


def _profile_table(rng, days: pl.DataFrame) -> pl.DataFrame:
    ok = days.filter(pl.col("dq_flag") == "ok").select("household_id", "local_date")
    n = ok.height
    x = np.round(rng.gamma(1.0, 0.1, (n, 24)) * (rng.random((n, 24)) < 0.7), 3)
    a = rng.integers(0, 3, (n, 24)).astype(float)
    holes = rng.random((n, 24)) < 0.05
    x[holes], a[holes] = np.nan, np.nan
    x[::17] = 0.1  # some flat days
    return ok.with_columns(
        hourly_excess_kwh=pl.Series(x.ravel()).fill_nan(None).reshape((n, 24)).arr.to_list(),
        hourly_active_slots=pl.Series(a.ravel()).fill_nan(None).cast(pl.Int32).reshape((n, 24)).arr.to_list(),
    )


def _long(requests: pl.DataFrame, table: pl.DataFrame, keep_key: bool) -> pl.DataFrame:
    """What load_window_inputs reads: the table's rows 0..83 days before each as_of."""
    rows = requests.join(table, on="household_id").with_columns(
        age=(pl.col("as_of") - pl.col("local_date")).dt.total_days().cast(pl.Int32)
    ).filter((pl.col("age") >= 0) & (pl.col("age") < window.HISTORY_DAYS))
    return rows if keep_key else rows.drop("local_date")


def assert_frames_match(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == want.columns
    assert got.schema == want.schema
    for c in got.columns:
        if not got[c].dtype.is_float():
            assert got[c].equals(want[c]), c
            continue
        assert got[c].is_null().equals(want[c].is_null()), c
        g, w = got[c].to_numpy(), want[c].to_numpy()
        assert not np.isnan(g[~got[c].is_null().to_numpy()]).any(), c
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=c)


@pytest.mark.parametrize("seed,temperature", [(0, True), (1, False), (2, True)])
def test_window_frame_matches_the_polars_version(seed, temperature):
    rng = np.random.default_rng(seed)
    days = _daily_table(rng, 12, 130, temperature)
    profiles = _profile_table(rng, days)
    as_ofs = [D0 + timedelta(days=d) for d in (20, 40, 60, 83, 100, 129, 140)]
    requests = pl.DataFrame({"household_id": [f"H{h:02d}" for h in range(13) for _ in as_ofs],
                             "as_of": as_ofs * 13})  # H12 has no rows at all
    requests = requests.sample(fraction=1.0, shuffle=True, seed=seed)
    long_days = _long(requests, days, keep_key=True)
    long_profiles = _long(requests, profiles, keep_key=False)
    old = numpy_reference.window_frame(requests, long_days, long_profiles)
    assert_frames_match(old, reference.window_frame(requests, long_days, long_profiles))
    got = window_frame(requests, days, _arrays(profiles))
    assert_frames_match(got, old)
    flags = set(got["dq_flag"])
    assert flags == {"ok", "no_baseline", "insufficient_data"}
    assert got.filter(pl.col("dq_flag") == "ok")["wake_time_h_z"].null_count() == 0
    ok = got.filter(pl.col("dq_flag") != "insufficient_data")
    assert (ok["kwh_per_hdd_28d"].null_count() < ok.height) == temperature
    # No profile rows at all: circadian columns null, the rest unchanged.
    got = window_frame(requests, days, _arrays(profiles).clear())
    want = numpy_reference.window_frame(requests, long_days, long_profiles.clear())
    assert_frames_match(got, want)


def _arrays(profiles: pl.DataFrame) -> pl.DataFrame:
    """Profiles as store_io.load_window_inputs reads them: Array(Float64, 24)."""
    return profiles.with_columns(pl.col("hourly_excess_kwh", "hourly_active_slots")
                                 .cast(pl.List(pl.Float64)).list.to_array(24))


def test_window_frame_of_requests_without_rows():
    requests = pl.DataFrame({"household_id": ["a", "b"], "as_of": [D0, D0]})
    table = _daily_table(np.random.default_rng(0), 1, 1, True).clear()
    days = _long(requests, table, keep_key=True)
    profiles = pl.DataFrame(schema={"household_id": pl.String, "as_of": pl.Date, "age": pl.Int32,
                                    "hourly_excess_kwh": pl.List(pl.Float64),
                                    "hourly_active_slots": pl.List(pl.Int32)})
    want = numpy_reference.window_frame(requests, days, profiles)
    assert_frames_match(want, reference.window_frame(requests, days, profiles))
    empty = pl.DataFrame(schema={"household_id": pl.String, "local_date": pl.Date,
                                 "hourly_excess_kwh": pl.Array(pl.Float64, 24),
                                 "hourly_active_slots": pl.Array(pl.Float64, 24)})
    assert_frames_match(window_frame(requests, table, empty), want)


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    ingest = pytest.importorskip("meterrisk.ingest")
    con = store.connect(tmp_path_factory.mktemp("window_sample") / "s.duckdb")
    ingest.load_registry(con, SAMPLE / "households.csv")
    ingest.load_temperature(con, SAMPLE / "temperature.csv")
    ingest.ingest_paths(con, [SAMPLE / "readings"], ingest.load_profile("default"))
    yield con
    con.close()


def test_sample_windows_through_the_store_match_the_polars_version(sample_store):
    con = sample_store
    households = con.execute("SELECT DISTINCT household_id FROM readings ORDER BY 1").fetchall()
    last = con.execute("SELECT max(local_date) FROM readings").fetchall()[0][0]
    requests = pl.DataFrame([(h, last - timedelta(days=k)) for (h,) in households for k in (0, 3, 9, 20)],
                            schema=KEY, orient="row")
    got = features.window_features(con, requests)  # computed, stored and returned
    stored = store.frame(con, "SELECT * EXCLUDE (computed_at) FROM household_features").sort(KEY)
    want = reference.window_frame(requests, *reference.load_window_inputs(con, requests)).sort(KEY)
    assert_frames_match(numpy_reference.window_frame(
        requests, *numpy_reference.load_window_inputs(con, requests)).sort(KEY), want)
    assert_frames_match(got, want)
    assert_frames_match(stored.select(want.columns), want)
    assert got.filter(pl.col("dq_flag") != "insufficient_data").height > 40
    assert got["mean_temp_c_28d"].null_count() < got.height
