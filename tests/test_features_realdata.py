"""Features on real London smart-meter data (LCL 2013): every household with enough valid
days gets finite window features. Loads the CSVs straight into ``readings`` with Polars so it
does not depend on the ingest stage."""

from __future__ import annotations

import math

import polars as pl
import pytest
from conftest import REAL_LCL
from test_features_support import q, store_readings

from meterrisk import features, store

pytestmark = pytest.mark.realdata
FILES = sorted((REAL_LCL / "halfhourly").glob("*.csv.gz"))[:10]
KEY_FEATURES = [
    "daily_kwh_mean_28d", "baseload_kwh_mean_28d", "active_share_mean_28d", "wake_time_h_mean_28d",
    "bed_time_h_mean_28d", "wake_time_h_sd_28d", "regularity_corr_mean_28d", "meal_kwh_mean_28d",
    "daytime_floor_h_mean_28d", "night_activity_share_mean_28d", "interdaily_stability_28d",
    "intradaily_variability_28d", "l5_kwh_28d", "m10_kwh_28d", "relative_amplitude_28d",
    "activity_entropy_28d", "daily_kwh_slope_4w",
]


def load_lcl(path) -> pl.DataFrame:
    raw = pl.read_csv(path, infer_schema=False)
    return raw.select(
        household_id=pl.col("LCLid"),
        ts_utc=pl.col("tstp").str.slice(0, 19).str.to_datetime("%Y-%m-%d %H:%M:%S"),
        kwh=pl.col("energy(kWh/hh)").str.strip_chars().cast(pl.Float64, strict=False),
    ).filter(pl.col("kwh").is_not_null()).unique(["household_id", "ts_utc"])


@pytest.mark.skipif(not FILES, reason=f"real data not present at {REAL_LCL}")
def test_london_households_get_finite_window_features(tmp_path):
    con = store.connect(tmp_path / "s.duckdb", timezone="Europe/London")
    store_readings(con, pl.concat([load_lcl(f) for f in FILES]))
    features.compute(con, as_of=None)
    # Score each household at its own last full month, like a monthly town run.
    last = q(con, "SELECT household_id, max(local_date) - 1 AS as_of FROM readings GROUP BY ALL")
    out = features.window_features(con, last)
    assert out.height == len(FILES)
    eligible = out.filter(pl.col("valid_days_28d") >= 21)
    assert eligible.height >= len(FILES) // 2
    assert (eligible["dq_flag"] != "insufficient_data").all()
    for row in eligible.iter_rows(named=True):
        for col in KEY_FEATURES:
            value = row[col]
            assert value is not None and math.isfinite(value), (row["household_id"], col, value)
        assert 3 <= row["wake_time_h_mean_28d"] <= 14
        assert 0 < row["active_share_mean_28d"] < 1
    daily = q(con, "SELECT dq_flag, count(*) AS n FROM daily_features GROUP BY ALL")
    assert set(daily["dq_flag"]) <= {"ok", "low_coverage", "no_baseload"}
    con.close()
