"""Long stays with family: 1-4 weeks away, partly registered, at the floor in the readings."""

from __future__ import annotations

import dataclasses as dc
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from meterrisk.synth import SynthParams, generate

START = date(2025, 4, 1)  # spring: no heating, cooling or storage charging
DAYS = 90
FLOOR_MAX = 0.0885  # as tests/test_synth.py: 45 W standby + 130 W fridge, per half hour


def _slot(ts: str) -> int:
    t = datetime.fromisoformat(ts).replace(tzinfo=None)
    return int((t - datetime(START.year, START.month, START.day)).total_seconds() // 1800)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    p = SynthParams()
    p = dc.replace(p, events=dc.replace(p.events, family_stay_rate=1 / 60))
    out = tmp_path_factory.mktemp("stays") / "c"
    generate(out, households=60, days=DAYS, start=START, seed=5, params=p)
    return out


def _events(cohort: Path) -> pl.DataFrame:
    return pl.read_csv(cohort / "truth" / "events.csv", infer_schema=False)


def test_family_stays_last_one_to_four_weeks_and_say_if_registered(cohort):
    stays = _events(cohort).filter(pl.col("kind") == "family_stay")
    assert len(stays) >= 20
    registered = []
    for s_ts, e_ts, details in stays.select("start_ts", "end_ts", "details").iter_rows():
        fields = dict(f.split("=") for f in details.split())
        days = int(fields["days"])
        assert 7 <= days <= 28
        span_days = (_slot(e_ts) - _slot(s_ts)) / 48
        # Leaves at 10:00, back at 16:00 ``days`` later (cut at the period end).
        assert span_days <= days + 0.25 + 1e-9
        if _slot(e_ts) < DAYS * 48:
            assert abs(span_days - (days + 0.25)) < 1e-9
        registered.append(fields["registered"] == "true")
    assert 0.2 < np.mean(registered) < 0.8


def test_family_stays_never_overlap_other_absences(cohort):
    ev = _events(cohort).filter(pl.col("kind").is_in(["family_stay", "holiday", "hospital_stay",
                                                      "collapse"]))
    for hid, g in ev.group_by("household_id"):
        spans = sorted((_slot(s), _slot(e)) for s, e in g.select("start_ts", "end_ts").iter_rows())
        for (_, e1), (s2, _) in zip(spans, spans[1:]):
            assert s2 >= e1, hid


def test_family_stay_days_are_at_the_floor(cohort):
    df = pl.read_parquet(cohort / "readings")
    traits = {r["household_id"]: r for r in
              pl.read_csv(cohort / "truth" / "household_traits.csv").iter_rows(named=True)}
    ev = _events(cohort)
    appliances = set(ev.filter(pl.col("kind") == "appliance_left_on")["household_id"])
    t0 = datetime(START.year, START.month, START.day)
    df = df.with_columns(slot=(pl.col("ts").dt.replace_time_zone(None) - t0)
                         .dt.total_minutes() // 30)
    checked = 0
    for hid, s_ts, e_ts in ev.filter(pl.col("kind") == "family_stay").select(
            "household_id", "start_ts", "end_ts").iter_rows():
        tr = traits[hid]
        if tr["all_electric"] or tr["has_solar"] or tr["night_storage_heating"] \
                or hid in appliances:
            continue
        s, e = _slot(s_ts), _slot(e_ts)
        w = df.filter((pl.col("household_id") == hid) & pl.col("slot").is_between(s, e - 1))
        assert (w["kwh"] <= FLOOR_MAX).all(), hid
        checked += len(w)
    assert checked > 48 * 50
