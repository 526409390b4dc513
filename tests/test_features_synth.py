"""On a synthetic cohort, features move the way the generator's truth says frailty moves them.

Uses meterrisk.synth (generator) and meterrisk.ingest (loader); skipped when either is
missing. Frailty effects are amplified (documented in SynthParams) so a 100-household cohort
separates clearly; the comparison is restricted to people living alone without all-electric
night heating or solar, the population the service screens.
"""

from __future__ import annotations

import dataclasses as dc
from datetime import date, timedelta

import polars as pl
import pytest

synth = pytest.importorskip("meterrisk.synth")
ingest = pytest.importorskip("meterrisk.ingest")

from meterrisk import features, store  # noqa: E402

START, DAYS = date(2025, 1, 1), 120


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    p = synth.SynthParams()
    p = dc.replace(p, frailty=dc.replace(
        p.frailty, decline_rate_per_year=(3.0, 3.0, 3.0, 3.0), decline_to_frail_days=(40.0, 60.0),
        wake_delay_h=2.0, cooking_reduction=0.6, night_activity=0.15, meal_skip=0.4))
    synth.generate(out / "cohort", households=100, days=DAYS, start=START, seed=11, params=p)
    con = store.connect(out / "s.duckdb")
    ingest.load_registry(con, out / "cohort" / "households.csv")
    ingest.ingest_paths(con, [out / "cohort" / "readings"], ingest.load_profile("default"))
    as_of = START + timedelta(days=DAYS - 1)
    features.compute(con, as_of=as_of)
    truth = (
        pl.read_csv(out / "cohort" / "truth" / "household_traits.csv")
        .filter((pl.col("kind") == "single_older") & ~pl.col("all_electric") & ~pl.col("has_solar"))
        .join(pl.read_parquet(out / "cohort" / "truth" / "frailty_daily.parquet")
              .filter(pl.col("date") == as_of).select("household_id", "frail"), on="household_id")
    )
    windows = _windows(con, as_of)
    daily = con.sql("SELECT * FROM daily_features WHERE dq_flag = 'ok'").pl()
    con.close()
    events = pl.read_csv(out / "cohort" / "truth" / "events.csv", try_parse_dates=True).with_columns(
        local_date=pl.col("start_ts").dt.convert_time_zone("Asia/Tokyo").dt.date(),
        hours=(pl.col("end_ts") - pl.col("start_ts")).dt.total_minutes() / 60)
    windows = windows.join(truth, on="household_id").filter(pl.col("dq_flag") != "insufficient_data")
    return {"windows": windows, "daily": daily, "events": events}


def _windows(con, as_of):
    con.complete()  # DuckDB 2: finish pending execute() results before relation work
    return con.sql("SELECT * FROM household_features WHERE as_of = ?", params=[as_of]).pl()


def group_means(cohort: dict, col: str) -> tuple[float, float]:
    df = cohort["windows"]
    m = df.group_by("frail").agg(pl.col(col).mean())
    frail = m.filter(pl.col("frail"))[col][0]
    robust = m.filter(~pl.col("frail"))[col][0]
    return frail, robust


def test_appliance_left_on_days_show_stuck_on_load(cohort):
    left_on = cohort["events"].filter(pl.col("kind") == "appliance_left_on").select(
        "household_id", "local_date").unique().with_columns(event=pl.lit(True))
    days = cohort["daily"].join(left_on, on=["household_id", "local_date"], how="left").with_columns(
        pl.col("event").fill_null(False))
    means = days.group_by("event").agg(pl.col("stuck_on_h").mean())
    assert means.filter(pl.col("event"))["stuck_on_h"][0] > 2 * means.filter(~pl.col("event"))["stuck_on_h"][0]


def test_outings_show_as_daytime_floor(cohort):
    outings = cohort["events"].filter(pl.col("kind") == "outing").group_by("household_id", "local_date").agg(
        pl.col("hours").sum())
    days = cohort["daily"].join(outings, on=["household_id", "local_date"], how="left").with_columns(
        pl.col("hours").fill_null(0.0))
    assert days.select(pl.corr("hours", "longest_daytime_floor_h")).item() > 0.4


def test_frail_residents_wake_later(cohort):
    w = cohort["windows"]
    assert w.filter(pl.col("frail")).height >= 10 and w.filter(~pl.col("frail")).height >= 10
    frail, robust = group_means(cohort, "wake_time_h_mean_28d")
    assert frail > robust + 0.5


def test_frail_residents_cook_less_and_are_restless_at_night(cohort):
    frail, robust = group_means(cohort, "meal_kwh_mean_28d")
    assert frail < 0.9 * robust
    frail, robust = group_means(cohort, "night_activity_share_mean_28d")
    assert frail > robust


def test_frail_residents_days_are_less_regular(cohort):
    frail, robust = group_means(cohort, "regularity_corr_mean_28d")
    assert frail < robust
