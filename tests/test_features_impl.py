"""Fast implementations against their straightforward reference versions on random frames."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from meterrisk.features import daily


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shuffle_keys", [False, True])
def test_longest_run_matches_group_by_reference(seed, shuffle_keys):
    rng = np.random.default_rng(seed)
    n = 5000
    keys = np.sort(rng.integers(0, 80, n)) * 1_000_000 + rng.integers(0, 3, n) * 0
    if shuffle_keys:  # keys not in blocks: a key may come back later
        keys = rng.integers(0, 40, n).astype(np.int64)
    df = pl.DataFrame({
        "dkey": keys.astype(np.int64),
        "cond": rng.random(n) < rng.uniform(0.2, 0.9),
        "prev_adjacent": rng.random(n) < 0.9,
    })
    got = daily._longest_run(df, "dkey").sort("dkey")
    want = daily._longest_run_polars(df, "dkey").sort("dkey")
    assert got.schema == want.schema
    assert got.equals(want)


def test_longest_run_of_an_empty_frame():
    df = pl.DataFrame(schema={"dkey": pl.Int64, "cond": pl.Boolean, "prev_adjacent": pl.Boolean})
    assert daily._longest_run(df, "dkey").schema == daily._longest_run_polars(df, "dkey").schema


@pytest.mark.parametrize("seed", range(3))
def test_with_clock_matches_datetime_accessors(seed):
    from meterrisk.features import activity

    rng = np.random.default_rng(seed)
    n = 4000
    hh = np.sort(rng.choice(["A", "B", "C", "D"], n))
    # Mostly half-hour steps, some gaps and odd minutes, within each household sorted in time.
    step = rng.choice([30, 30, 30, 60, 17, 90], n).astype("timedelta64[m]")
    utc = np.datetime64("2024-12-30T20:00", "us") + np.cumsum(step).astype("timedelta64[us]")
    offset = rng.choice([9 * 60, 0, -5 * 60]).astype("timedelta64[m]")
    local = utc + offset
    df = pl.DataFrame({"household_id": hh, "ts_utc": utc, "local_ts": local}).with_columns(
        local_date=pl.col("local_ts").dt.date(), kwh=pl.Series(rng.random(n)))
    got = activity.with_clock(df)
    want = activity.with_clock_reference(df)
    assert got.schema == want.schema
    assert got.equals(want)
