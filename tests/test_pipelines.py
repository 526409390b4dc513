"""The Prefect flows: inbox -> store -> features -> model -> risk list, reruns, retries, promotion.

Flows run against a temporary Prefect API (``prefect_test_harness``, one per session). The
town they build is shared (see ``pipelines_conftest``); tests that change it use a copy.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines_conftest import (  # noqa: F401  (fixtures)
    LATE_DELIVERY,
    SAMPLE,
    TOWN_ARGS,
    TOWN_DB,
    built_town,
    cohort,
    count,
    cwd,
    needs_run_alerts,
    prefect_harness,
    town_copy,
)

from meterrisk import store
from meterrisk.errors import InputFileError, MeterriskError
from meterrisk.store import StoreBusyError

RAW_ID = re.compile(r"^H\d+$")
EXPORT_COLUMNS = ["household_id", "district", "as_of", "risk_score", "risk_tier", "rank", "reasons",
                  "data_quality", "model_version", "new_concern", "concern_reasons"]
ACCOUNTS = ("rows_loaded", "rows_quarantined", "rows_duplicate", "rows_rejected_consent")


# --------------------------------------------------------------------------------------------
# Which failures are retried
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("exc", "transient"), [
    (OSError("disk hiccup"), True),
    (ConnectionResetError("network share dropped"), True),  # an OSError
    (StoreBusyError("the store is in use"), True),
    (MeterriskError("bad profile"), False),
    (InputFileError("x.csv", "missing columns"), False),
    (ValueError("a bug"), False),
    (KeyError("a bug"), False),
])
def test_is_transient(exc, transient):
    from pipelines.retries import is_transient

    assert is_transient(exc) is transient


def test_retry_condition_judges_the_exception_the_task_raised():
    from pipelines.retries import retry_on_transient_io

    def state(exc):
        def result():
            if exc is not None:
                raise exc
            return 1
        return SimpleNamespace(result=result)

    assert retry_on_transient_io(None, None, state(OSError("io"))) is True
    assert retry_on_transient_io(None, None, state(StoreBusyError("busy"))) is True
    assert retry_on_transient_io(None, None, state(MeterriskError("bad data"))) is False
    assert retry_on_transient_io(None, None, state(None)) is False  # nothing failed


# --------------------------------------------------------------------------------------------
# Promotion: which model scores
# --------------------------------------------------------------------------------------------

def _model(models: Path, version: str, precision, pr_auc) -> Path:
    path = models / version
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps(
        {"version": version, "metrics": {"precision_at_capacity": precision, "pr_auc": pr_auc}}))
    return path


@pytest.mark.parametrize(("new", "old", "promoted"), [
    ((0.5, 0.4), (0.4, 0.9), True),            # precision at capacity decides first
    ((0.4, 0.5), (0.4, 0.4), True),            # then PR-AUC
    ((0.4, 0.4), (0.4, 0.4), False),           # a tie keeps the current model
    ((0.3, 0.9), (0.4, 0.1), False),
    ((None, 0.9), (0.1, 0.1), False),          # a missing metric never wins
    ((float("nan"), 0.9), (0.1, 0.1), False),  # nor does NaN (json writes NaN and reads it back)
    ((0.1, 0.1), (float("nan"), 0.9), True),
])
def test_should_promote_compares_precision_then_pr_auc(tmp_path, new, old, promoted):
    from pipelines.promotion import should_promote

    candidate = _model(tmp_path, "20250102-000000", *new)
    current = _model(tmp_path, "20250101-000000", *old)
    ok, why = should_promote(candidate, current)
    assert ok is promoted
    assert current.name in why


_metric = st.one_of(st.none(), st.just(float("nan")), st.floats(0, 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=st.tuples(_metric, _metric), b=st.tuples(_metric, _metric))
def test_promotion_is_a_strict_order(tmp_path_factory, a, b):
    """Never both ways, so two retrains cannot flip-flop the current model; always one way
    when the keys differ."""
    from pipelines.promotion import should_promote

    models = tmp_path_factory.mktemp("models")
    first, second = _model(models, "v1", *a), _model(models, "v2", *b)
    one_way, other_way = should_promote(first, second)[0], should_promote(second, first)[0]
    assert not (one_way and other_way)

    def key(m):
        return tuple(float("-inf") if x is None or x != x else x for x in m)

    assert (one_way or other_way) == (key(a) != key(b))


def test_should_promote_without_a_current_model(tmp_path):
    from pipelines.promotion import should_promote

    candidate = _model(tmp_path, "20250102-000000", 0.0, 0.0)
    assert should_promote(candidate, None) == (True, "no current model")
    assert should_promote(candidate, candidate)[0] is True


def test_current_model_follows_the_pointer_never_the_newest(tmp_path):
    from meterrisk.model.registry import current, promote

    models = tmp_path / "models"
    older = _model(models, "20250101-000000", 0.5, 0.5)
    _model(models, "20250102-000000", 0.1, 0.1)
    (models / "20250103-000000").mkdir()  # an interrupted training: no manifest, never chosen
    with pytest.raises(MeterriskError, match="CURRENT"):  # two models, no pointer: refuse, not the newest
        current(models)
    promote(models, older)
    assert (models / "CURRENT").read_text().strip() == older.name
    assert not list(models.glob("*.tmp"))
    assert current(models) == older
    shutil.rmtree(older)  # pointer to a model that is gone: an error, not the newest
    with pytest.raises(MeterriskError, match="not a model folder"):
        current(models)


def test_current_model_without_models_is_a_clear_error(tmp_path):
    from meterrisk.model.registry import current

    (tmp_path / "models").mkdir()
    with pytest.raises(MeterriskError, match="no trained model") as info:
        current(tmp_path / "models")
    assert "meterrisk train" in info.value.hint


# --------------------------------------------------------------------------------------------
# The whole chain: files in an inbox become a risk list
# --------------------------------------------------------------------------------------------

def test_chain_writes_the_care_staff_risk_list(built_town):
    town, out = built_town
    risk = out["risk_list"]
    path = town / risk["export"]["path"]
    assert path.exists() and path.suffix == ".parquet"
    assert path.parent == town / "data" / "exports"
    df = pl.read_parquet(path)
    assert df.columns == EXPORT_COLUMNS
    assert df.height == risk["export"]["rows"] > 0
    with duckdb.connect(str(town / TOWN_DB), read_only=True) as con:
        registry = dict(con.execute("SELECT household_id, district FROM households").fetchall())
        latest = con.execute("SELECT max(local_date) FROM readings").fetchall()[0][0]
    ids = df["household_id"].to_list()
    assert all(RAW_ID.match(i) for i in ids), "care staff need the registry id to know whom to visit"
    assert set(ids) <= set(registry) and len(set(ids)) == len(ids)
    assert df["district"].to_list() == [registry[i] for i in ids]
    assert risk["as_of"] == str(latest) and df["as_of"].unique().to_list() == [latest]
    assert df["rank"].to_list() == list(range(1, df.height + 1))
    assert df["risk_score"].is_sorted(descending=True)
    assert set(df["risk_tier"].unique()) <= {"high", "medium", "low"}
    assert df["model_version"].unique().to_list() == [out["train"]["current"]]


def test_chain_moves_every_inbox_file_to_the_archive(built_town):
    town, out = built_town
    inbox = town / "data" / "inbox"
    assert [p for p in inbox.rglob("*") if p.is_file()] == []
    archived = sorted(p.name for p in (town / "data" / "archive").rglob("*") if p.is_file())
    assert archived == out["inbox_files"] == sorted([LATE_DELIVERY, "part-a.parquet", "part-b.parquet"])
    assert [f["file"] for f in out["daily"]["files"]] == out["inbox_files"]


def test_chain_ingest_accounting_adds_up(built_town):
    town, out = built_town
    files = {f["file"]: f for f in out["daily"]["files"]}
    for f in files.values():
        assert f["rows_read"] == sum(f[k] for k in ACCOUNTS), f
    assert files["part-a.parquet"]["status"] == files["part-b.parquet"]["status"] == "loaded"
    late = files[LATE_DELIVERY]
    assert late["status"] == "loaded_with_quarantine"
    assert late["rows_read"] == 4 and late["rows_rejected_consent"] == 2 and late["rows_quarantined"] >= 1
    db = town / TOWN_DB
    assert count(db, "SELECT count(*) FROM readings") == sum(f["rows_loaded"] for f in files.values())
    assert count(db, "SELECT count(*) FROM quarantine") == sum(f["rows_quarantined"] for f in files.values())
    assert count(db, "SELECT count(*) FROM readings WHERE household_id = 'H99999'") == 0
    with duckdb.connect(str(db), read_only=True) as con:
        stored = {r[0]: r[1:] for r in con.execute(
            "SELECT regexp_extract(path, '[^/]+$'), rows_read, rows_loaded, rows_quarantined FROM ingest_files"
        ).fetchall()}
    assert stored == {n: (f["rows_read"], f["rows_loaded"], f["rows_quarantined"]) for n, f in files.items()}


def test_chain_staged_registry_assessments_and_features(built_town):
    town, out = built_town
    staged = out["staged"]
    assert staged["households"] == TOWN_ARGS["households"] and staged["files"] == 1
    assert staged["temperature_days"] >= TOWN_ARGS["days"] and staged["assessments"]["loaded"] > 0
    db = town / TOWN_DB
    assert count(db, "SELECT count(*) FROM daily_features") > 0
    assert count(db, "SELECT count(*) FROM household_features") > 0


def test_chain_trains_and_promotes_the_first_model(built_town):
    town, out = built_town
    trained = out["train"]
    assert trained["promoted"] is True and trained["why"] == "no current model"
    assert trained["current"] == trained["candidate"] == out["risk_list"]["model"]
    assert (town / "models" / "CURRENT").read_text().strip() == trained["candidate"]
    manifest = json.loads((town / "models" / trained["candidate"] / "manifest.json").read_text())
    assert "lead_time_weeks_median" in manifest["metrics"]  # trained with --truth


def test_chain_publishes_a_snapshot_of_the_run(built_town):
    town, out = built_town
    from meterrisk.store.snapshot import snapshot_path

    snap = snapshot_path(town / TOWN_DB)
    assert Path(out["daily"]["snapshot"]).name == snap.name and snap.exists()
    assert count(snap, "SELECT count(*) FROM readings") == count(town / TOWN_DB, "SELECT count(*) FROM readings")


# --------------------------------------------------------------------------------------------
# Reruns change nothing
# --------------------------------------------------------------------------------------------

def _state(db: Path) -> dict:
    return {t: count(db, f"SELECT count(*) FROM {t}") for t in
            ("readings", "quarantine", "ingest_files", "daily_features", "household_features", "alerts")}


def test_rerun_with_an_empty_inbox_changes_nothing(town_copy, prefect_harness):
    from pipelines.features import features_flow
    from pipelines.ingest import ingest_flow

    db = town_copy / TOWN_DB
    before = _state(db)
    with cwd(town_copy):
        assert ingest_flow(db=TOWN_DB) == []
        features_flow(db=TOWN_DB)
    assert _state(db) == before


@needs_run_alerts
def test_second_daily_run_with_an_empty_inbox_is_a_no_op(town_copy, prefect_harness):
    from pipelines.daily import daily_flow

    db = town_copy / TOWN_DB
    with cwd(town_copy):
        first = daily_flow(db=TOWN_DB)  # alerts for the latest day, if the build ran without them
        before = _state(db)
        alert_rows = count(db, "SELECT count(*) FROM alerts")
        second = daily_flow(db=TOWN_DB)
    assert second["files"] == []
    assert _state(db) == before
    assert count(db, "SELECT count(*) FROM alerts") == alert_rows
    assert isinstance(second["alerts"].get("alerts", 0), int)
    assert first["snapshot"] == second["snapshot"]


def test_redropped_file_is_already_ingested_and_archived(town_copy, prefect_harness):
    from pipelines.ingest import ingest_flow

    db = town_copy / TOWN_DB
    before = _state(db)
    (archived,) = (town_copy / "data" / "archive").rglob("part-b.parquet")
    shutil.copy2(archived, town_copy / "data" / "inbox" / "part-b.parquet")
    with cwd(town_copy):
        (result,) = ingest_flow(db=TOWN_DB)
    assert result["file"] == "part-b.parquet" and result["status"] == "already_ingested"
    assert result["rows_loaded"] == 0
    assert not (town_copy / "data" / "inbox" / "part-b.parquet").exists()
    assert archived.exists()
    assert _state(db) == before


# --------------------------------------------------------------------------------------------
# Failures: transient ones are retried, bad data is not
# --------------------------------------------------------------------------------------------

@pytest.fixture
def small_inbox(tmp_path, monkeypatch) -> Path:
    """A store with the sample registry and the sample's readings waiting in the inbox."""
    monkeypatch.chdir(tmp_path)
    from meterrisk import ingest

    con = store.connect(TOWN_DB)
    try:
        ingest.load_registry(con, SAMPLE / "households.csv")
    finally:
        con.close()
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy2(SAMPLE / "readings" / "part-00000.parquet", inbox / "sample.parquet")
    return tmp_path


def _flaky(monkeypatch, exc: BaseException, failures: int = 1) -> list:
    """Make ``ingest_file`` (as the ingest flow looks it up) raise ``exc`` ``failures`` times."""
    import pipelines.ingest

    real = pipelines.ingest.ingest.ingest_file
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args[1])
        if len(calls) <= failures:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(pipelines.ingest.ingest, "ingest_file", flaky)
    return calls


def test_transient_io_error_is_retried_and_the_file_loads_once(small_inbox, monkeypatch, prefect_harness):
    from pipelines.ingest import ingest_flow

    calls = _flaky(monkeypatch, OSError("NFS server not responding"))
    (result,) = ingest_flow(db=TOWN_DB)
    assert len(calls) == 2
    assert result["status"] == "loaded" and result["rows_loaded"] > 0
    assert count(TOWN_DB, "SELECT count(*) FROM readings") == result["rows_loaded"]
    assert count(TOWN_DB, "SELECT count(*) FROM ingest_files") == 1
    assert not (small_inbox / "data" / "inbox" / "sample.parquet").exists()


def test_busy_store_is_retried(small_inbox, monkeypatch, prefect_harness):
    from pipelines.ingest import ingest_flow

    calls = _flaky(monkeypatch, StoreBusyError("the store is in use by another process"))
    (result,) = ingest_flow(db=TOWN_DB)
    assert len(calls) == 2 and result["status"] == "loaded"


def test_meterrisk_error_is_not_retried(small_inbox, monkeypatch, prefect_harness):
    from pipelines.ingest import ingest_flow

    calls = _flaky(monkeypatch, MeterriskError("the profile says Wh but the file says kWh"), failures=99)
    with pytest.raises(MeterriskError, match="Wh"):
        ingest_flow(db=TOWN_DB)
    assert len(calls) == 1
    assert (small_inbox / "data" / "inbox" / "sample.parquet").exists()  # left for a fixed rerun
    assert count(TOWN_DB, "SELECT count(*) FROM readings") == 0


def test_unreadable_file_goes_to_failed_and_is_not_picked_up_again(small_inbox, prefect_harness):
    from pipelines.ingest import ingest_flow

    inbox = small_inbox / "data" / "inbox"
    (inbox / "garbage.csv").write_bytes(b"\x00\x01 this is not a meter export\n")
    results = {r["file"]: r for r in ingest_flow(db=TOWN_DB)}
    assert results["garbage.csv"]["status"] == "failed" and results["garbage.csv"]["message"]
    assert results["sample.parquet"]["status"] == "loaded"
    assert (inbox / "failed" / "garbage.csv").exists()
    assert ingest_flow(db=TOWN_DB) == []  # inbox/failed/ waits for a person


def test_bad_profile_fails_before_any_file_moves(small_inbox, prefect_harness):
    from pipelines.ingest import ingest_flow

    with pytest.raises(MeterriskError):
        ingest_flow(db=TOWN_DB, profile="no-such-profile")
    assert (small_inbox / "data" / "inbox" / "sample.parquet").exists()


# --------------------------------------------------------------------------------------------
# Training promotion, risk list and demo guards (no training needed)
# --------------------------------------------------------------------------------------------

def test_train_flow_keeps_the_current_model_when_the_candidate_is_worse(tmp_path, monkeypatch, prefect_harness):
    import pipelines.train
    from prefect import task

    monkeypatch.chdir(tmp_path)
    store.connect(TOWN_DB).close()  # the flow needs a store; the stubbed training does not read it
    models = tmp_path / "models"
    good = _model(models, "20250101-000000", 0.6, 0.6)
    (models / "CURRENT").write_text(good.name + "\n")

    @task(name="train-model")
    def worse(db, models_dir, capacity, truth, seed):
        return str(_model(Path(models_dir), "20250201-000000", 0.2, 0.9))

    monkeypatch.setattr(pipelines.train, "train_model", worse)
    out = pipelines.train.train_flow(db=TOWN_DB, models_dir=models)
    assert out == {"candidate": "20250201-000000", "promoted": False, "why": out["why"], "current": good.name}
    assert "does not beat" in out["why"]
    assert (models / "CURRENT").read_text().strip() == good.name


def test_train_flow_rejects_a_capacity_outside_0_1(tmp_path, monkeypatch, prefect_harness):
    from pipelines.train import train_flow

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="capacity"):
        train_flow(db=TOWN_DB, capacity=10)


def test_risk_list_flow_without_a_model_says_train_first(small_inbox, prefect_harness):
    from pipelines.ingest import ingest_flow
    from pipelines.risk_list import risk_list_flow

    ingest_flow(db=TOWN_DB)
    with pytest.raises(MeterriskError, match="no trained model"):
        risk_list_flow(db=TOWN_DB, models_dir=small_inbox / "models")


def test_risk_list_flow_on_an_empty_store_says_ingest_first(tmp_path, monkeypatch, prefect_harness):
    from pipelines.risk_list import risk_list_flow

    monkeypatch.chdir(tmp_path)
    store.connect(TOWN_DB).close()  # a store, but nothing in it
    with pytest.raises(MeterriskError, match="no readings"):
        risk_list_flow(db=TOWN_DB)


def test_demo_flow_refuses_a_town_too_small_to_train(tmp_path, prefect_harness):
    from pipelines.demo import demo_flow

    with pytest.raises((ValueError, MeterriskError), match="at least 50 households"):
        demo_flow(households=10, days=200, data_dir=tmp_path / "data", models_dir=tmp_path / "models")
    assert not (tmp_path / "data" / "synthetic").exists() and not (tmp_path / "data" / "meterrisk.duckdb").exists()


def test_deployments_schedule_daily_and_monthly_in_local_time():
    from pipelines.deployments import DAILY_CRON, MONTHLY_CRON, deployments

    deps = {d.name: d for d in deployments("Asia/Tokyo")}
    assert set(deps) == {"daily", "alerts-intraday", "monthly-risk-list", "train"}
    (daily,) = deps["daily"].schedules
    assert daily.schedule.cron == DAILY_CRON and daily.schedule.timezone == "Asia/Tokyo"
    (monthly,) = deps["monthly-risk-list"].schedules
    assert monthly.schedule.cron == MONTHLY_CRON
    assert not deps["train"].schedules


def test_generate_cohort_reuses_a_cohort_made_with_the_same_arguments(cohort, tmp_path):
    from pipelines.demo import generate_cohort

    start = TOWN_ARGS["start"]
    assert generate_cohort.fn(cohort, TOWN_ARGS["households"], TOWN_ARGS["days"], start,
                              TOWN_ARGS["seed"]) == str(cohort)
    copy = tmp_path / "copy"
    shutil.copytree(cohort, copy)
    stamp = (copy / "households.csv").stat().st_mtime_ns
    generate_cohort.fn(copy, TOWN_ARGS["households"], TOWN_ARGS["days"], start, TOWN_ARGS["seed"])
    assert (copy / "households.csv").stat().st_mtime_ns == stamp  # reused, not regenerated
    assert date.fromisoformat(json.loads((copy / "manifest.json").read_text())["arguments"]["start"]) == start
