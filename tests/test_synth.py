"""Synthetic cohort generator: determinism, prevalence, events in readings, overlap, layouts."""

from __future__ import annotations

import csv
import gzip
import json
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from meterrisk.synth import generate
from meterrisk.synth.frailty import FRAIL_THROUGHOUT, assign_trajectories
from meterrisk.synth.meter import SPAN_KINDS
from meterrisk.synth.params import FrailtyParams

START = date(2025, 1, 6)  # winter: heating on, so "at floor" checks are not trivially true
#: Highest possible floor: 45 W standby + 130 W fridge at full duty, per half hour, rounded up.
FLOOR_MAX = 0.0885


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "c"
    generate(out, households=300, days=60, start=START, seed=11)
    return out


@pytest.fixture(scope="module")
def matrix(cohort):
    """Readings as an (H, T) array (NaN = no reading) and the row of each household id.

    Slots inside a meter fault span of truth/faults.csv (outage, flat line) are NaN here: they
    show the meter, not the behaviour these tests check (tests/test_synth_meter.py checks them).
    """
    df = pl.read_parquet(cohort / "readings")
    ids = sorted(df["household_id"].unique())
    t0 = datetime(START.year, START.month, START.day)
    slot = ((df["ts"].dt.replace_time_zone(None) - t0).dt.total_minutes() // 30).to_numpy()
    pos = {h: i for i, h in enumerate(ids)}
    m = np.full((len(ids), 60 * 48), np.nan)
    m[[pos[h] for h in df["household_id"]], slot] = df["kwh"].to_numpy()
    spans = pl.read_csv(cohort / "truth" / "faults.csv").filter(pl.col("end_ts").is_not_null())
    for hid, s_ts, e_ts in spans.select("household_id", "ts", "end_ts").iter_rows():
        if hid in pos:
            m[pos[hid], _slot(s_ts):_slot(e_ts)] = np.nan
    return m, pos


def _slot(ts: str) -> int:
    t = datetime.fromisoformat(ts).replace(tzinfo=None)
    return int((t - datetime(START.year, START.month, START.day)).total_seconds() // 1800)


def _traits(cohort) -> dict[str, dict]:
    return {r["household_id"]: r for r in pl.read_csv(cohort / "truth" / "household_traits.csv")
            .iter_rows(named=True)}


def _events(cohort) -> pl.DataFrame:
    return pl.read_csv(cohort / "truth" / "events.csv", infer_schema=False)


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_same_seed_is_byte_identical_and_other_seed_differs(tmp_path):
    kw = dict(households=25, days=10, start=START, layout="csv", faults=0.02)
    generate(tmp_path / "a", seed=3, **kw)
    generate(tmp_path / "b", seed=3, **kw)
    generate(tmp_path / "c", seed=4, **kw)
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert a == b
    assert a["readings/part-00000.csv"] != c["readings/part-00000.csv"]
    manifest = json.loads(a["manifest.json"])
    assert manifest["arguments"]["seed"] == 3
    assert set(manifest["files"]) == set(a) - {"manifest.json"}


def test_parquet_output_is_byte_identical(tmp_path):
    for name in "ab":
        generate(tmp_path / name, households=20, days=7, start=START, seed=5)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


@pytest.mark.parametrize("band,age", [(0, 67), (1, 72), (2, 77), (3, 84)])
def test_frail_prevalence_by_age_band(band, age):
    p = FrailtyParams()
    n = 20_000
    kinds = assign_trajectories(np.full(n, age), 120, np.random.default_rng(band), p)
    share = (kinds == FRAIL_THROUGHOUT).mean()
    expected = p.prevalence[band]
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / n)


def test_registry_follows_contract(cohort):
    reg = pl.read_csv(cohort / "households.csv", infer_schema=False)
    assert reg.columns == ["household_id", "birth_year", "lives_alone", "consent_given_on",
                           "consent_withdrawn_on", "care_certified", "has_solar", "district"]
    assert reg["household_id"][0] == "H00001"
    assert set(reg["lives_alone"]) == {"true", "false"}
    no_consent = reg.filter(pl.col("consent_given_on").is_null())
    assert 0 < len(no_consent) < 0.15 * len(reg)
    readings_ids = set(pl.read_parquet(cohort / "readings")["household_id"].unique())
    assert readings_ids.isdisjoint(set(no_consent["household_id"]))
    alone = reg.filter(pl.col("lives_alone") == "true")
    assert len(alone) > 0.7 * len(reg)
    assert (2025 - alone["birth_year"].cast(pl.Int64)).min() >= 65


def test_consent_window_bounds_readings(cohort):
    reg = pl.read_csv(cohort / "households.csv", try_parse_dates=True)
    spans = (pl.read_parquet(cohort / "readings")
             .group_by("household_id").agg(first=pl.col("ts").min().dt.date(),
                                           last=pl.col("ts").max().dt.date()))
    j = spans.join(reg, on="household_id")
    assert (j["first"] >= j["consent_given_on"]).all()
    withdrawn = j.filter(pl.col("consent_withdrawn_on").is_not_null())
    assert (withdrawn["last"] < withdrawn["consent_withdrawn_on"]).all()


def test_night_floor_and_daily_energy_are_plausible(cohort, matrix):
    m, _ = matrix
    days = m.reshape(m.shape[0], -1, 48)
    night = days[:, :, 2:10]
    assert np.nanpercentile(night, 5) >= 0.015
    assert np.nanpercentile(night, 5) <= 0.05
    reg = pl.read_csv(cohort / "truth" / "household_traits.csv")
    single = np.array(reg.filter(pl.col("household_id").is_in(list(matrix[1])))["kind"]
                      == "single_older")
    daily = np.nansum(days, axis=2)
    # January in a Japanese town: above the 6-7 kWh/day yearly average, well below London's ~10.
    assert 5.0 < np.median(daily[single]) < 12.0


def test_collapse_leaves_only_floor_and_what_was_left_on(cohort, matrix):
    m, pos = matrix
    traits = _traits(cohort)
    ev = _events(cohort)
    collapses = ev.filter(pl.col("kind") == "collapse")
    assert len(collapses) >= 2
    others = ev.filter(pl.col("kind") == "appliance_left_on")
    checked = 0
    for hid, _, s_ts, e_ts, details in collapses.iter_rows():
        tr = traits[hid]
        # Timers go on without the resident: water heater, storage heater charging.
        if tr["all_electric"] or tr["has_solar"] or tr["night_storage_heating"]:
            continue
        left_on = float(details.split("=")[1])
        s, e = _slot(s_ts), min(_slot(e_ts), m.shape[1])
        busy = np.zeros(m.shape[1], dtype=bool)
        for row in others.filter(pl.col("household_id") == hid).iter_rows():
            busy[_slot(row[2]):_slot(row[3])] = True
        window = m[pos[hid], s:e][~busy[s:e]]
        window = window[~np.isnan(window)]
        assert (window <= FLOOR_MAX + left_on + 0.001).all(), hid
        checked += 1
    assert checked >= 1


def test_holiday_days_are_at_floor(cohort, matrix):
    m, pos = matrix
    traits = _traits(cohort)
    ev = _events(cohort)
    stays = ev.filter(pl.col("kind").is_in(["holiday", "hospital_stay"]))
    appliances = ev.filter(pl.col("kind") == "appliance_left_on")
    checked = 0
    for hid, _, s_ts, e_ts, _ in stays.iter_rows():
        if traits[hid]["all_electric"] or traits[hid]["has_solar"]:
            continue
        if hid in set(appliances["household_id"]):
            continue
        first_full_day = _slot(s_ts) // 48 + 1
        last_full_day = min(_slot(e_ts) // 48, 60)
        for d in range(first_full_day, last_full_day):
            day = m[pos[hid], d * 48:(d + 1) * 48]
            day = day[~np.isnan(day)]  # gaps and meter faults (see matrix)
            assert len(day) == 0 or day.max() <= FLOOR_MAX
            checked += 1
    assert checked >= 5


def test_appliance_left_on_is_an_elevated_constant_load(cohort, matrix):
    m, pos = matrix
    traits = _traits(cohort)
    rows = _events(cohort).filter(pl.col("kind") == "appliance_left_on")
    assert len(rows) > 10
    for hid, _, s_ts, e_ts, details in rows.iter_rows():
        # Solar exports; a low-standby meter may read 0 even under load (zero_propensity**2).
        if traits[hid]["has_solar"] or traits[hid]["zero_propensity"] > 0:
            continue
        kw = float(details.split("=")[1])
        window = m[pos[hid], _slot(s_ts):min(_slot(e_ts), m.shape[1])]
        window = window[~np.isnan(window)]
        # Rare whole-home outages read 0; the model allows a handful of them.
        assert (window >= kw * 0.5 + 0.01).mean() > 0.99


def test_outings_are_at_floor_in_daytime(cohort, matrix):
    m, pos = matrix
    traits = _traits(cohort)
    ev = _events(cohort)
    busy = {h for h in ev.filter(pl.col("kind") == "appliance_left_on")["household_id"]}
    outings = ev.filter(pl.col("kind") == "outing")
    assert len(outings) > 1000
    for hid, _, s_ts, e_ts, _ in outings.head(2000).iter_rows():
        if traits[hid]["has_solar"] or hid in busy:
            continue
        w = m[pos[hid], _slot(s_ts):_slot(e_ts)]
        w = w[~np.isnan(w)]  # gaps and meter faults (see matrix)
        assert len(w) == 0 or w.max() <= FLOOR_MAX, (hid, s_ts)


def _auc(pos_scores: np.ndarray, neg_scores: np.ndarray) -> float:
    allv = np.concatenate([pos_scores, neg_scores])
    ranks = np.argsort(np.argsort(allv)) + 1.0
    r_pos = ranks[: len(pos_scores)].sum()
    return (r_pos - len(pos_scores) * (len(pos_scores) + 1) / 2) / (len(pos_scores) * len(neg_scores))


def test_frail_and_robust_differ_in_documented_directions_but_overlap(cohort, matrix):
    m, pos = matrix
    truth = pl.read_parquet(cohort / "truth" / "frailty_daily.parquet")
    frail_share = truth.group_by("household_id").agg(pl.col("frail").mean())
    kinds = _traits(cohort)
    days = m.reshape(m.shape[0], -1, 48)
    groups = {True: [], False: []}
    for hid, share in frail_share.iter_rows():
        if hid in pos and kinds[hid]["kind"] == "single_older" and not kinds[hid]["all_electric"] \
                and not kinds[hid]["has_solar"] and share in (0.0, 1.0):
            groups[share == 1.0].append(pos[hid])
    frail, robust = np.array(groups[True]), np.array(groups[False])
    assert len(frail) >= 15 and len(robust) >= 100
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        daily = {
            # Cooking peak: highest 17:00-20:00 slot above the 14:00-17:00 median.
            "cooking_peak": np.nanmax(days[:, :, 34:40], axis=2)
            - np.nanmedian(days[:, :, 28:34], axis=2),
            "morning": np.nansum(days[:, :, 12:16], axis=2),            # 06:00-08:00
            "night": np.nansum(days[:, :, 0:10], axis=2),               # 00:00-05:00
            "daytime_at_floor": (days[:, :, 18:34] <= FLOOR_MAX).mean(axis=2),  # outings
        }
    for name, frail_higher in (("cooking_peak", False), ("morning", False), ("night", True),
                               ("daytime_at_floor", False)):
        feature = daily[name]
        sign = 1 if frail_higher else -1
        # Household means: the direction holds, yet one raw feature cannot separate groups.
        f, r = np.nanmean(feature[frail], axis=1), np.nanmean(feature[robust], axis=1)
        auc = _auc(sign * f, sign * r)
        assert 0.5 < auc < 0.85, (name, auc)
        # Household-days: the difference is significant (Welch z > 3).
        fd, rd = feature[frail].ravel(), feature[robust].ravel()
        fd, rd = fd[~np.isnan(fd)], rd[~np.isnan(rd)]
        z = sign * (fd.mean() - rd.mean()) / np.sqrt(fd.var() / len(fd) + rd.var() / len(rd))
        assert z > 3, (name, z)


def test_assessments_are_noisy_checklist_scores_in_waves(cohort):
    a = pl.read_csv(cohort / "assessments.csv", try_parse_dates=True)
    assert a.columns == ["household_id", "assessed_on", "checklist_score", "frail"]
    assert a["checklist_score"].is_between(0, 25).all()
    assert (a["frail"] == (a["checklist_score"] >= 8)).all()
    months = a["assessed_on"].dt.month().unique()
    assert len(months) >= 2
    truth = pl.read_parquet(cohort / "truth" / "frailty_daily.parquet")
    j = a.join(truth, left_on=["household_id", "assessed_on"], right_on=["household_id", "date"])
    agree = (j["frail"] == j["frail_right"]).mean()
    assert 0.8 < agree < 1.0  # informative, but misclassified near the cut-off


def test_onsets_fall_inside_period_after_onset(cohort):
    o = pl.read_csv(cohort / "truth" / "onsets.csv", try_parse_dates=True)
    assert set(o["trajectory"]) <= {"stable", "declining", "frail_throughout"}
    d = o.filter(pl.col("trajectory") == "declining")
    assert len(d) >= 1
    assert (d["frail_from_date"] > START).all()
    assert ((d["frail_from_date"] - d["onset_date"]).dt.total_days() >= 60).all()


def test_temperature_follows_japanese_seasons(tmp_path):
    generate(tmp_path / "y", households=2, days=365, start=date(2025, 1, 1), seed=2)
    t = pl.read_csv(tmp_path / "y" / "temperature.csv", try_parse_dates=True)
    by_month = t.group_by(pl.col("date").dt.month()).agg(pl.col("mean_temp_c").mean())
    month = dict(by_month.iter_rows())
    assert min(month, key=month.get) in (1, 2) and max(month, key=month.get) in (7, 8)
    assert 2 < month[1] < 8 and 25 < month[8] < 31


def _csv_rows(path: Path) -> list[list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        return list(csv.reader(fh))


def test_wide_layout_has_48_half_hour_columns(tmp_path):
    generate(tmp_path / "w", households=10, days=5, start=START, seed=1, layout="wide")
    rows = _csv_rows(tmp_path / "w" / "readings" / "part-00000.csv")
    assert rows[0] == ["household_id", "date"] + [f"hh{i:02d}" for i in range(1, 49)]
    assert all(len(r) == 50 for r in rows)


def test_register_never_decreases_except_at_reset(tmp_path):
    generate(tmp_path / "r", households=40, days=20, start=START, seed=2, layout="register",
             faults=0.03)
    faults = pl.read_csv(tmp_path / "r" / "truth" / "faults.csv")
    resets = set(faults.filter(pl.col("kind") == "meter_reset").select("household_id", "ts")
                 .iter_rows())
    assert resets
    bad = set(faults.filter(pl.col("kind").is_in(["conflicting_duplicate", "unparseable_ts",
                                                  "non_numeric_kwh", "malformed_line",
                                                  "off_grid_ts"]))
              .select("household_id", "ts").iter_rows())
    prev: dict[str, float] = {}
    seen_reset = 0
    for r in _csv_rows(tmp_path / "r" / "readings" / "part-00000.csv")[1:]:
        if len(r) != 3 or (r[0], r[1]) in bad:
            continue
        try:
            value = float(r[2])
            datetime.fromisoformat(r[1])
        except ValueError:
            continue
        if r[0] in prev and value < prev[r[0]]:
            assert (r[0], r[1]) in resets
            seen_reset += 1
        prev[r[0]] = value
    assert seen_reset == len(resets)


def test_faults_file_lists_injected_faults(tmp_path):
    generate(tmp_path / "f", households=40, days=14, start=START, seed=9, layout="csv",
             faults=0.02)
    faults = pl.read_csv(tmp_path / "f" / "truth" / "faults.csv")
    kinds = set(faults["kind"]) - set(SPAN_KINDS)  # meter spans come without --faults too
    assert kinds == {"missing_slots", "missing_day", "duplicate", "conflicting_duplicate",
                     "spike", "negative", "off_grid_ts", "unparseable_ts", "non_numeric_kwh",
                     "malformed_line"}
    rows = _csv_rows(tmp_path / "f" / "readings" / "part-00000.csv")
    wrong_width = [r for r in rows if len(r) != 3]
    assert len(wrong_width) == (faults["kind"] == "malformed_line").sum()
    texts = {(r[0], r[1]): r[2] for r in rows if len(r) == 3}
    for hid, _, ts, _, details in faults.filter(pl.col("kind") == "spike").iter_rows():
        assert texts[(hid, ts)] == "50.000"
    for hid, _, ts, _, details in faults.filter(pl.col("kind") == "off_grid_ts").iter_rows():
        late = (datetime.fromisoformat(ts) + timedelta(minutes=17)).isoformat()
        assert (hid, late) in texts and (hid, ts) not in texts
    clean = tmp_path / "clean"
    generate(clean, households=10, days=3, start=START, seed=9, layout="csv")
    clean_faults = pl.read_csv(clean / "truth" / "faults.csv")
    assert clean_faults.filter(~pl.col("kind").is_in(SPAN_KINDS)).is_empty()


def test_other_timezone_with_dst_has_46_slot_day(tmp_path):
    generate(tmp_path / "l", households=3, days=3, start=date(2025, 3, 29), seed=1,
             timezone="Europe/London")
    df = pl.read_parquet(tmp_path / "l" / "readings")
    per_day = (df.with_columns(d=pl.col("ts").dt.date()).group_by("household_id", "d").len()
               .filter(pl.col("d") == date(2025, 3, 30)))
    assert set(per_day["len"]) <= {46}


def test_cli_generates_and_reports_errors(tmp_path):
    from click.testing import CliRunner

    from meterrisk.cli import main

    runner = CliRunner()
    out = tmp_path / "cli"
    res = runner.invoke(main, ["synth", "--households", "5", "--days", "3", "--start",
                               "2025-04-01", "--seed", "1", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "manifest.json").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("x")
    res = runner.invoke(main, ["synth", "--households", "5", "--days", "3", "--out", str(busy)])
    assert res.exit_code == 2
    assert "not empty" in res.output


def test_realism_report_writes_markdown(cohort, tmp_path):
    from meterrisk.synth.report import realism_report

    text = realism_report(cohort, london=tmp_path / "no-london")
    assert (cohort / "realism.md").read_text() == text
    assert "night floor" in text and "Where they differ" in text


def test_all_layouts_carry_the_same_readings(tmp_path):
    from meterrisk.synth.report import read_synthetic

    got = {}
    for layout in ("long", "csv", "wide", "register"):
        generate(tmp_path / layout, households=12, days=4, start=START, seed=8, layout=layout)
        got[layout] = read_synthetic(tmp_path / layout).sort("household_id", "ts")
    long = got["long"]
    for layout in ("csv", "wide"):
        assert got[layout].equals(long), layout
    # The register counts imports only; its half-hour differences equal max(kwh, 0).
    reg = got["register"].join(long, on=["household_id", "ts"])
    assert len(reg) == len(long)
    assert (reg["kwh"] - reg["kwh_right"].clip(lower_bound=0)).abs().max() < 2e-3


def test_visitors_add_load(cohort, matrix):
    m, pos = matrix
    visits = _events(cohort).filter(pl.col("kind") == "visitor")
    assert len(visits) > 100
    lifts = []
    for hid, _, s_ts, e_ts, _ in visits.iter_rows():
        s, e = _slot(s_ts), min(_slot(e_ts), m.shape[1])
        if e - s < 2 or s // 48 == 0:
            continue
        # Same clock times on the previous day, which had no visitor in most cases.
        today, before = m[pos[hid], s:e], m[pos[hid], s - 48:e - 48]
        if not (np.isnan(today).all() or np.isnan(before).all()):
            lifts.append(np.nanmean(today) - np.nanmean(before))
    assert np.mean(lifts) > 0.05, np.mean(lifts)


def test_committed_sample_matches_its_documented_command(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "sample"
    if not (sample / "manifest.json").exists():
        pytest.skip("no committed sample")
    committed = json.loads((sample / "manifest.json").read_text())
    args = committed["arguments"]
    generate(tmp_path / "s", households=args["households"], days=args["days"],
             start=date.fromisoformat(args["start"]), seed=args["seed"])
    fresh = json.loads((tmp_path / "s" / "manifest.json").read_text())
    # Regenerate with the command in docs/synth.md when this fails after a model change.
    assert fresh["files"] == committed["files"]
