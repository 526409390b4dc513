"""Training and scoring read current stored windows instead of recomputing them."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from test_features_support import store_readings

from meterrisk import features, store
from meterrisk.model.dataset import KEYS, stale_or_missing, stored_or_computed

START = date(2025, 1, 1)
HH = ["a", "b", "c"]


def _readings(n_days: int, seed: int) -> pl.DataFrame:
    """A simple daily routine per household (Tokyo, UTC+9) with random noise."""
    rng = np.random.default_rng(seed)
    h = np.arange(48) / 2
    frames = []
    for hh in HH:
        for d in range(n_days):
            day = START + timedelta(days=d)
            kwh = 0.03 + rng.gamma(2, 0.005, 48) + ((h >= rng.normal(7, 0.5)) & (h < 22)) * rng.gamma(2, 0.08, 48)
            start = datetime(day.year, day.month, day.day) - timedelta(hours=9)
            frames.append(pl.DataFrame({"household_id": hh, "ts_utc": [start + timedelta(minutes=30 * i)
                                                                        for i in range(48)], "kwh": kwh}))
    return pl.concat(frames)


class Spy:
    """window_features, counting the requests it is asked to compute."""

    def __init__(self):
        self.asked: list[int] = []

    def __call__(self, con, req):
        self.asked.append(req.height)
        return features.window_features(con, req)


@pytest.fixture
def fx_store(tmp_path):
    con = store.connect(tmp_path / "s.duckdb", timezone="Asia/Tokyo")
    store_readings(con, _readings(60, seed=1))
    features.compute(con)  # stores windows as of the last day only
    yield con
    con.close()


def _requests(*days: int) -> pl.DataFrame:
    return pl.DataFrame({"household_id": HH * len(days),
                         "as_of": [START + timedelta(days=d) for d in days for _ in HH]})


def _canon(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(KEYS).with_columns(pl.col(c).cast(pl.Float64) for c, t in df.schema.items() if t.is_numeric())


def test_reads_stored_windows_and_computes_only_the_missing(fx_store):
    req = _requests(40, 59)  # day 59 was stored by compute(), day 40 was not
    spy = Spy()
    first = stored_or_computed(fx_store, req, spy)
    assert spy.asked == [3]  # the three day-40 windows, once
    assert first.height == 6
    again = Spy()
    second = stored_or_computed(fx_store, req, again)
    assert again.asked == [0]  # only the sync call: everything read from the store
    expected = features.window_features(fx_store, req)
    assert_frame_equal(_canon(second), _canon(expected))
    assert_frame_equal(_canon(first), _canon(expected))


def test_a_window_older_than_its_daily_rows_is_stale(fx_store):
    req = _requests(40, 59)
    stored_or_computed(fx_store, req, Spy())
    assert stale_or_missing(fx_store, req).height == 0
    # Household b's daily row of day 30 recomputed after its windows: both windows read it.
    later = datetime.now() + timedelta(days=1)
    fx_store.execute("UPDATE feature_state SET computed_at = ? WHERE household_id = 'b' AND local_date = ?",
                     [later, START + timedelta(days=30)])
    stale = stale_or_missing(fx_store, req).sort(KEYS)
    assert stale.to_dicts() == [{"household_id": "b", "as_of": START + timedelta(days=40)},
                                {"household_id": "b", "as_of": START + timedelta(days=59)}]
    spy = Spy()
    out = stored_or_computed(fx_store, req, spy)
    assert spy.asked == [0, 2] and out.height == 6


def test_a_corrected_reading_is_never_served_from_a_stale_window(fx_store, tmp_path):
    req = _requests(40)
    before = stored_or_computed(fx_store, req, Spy())
    # A correction arrives as the feature stage expects: the day's rows removed, new ones in a
    # later file (readings are never updated in place).
    day = START + timedelta(days=35)
    fixed = store.frame(fx_store, "SELECT household_id, ts_utc, kwh * 3 AS kwh FROM readings "
                                  "WHERE household_id = 'a' AND local_date = ?", [day])
    fx_store.execute("DELETE FROM readings WHERE household_id = 'a' AND local_date = ?", [day])
    store_readings(fx_store, fixed, file_id=2)
    out = stored_or_computed(fx_store, req, Spy())
    # the same readings in a fresh store, computed from scratch
    fresh = store.connect(tmp_path / "fresh.duckdb", timezone="Asia/Tokyo")
    store_readings(fresh, store.frame(fx_store, "SELECT household_id, ts_utc, kwh FROM readings"))
    expected = features.window_features(fresh, req)
    fresh.close()
    assert_frame_equal(_canon(out), _canon(expected), check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
    changed = _canon(out).filter(pl.col("household_id") == "a")["meal_kwh_mean_28d"]
    assert changed.to_list() != _canon(before).filter(pl.col("household_id") == "a")["meal_kwh_mean_28d"].to_list()
