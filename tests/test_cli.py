"""The ``meterrisk`` command: each command's happy path and its main error.

Errors are one line ``error: ...`` (plus an optional ``hint: ...``) on stderr and a
non-zero exit, never a traceback. Every command's --help shows an example.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from pipelines_conftest import (  # noqa: F401  (fixtures)
    SAMPLE,
    TOWN_DB,
    built_town,
    cohort,
    count,
    needs_run_alerts,
    one_blas_thread,
    prefect_harness,
    town_copy,
)

from meterrisk.cli import main

PREFECT_LOG = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| ")
EXPORT_COLUMNS = ["household_id", "district", "as_of", "risk_score", "risk_tier", "rank", "reasons",
                  "data_quality", "model_version", "new_concern", "concern_reasons"]
#: The CSV: one column per reason (a reason may hold "; " or commas)
CSV_EXPORT_COLUMNS = ["household_id", "district", "as_of", "risk_score", "risk_tier", "rank", "reason_1", "reason_2",
                      "reason_3", "data_quality", "model_version", "new_concern", "concern_reason_1",
                      "concern_reason_2", "concern_reason_3"]


def cli(*args: str, ok: bool = True):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def assert_one_line_error(result, *needles: str, code: int | None = None) -> str:
    """A user error: non-zero exit, ``error:`` then at most a ``hint:`` line, no traceback."""
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not an uncaught exception
    assert "Traceback" not in result.output
    # Commands that run flows may log Prefect's one-line run states first: "07:52:59.112 | ERROR | ..."
    lines = [line for line in result.stderr.strip().splitlines() if not PREFECT_LOG.match(line)]
    assert lines and lines[0].startswith("error: "), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    """A store with the committed sample cohort: registry, temperatures, assessments, readings."""
    db = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    for args in (["households", SAMPLE / "households.csv"], ["temperature", SAMPLE / "temperature.csv"],
                 ["assessments", SAMPLE / "assessments.csv"], ["ingest", SAMPLE / "readings"]):
        cli(args[0], "--db", db, *args[1:])
    return db


@pytest.fixture
def db_copy(sample_db, tmp_path) -> Path:
    db = tmp_path / "store.duckdb"
    shutil.copy2(sample_db, db)
    return db


# --------------------------------------------------------------------------------------------
# Help
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_help_shows_an_example(command):
    out = cli(command, "--help").output
    assert "Example" in out, out
    assert f"meterrisk {command}" in out.split("Example", 1)[1]


def test_top_level_help_lists_every_command():
    out = cli("--help").output
    assert "Example" in out
    for name in main.commands:
        assert name in out


def test_the_console_script_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "meterrisk.cli", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("meterrisk")


# --------------------------------------------------------------------------------------------
# Registry, temperatures, readings, assessments
# --------------------------------------------------------------------------------------------

def test_households_loads_the_registry(tmp_path):
    out = cli("households", "--db", tmp_path / "s.duckdb", SAMPLE / "households.csv").output
    # One of the 40 withdrew in February 2025: withdrawn and forgotten, then kept withdrawn.
    assert "40 households (39 new, 0 updated, 1 withdrawn and purged)" in out
    again = cli("households", "--db", tmp_path / "s.duckdb", SAMPLE / "households.csv").output
    assert "(0 new, 39 updated, 1 kept withdrawn)" in again


def test_households_bad_registry_names_line_and_column(tmp_path):
    lines = (SAMPLE / "households.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")  # file line 3
    row[header.index("birth_year")] = "nineteen-forty"
    lines[2] = ",".join(row)
    bad = tmp_path / "households.csv"
    bad.write_text("\n".join(lines) + "\n")
    db = tmp_path / "s.duckdb"
    line = assert_one_line_error(cli("households", "--db", db, bad, ok=False), "line 3, column birth_year",
                                 "nineteen-forty")
    assert str(bad) in line
    assert count(db, "SELECT count(*) FROM households") == 0  # nothing changes


def test_households_missing_file_is_a_usage_error(tmp_path):
    result = cli("households", "--db", tmp_path / "s.duckdb", tmp_path / "nope.csv", ok=False)
    assert result.exit_code == 2 and "does not exist" in result.output and "Traceback" not in result.output


def test_temperature_loads_days(tmp_path):
    out = cli("temperature", "--db", tmp_path / "s.duckdb", "--create", SAMPLE / "temperature.csv").output
    n = pl.read_csv(SAMPLE / "temperature.csv").height
    assert f"{n} days of temperature loaded" in out


def test_temperature_without_its_columns_is_one_line(tmp_path):
    bad = tmp_path / "t.csv"
    bad.write_text("day,temp\n2025-01-01,3.5\n")
    assert_one_line_error(cli("temperature", "--db", tmp_path / "s.duckdb", "--create", bad, ok=False), "mean_temp_c")


def test_ingest_loads_a_folder_and_a_second_time_changes_nothing(sample_db, tmp_path):
    db = tmp_path / "s.duckdb"
    cli("households", "--db", db, SAMPLE / "households.csv")
    first = cli("ingest", "--db", db, SAMPLE / "readings").output
    assert "[1/1] loaded:" in first and "1 files (0 failed)" in first
    n = count(db, "SELECT count(*) FROM readings")
    assert n > 0 and f"{n} loaded" in first
    second = cli("ingest", "--db", db, SAMPLE / "readings").output
    assert "already_ingested" in second and count(db, "SELECT count(*) FROM readings") == n


def test_ingest_with_quarantined_rows_exits_1_with_counts(db_copy, tmp_path):
    f = tmp_path / "late.csv"
    f.write_text("household_id,ts,kwh\n"
                 "H00001,2025-02-20T00:00:00+09:00,abc\n"       # quarantined
                 "H00001,2025-02-20T00:30:00+09:00,-5\n"        # quarantined (no solar)  or loaded
                 "H99999,2025-02-20T00:00:00+09:00,0.1\n")      # not in the registry
    result = cli("ingest", "--db", db_copy, f, ok=False)
    assert result.exit_code == 1
    assert "loaded_with_quarantine" in result.stdout
    assert "3 rows read" in result.stdout and "1 rejected for consent" in result.stdout
    assert "quarantined" in result.stdout and "quarantine" in result.stderr  # the hint where to look
    assert "Traceback" not in result.output


def test_ingest_nonexistent_path_is_one_line(tmp_path):
    missing = tmp_path / "no-such-export.csv"
    assert_one_line_error(cli("ingest", "--db", tmp_path / "s.duckdb", missing, ok=False),
                          str(missing), "no such file")


def test_ingest_unknown_profile_is_one_line(tmp_path):
    assert_one_line_error(cli("ingest", "--db", tmp_path / "s.duckdb", "--profile", "nope", SAMPLE / "readings",
                              ok=False), "nope")


def test_assessments_load_and_reject_bad_files(tmp_path):
    db = tmp_path / "s.duckdb"
    cli("households", "--db", db, SAMPLE / "households.csv")
    out = cli("assessments", "--db", db, SAMPLE / "assessments.csv").output
    n = pl.read_csv(SAMPLE / "assessments.csv").height
    assert f"{n} read" in out and count(db, "SELECT count(*) FROM assessments") > 0
    bad = tmp_path / "a.csv"
    bad.write_text("household_id,when\nH00001,2025-02-01\n")
    assert_one_line_error(cli("assessments", "--db", db, bad, ok=False), "missing columns")


def test_synth_writes_a_small_cohort(tmp_path):
    out = cli("synth", "--households", 4, "--days", 3, "--seed", 1, "--out", tmp_path / "c").output
    assert "wrote" in out and "readings for" in out
    for name in ("households.csv", "assessments.csv", "temperature.csv", "manifest.json"):
        assert (tmp_path / "c" / name).exists()
    assert list((tmp_path / "c" / "readings").iterdir())


def test_synth_report_on_a_folder_without_readings_is_one_line(tmp_path):
    assert_one_line_error(cli("synth", "--report", tmp_path, ok=False), "no readings/ folder")


def test_features_on_an_empty_store_says_load_readings(tmp_path):
    cli("households", "--db", tmp_path / "s.duckdb", SAMPLE / "households.csv")
    assert_one_line_error(cli("features", "--db", tmp_path / "s.duckdb", ok=False), "no readings")


def test_features_list_and_compute(db_copy):
    catalogue = cli("features", "--list").output.splitlines()
    assert len(catalogue) > 5 and all(len(line.split("\t")) == 4 for line in catalogue)
    out = cli("features", "--db", db_copy).output
    assert out.startswith("features as of ") and count(db_copy, "SELECT count(*) FROM daily_features") > 0
    again = cli("features", "--db", db_copy).output
    assert "0 household-days recomputed" in again


# --------------------------------------------------------------------------------------------
# Model: train, score, export
# --------------------------------------------------------------------------------------------

def test_train_score_export_on_a_small_town(town_copy, tmp_path):
    db = town_copy / TOWN_DB
    models = tmp_path / "models"
    with one_blas_thread():
        out = cli("train", "--db", db, "--models-dir", models, "--version", "cli-test", "--seed", 1).output
    assert "model cli-test ->" in out and "ROC-AUC" in out and "age only" in out
    model = models / "cli-test"
    assert (model / "manifest.json").exists() and (model / "MODEL_CARD.md").exists()

    latest = count(db, "SELECT max(local_date) FROM readings")
    scored = cli("score", "--db", db, "--as-of", latest, "--model", model).output
    assert f"{latest} model cli-test:" in scored and " scored (" in scored

    parquet = tmp_path / "out" / "risk.parquet"
    cli("export", "--db", db, "--as-of", latest, "--out", parquet, "--model-version", "cli-test")
    df = pl.read_parquet(parquet)
    assert df.columns == EXPORT_COLUMNS and df.height > 0
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        registry_ids = {r for (r,) in con.execute("SELECT household_id FROM households").fetchall()}
    assert set(df["household_id"]) <= registry_ids  # the care-staff list: whom to visit
    assert set(df["model_version"]) == {"cli-test"}

    csv = tmp_path / "out" / "risk.txt"
    cli("export", "--db", db, "--as-of", latest, "--out", csv, "--format", "csv", "--model-version", "cli-test")
    back = pl.read_csv(csv)
    assert back.columns == CSV_EXPORT_COLUMNS and back.height == df.height
    assert back["household_id"].to_list() == df["household_id"].to_list()


def test_train_on_a_store_without_assessments_is_one_line(tmp_path):
    db = tmp_path / "s.duckdb"
    cli("households", "--db", db, SAMPLE / "households.csv")
    assert_one_line_error(cli("train", "--db", db, "--models-dir", tmp_path / "m", ok=False), "assessments")


def test_score_without_a_model_says_train_first(db_copy, tmp_path):
    line = assert_one_line_error(cli("score", "--db", db_copy, "--as-of", "2025-02-10", "--models-dir",
                                     tmp_path / "empty", ok=False), "no trained model")
    assert count(db_copy, "SELECT count(*) FROM risk_scores") == 0, line


def test_train_with_too_few_frail_examples_is_one_line(town_copy, tmp_path):
    import duckdb

    db = town_copy / TOWN_DB
    with duckdb.connect(str(db)) as con:  # keep only the two earliest frail assessments
        con.execute("""DELETE FROM assessments WHERE frail AND (household_id, assessed_on) NOT IN
                       (SELECT (household_id, assessed_on) FROM assessments WHERE frail
                        ORDER BY assessed_on, household_id LIMIT 2)""")
    with one_blas_thread():
        result = cli("train", "--db", db, "--models-dir", tmp_path / "m", ok=False)
    assert_one_line_error(result, "frail")


def test_export_of_an_unscored_date_is_one_line(db_copy, tmp_path):
    assert_one_line_error(cli("export", "--db", db_copy, "--as-of", "2025-02-01", "--out", tmp_path / "r.parquet",
                              ok=False), "no risk scores for 2025-02-01")
    assert not (tmp_path / "r.parquet").exists()


def test_export_reads_an_existing_town_risk_list(built_town, town_copy, tmp_path):
    _, out = built_town
    as_of = out["risk_list"]["as_of"]
    csv = tmp_path / "risk.csv"
    cli("export", "--db", town_copy / TOWN_DB, "--as-of", as_of, "--out", csv)  # writes an audit row: a copy
    df = pl.read_csv(csv)
    assert df.columns == CSV_EXPORT_COLUMNS
    listed = set(pl.read_parquet(town_copy / out["risk_list"]["export"]["path"])["household_id"])
    assert set(df["household_id"]) == listed


# --------------------------------------------------------------------------------------------
# sql
# --------------------------------------------------------------------------------------------

def test_sql_prints_a_table(sample_db):
    n = count(sample_db, "SELECT count(*) FROM readings")
    result = cli("sql", "--db", sample_db, "SELECT count(*) AS n_readings FROM readings")
    assert "n_readings" in result.stdout and str(n) in result.stdout
    assert result.stderr.startswith("-- ")  # where the answer came from


def test_sql_writes_csv_to_a_file(sample_db, tmp_path):
    out = tmp_path / "q.csv"
    result = cli("sql", "--db", sample_db, "SELECT household_id, count(*) AS n FROM readings GROUP BY 1 ORDER BY 1",
                 "--format", "csv", "--out", out)
    df = pl.read_csv(out)
    assert df.columns == ["household_id", "n"] and df.height == count(
        sample_db, "SELECT count(DISTINCT household_id) FROM readings")
    assert f"{df.height} rows -> {out}" in result.stderr


def test_sql_bad_query_is_one_line(sample_db):
    assert_one_line_error(cli("sql", "--db", sample_db, "SELECT no_such_column FROM readings", ok=False),
                          "query failed")


def test_sql_refuses_writes(sample_db):
    n = count(sample_db, "SELECT count(*) FROM readings")
    assert_one_line_error(cli("sql", "--db", sample_db, "DELETE FROM readings", ok=False), "query failed")
    assert count(sample_db, "SELECT count(*) FROM readings") == n


def test_sql_without_a_store_is_one_line(tmp_path):
    assert_one_line_error(cli("sql", "--db", tmp_path / "none.duckdb", "SELECT 1", ok=False), "no store at")


def test_sql_parquet_needs_out(sample_db):
    assert_one_line_error(cli("sql", "--db", sample_db, "SELECT 1", "--format", "parquet", ok=False), "--out")


# --------------------------------------------------------------------------------------------
# Flows from the command line
# --------------------------------------------------------------------------------------------

@needs_run_alerts
def test_run_ingests_the_inbox(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "data" / "meterrisk.duckdb"
    cli("households", "--db", db, SAMPLE / "households.csv")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(SAMPLE / "readings" / "part-00000.parquet", inbox / "delivery.parquet")
    out = cli("run", "--db", db, "--inbox", inbox).output
    n = count(db, "SELECT count(*) FROM readings")
    assert f"1 files (1 loaded): {n} readings loaded, 0 quarantined" in out
    assert not (inbox / "delivery.parquet").exists()
    assert "snapshot" in out


def test_demo_too_small_is_one_line(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(cli("demo", "--db", tmp_path / "d.duckdb", "--households", 10, ok=False),
                          "at least 50 households")


@needs_run_alerts
def test_run_on_a_store_without_readings_is_one_line(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inbox").mkdir()
    cli("households", "--db", tmp_path / "data" / "meterrisk.duckdb", SAMPLE / "households.csv")
    result = cli("run", "--db", tmp_path / "data" / "meterrisk.duckdb", "--inbox", tmp_path / "inbox", ok=False)
    assert_one_line_error(result, "no readings")


def test_ingest_replace_of_one_household_file_keeps_the_other_households(tmp_path):
    """Per-household folders with the same file names: --replace B/201706.csv leaves A alone."""
    db = tmp_path / "s.duckdb"
    cli("households", "--db", db, SAMPLE / "households.csv")
    export = tmp_path / "export"
    for hid, kwh in (("H00001", "0.1"), ("H00002", "0.2")):
        (export / hid).mkdir(parents=True)
        (export / hid / "201706.csv").write_text(
            "household_id,ts,kwh\n" + "".join(f"{hid},2025-02-20T{h:02d}:00:00+09:00,{kwh}\n" for h in range(24)))
    cli("ingest", "--db", db, export)
    (export / "H00002" / "201706.csv").write_text(
        "household_id,ts,kwh\n" + "".join(f"H00002,2025-02-20T{h:02d}:00:00+09:00,0.3\n" for h in range(24)))
    out = cli("ingest", "--db", db, "--replace", export / "H00002" / "201706.csv").output
    assert "1 files (0 failed): 24 rows read, 24 loaded" in out
    assert count(db, "SELECT count(*) FROM readings WHERE household_id = 'H00001' AND kwh = 0.1") == 24
    assert count(db, "SELECT count(*) FROM readings WHERE household_id = 'H00002' AND kwh = 0.3") == 24


def test_alerts_backfill_a_range_in_one_process(db_copy):
    """Issue 13: a range of days in one command (one process per day took 17 minutes for 579)."""
    last = count(db_copy, "SELECT max(local_date) FROM readings")
    first = last - timedelta(days=2)
    out = cli("alerts", "--db", db_copy, "--from", first.isoformat(), "--to", last.isoformat(), "--no-show").output
    lines = [line for line in out.splitlines() if "households checked" in line]
    assert [line.split(":")[0] for line in lines] == [(first + timedelta(days=i)).isoformat() for i in range(3)]
    assert f"3 days, {first} to {last}" in out


def test_alerts_range_errors_are_one_line(db_copy):
    assert_one_line_error(cli("alerts", "--db", db_copy, "--from", "2025-03-05", "--to", "2025-03-01", ok=False),
                          "--from")
    assert_one_line_error(cli("alerts", "--db", db_copy, "--date", "2025-03-05", "--from", "2025-03-01",
                              "--to", "2025-03-02", ok=False), "--date")
    assert_one_line_error(cli("alerts", "--db", db_copy, "--from", "2025-03-01", ok=False), "--to")
