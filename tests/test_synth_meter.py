"""Meter realism: exact zeros in normal use, outages, flat lines and gaps, all in truth."""

from __future__ import annotations

import dataclasses as dc
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from meterrisk.synth import SynthParams, generate
from meterrisk.synth.meter import SPAN_KINDS

START = date(2025, 4, 1)  # spring: no heating or cooling, so quiet nights are at the floor
DAYS = 40


def _slot(ts: str) -> int:
    t = datetime.fromisoformat(ts).replace(tzinfo=None)
    return int((t - datetime(START.year, START.month, START.day)).total_seconds() // 1800)


def _matrix(cohort: Path):
    df = pl.read_parquet(cohort / "readings")
    reg = pl.read_csv(cohort / "households.csv")
    pos = {h: i for i, h in enumerate(reg["household_id"])}
    t0 = datetime(START.year, START.month, START.day)
    slot = ((df["ts"].dt.replace_time_zone(None) - t0).dt.total_minutes() // 30).to_numpy()
    m = np.full((len(pos), DAYS * 48), np.nan)
    m[[pos[h] for h in df["household_id"]], slot] = df["kwh"].to_numpy()
    return m, pos


@pytest.fixture(scope="module")
def default_cohort(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("meter") / "d"
    generate(out, households=300, days=DAYS, start=START, seed=11)
    return out


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> Path:
    """Span rates far above the defaults so a small cohort has many of each kind."""
    p = SynthParams()
    p = dc.replace(p, meter=dc.replace(p.meter, outage_rate=0.01, flat_line_rate=0.01,
                                       no_data_rate=0.01, stop_reporting_per_year=2.0))
    out = tmp_path_factory.mktemp("meter") / "f"
    generate(out, households=60, days=DAYS, start=START, seed=4, params=p)
    return out


def test_zero_readings_at_the_london_rate_and_only_in_zero_prone_homes(default_cohort):
    df = pl.read_parquet(default_cohort / "readings")
    # London LCL 2013: 1.8% of readings are 0 outside runs of a day or more, 2.9% in all.
    share = (df["kwh"] == 0).mean()
    assert 0.01 < share < 0.04, share
    traits = pl.read_csv(default_cohort / "truth" / "household_traits.csv")
    per_home = (df.group_by("household_id").agg(zero=(pl.col("kwh") == 0).mean())
                .join(traits, on="household_id"))
    plain = per_home.filter(pl.col("zero_propensity") == 0)
    prone = per_home.filter(pl.col("zero_propensity") > 0)
    assert 0.1 < len(prone) / len(per_home) < 0.3
    # Homes without the propensity read 0 only in meter outages or the rare single-slot
    # outage (2e-6 per slot).
    spans = pl.read_csv(default_cohort / "truth" / "faults.csv")
    outage_homes = set(spans.filter(pl.col("kind") == "meter_outage")["household_id"])
    # (Solar homes also read 0 when panels just cover the use: net metering, not the meter.)
    clean = plain.filter(~pl.col("household_id").is_in(outage_homes) & ~pl.col("has_solar"))
    assert clean["zero"].max() < 0.001
    # The zero share follows the propensity: higher-p homes have more zeros.
    corr = np.corrcoef(prone["zero_propensity"], prone["zero"])[0, 1]
    assert corr > 0.9, corr


def test_low_propensity_homes_read_zero_mostly_at_night(default_cohort):
    m, pos = _matrix(default_cohort)
    traits = pl.read_csv(default_cohort / "truth" / "household_traits.csv")
    low = traits.filter(pl.col("zero_propensity").is_between(0.05, 0.3)
                        & pl.col("household_id").is_in(list(pos)))
    rows = [pos[h] for h in low["household_id"]]
    assert len(rows) >= 5
    days = m[rows].reshape(len(rows), DAYS, 48)
    with np.errstate(all="ignore"):
        night = np.nanmean(days[:, :, 2:10] == 0)     # 01:00-05:00, asleep at the floor
        evening = np.nanmean(days[:, :, 36:42] == 0)  # 18:00-21:00, up and cooking
    # Evenings read 0 with p**2 when someone is up, with p when the home is quiet (out,
    # on holiday or a stay): at these p's a small fraction of the night share.
    assert night > 0.05 and night > 2 * evening, (night, evening)


def _spans(cohort: Path) -> pl.DataFrame:
    f = pl.read_csv(cohort / "truth" / "faults.csv")
    return f.filter(pl.col("kind").is_in(SPAN_KINDS))


def test_every_span_kind_is_in_truth_with_an_end(faulty):
    spans = _spans(faulty)
    assert set(spans["kind"]) == set(SPAN_KINDS)
    assert spans["end_ts"].is_not_null().all()
    for s, e in spans.select("ts", "end_ts").iter_rows():
        assert _slot(e) > _slot(s)


def test_spans_match_the_readings_exactly(faulty):
    m, pos = _matrix(faulty)
    checked = {k: 0 for k in SPAN_KINDS}
    for hid, kind, s_ts, e_ts, details in _spans(faulty).iter_rows():
        w = m[pos[hid], _slot(s_ts):_slot(e_ts)]
        if kind == "meter_outage":
            assert (w == 0).all(), (hid, s_ts)            # rows present, all exactly 0
        elif kind == "flat_line":
            value = float(details.split()[0].split("=")[1])
            assert value != 0 and np.allclose(w, value), (hid, s_ts)
        else:                                             # no_data, stopped_reporting
            assert np.isnan(w).all(), (hid, s_ts)
        checked[kind] += 1
    assert min(checked.values()) >= 3, checked


def test_stopped_reporting_lasts_to_the_end_of_consent(faulty):
    reg = pl.read_csv(faulty / "households.csv", try_parse_dates=True)
    stops = _spans(faulty).filter(pl.col("kind") == "stopped_reporting").join(
        reg, on="household_id")
    assert len(stops) >= 3
    last = pl.read_parquet(faulty / "readings").group_by("household_id").agg(
        last=pl.col("ts").max())
    j = stops.join(last, on="household_id")
    for s_ts, e_ts, withdrawn, last_ts in j.select("ts", "end_ts", "consent_withdrawn_on",
                                                    "last").iter_rows():
        assert _slot(str(last_ts.isoformat())) < _slot(s_ts)
        end = _slot(e_ts)
        assert end == (DAYS * 48 if withdrawn is None
                       else min(DAYS * 48, (withdrawn - START).days * 48))


def test_spans_lie_inside_consent_and_readings_too(faulty):
    reg = pl.read_csv(faulty / "households.csv", try_parse_dates=True)
    j = _spans(faulty).join(reg, on="household_id")
    for s_ts, e_ts, given, withdrawn in j.select("ts", "end_ts", "consent_given_on",
                                                 "consent_withdrawn_on").iter_rows():
        assert _slot(s_ts) >= (given - START).days * 48
        if withdrawn is not None:
            assert _slot(e_ts) <= (withdrawn - START).days * 48
    spans = (pl.read_parquet(faulty / "readings").group_by("household_id")
             .agg(first=pl.col("ts").min().dt.date(), last=pl.col("ts").max().dt.date())
             .join(reg, on="household_id"))
    assert (spans["first"] >= spans["consent_given_on"]).all()
    w = spans.filter(pl.col("consent_withdrawn_on").is_not_null())
    assert (w["last"] < w["consent_withdrawn_on"]).all()


def test_events_continue_under_gaps(faulty):
    """Behaviour is truth whether or not the meter saw it: events inside gaps stay listed."""
    spans = _spans(faulty).filter(pl.col("kind").is_in(["no_data", "stopped_reporting"]))
    events = pl.read_csv(faulty / "truth" / "events.csv")
    inside = 0
    for hid, s_ts, e_ts in spans.select("household_id", "ts", "end_ts").iter_rows():
        s, e = _slot(s_ts), _slot(e_ts)
        ev = events.filter(pl.col("household_id") == hid)["start_ts"]
        inside += sum(s <= _slot(t) < e for t in ev)
    assert inside > 0


def test_meter_spans_are_deterministic_in_every_layout(tmp_path):
    p = SynthParams()
    p = dc.replace(p, meter=dc.replace(p.meter, outage_rate=0.02, flat_line_rate=0.02,
                                       no_data_rate=0.02, stop_reporting_per_year=2.0))
    for layout in ("csv", "wide", "register"):
        for name in "ab":
            generate(tmp_path / f"{layout}{name}", households=12, days=12, start=START, seed=6,
                     layout=layout, params=p)
        a, b = ((tmp_path / f"{layout}{x}").rglob("*") for x in "ab")
        fa = {q.relative_to(tmp_path / f"{layout}a"): q.read_bytes() for q in a if q.is_file()}
        fb = {q.relative_to(tmp_path / f"{layout}b"): q.read_bytes() for q in b if q.is_file()}
        assert fa == fb, layout


def test_meter_stats_counts_runs_gaps_and_early_stops():
    from meterrisk.synth.meter_stats import YEAR_SLOTS, measure

    v = 0.1 + (np.arange(YEAR_SLOTS) % 2) * 0.01        # never the same value twice in a row
    v[100:103] = 0.0                                     # a 3-slot zero run
    v[500] = 0.0                                         # an isolated zero
    v[1000:1010] = 0.25                                  # a 5-hour flat line
    have = np.ones(YEAR_SLOTS, dtype=bool)
    have[2000:2048] = False                              # one whole-day gap
    have[YEAR_SLOTS - 96:] = False                       # stops two days early
    t0 = datetime(2013, 1, 1)
    idx = np.flatnonzero(have)
    df = pl.DataFrame({"id": "A", "ts": [t0 + i * (datetime(2013, 1, 1, 0, 30) - t0) for i in idx],
                       "kwh": v[idx]})
    m = measure(df, t0, {})
    days = m["household_days"]
    assert m["readings"] == YEAR_SLOTS - 48 - 96
    assert m["zero_runs_per_1000_days"]["2-5 slots"] == round(1000 / days, 3)
    assert m["zero_runs_per_1000_days"]["1 slot"] == round(1000 / days, 3)
    assert m["flat_runs_per_1000_days"]["4-24 h"] == round(1000 / days, 3)
    assert m["longest_flat_run_slots"] == 10
    assert m["gaps_per_1000_days"]["1-3 days"] == round(1000 / days, 3)
    assert m["homes_stopping_early"] == 1.0
    assert m["zero_share"] == round(4 / m["readings"], 4)
