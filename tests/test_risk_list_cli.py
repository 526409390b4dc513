"""``meterrisk risk-list``: the monthly flow from the command line, happy and error paths."""

from __future__ import annotations

import csv

import polars as pl
from pipelines_conftest import (  # noqa: F401  (fixtures)
    TOWN_DB,
    built_town,
    cohort,
    count,
    one_blas_thread,
    prefect_harness,
    town_copy,
)
from test_cli import CSV_EXPORT_COLUMNS, EXPORT_COLUMNS, assert_one_line_error, cli


def test_risk_list_runs_the_monthly_flow_and_prints_lines(town_copy, monkeypatch):  # noqa: F811
    monkeypatch.chdir(town_copy)  # flows resolve data/ and models/ from the cwd
    latest = count(TOWN_DB, "SELECT max(local_date) FROM readings")
    with one_blas_thread():
        out = cli("risk-list", "--db", TOWN_DB, "--as-of", latest).output
    assert "{" not in out, out  # readable lines, not a dict repr
    lines = dict(line.split(":", 1) for line in out.splitlines() if line and not line.startswith(" ")
                 and ":" in line and not line[:2].isdigit())
    path = town_copy / lines["export"].split()[0]
    assert path.name == f"risk_list_{latest}.parquet"
    df = pl.read_parquet(path)
    assert df.columns == EXPORT_COLUMNS and df.height > 0
    assert (town_copy / lines["report"].split()[0]).exists()
    high = (df["risk_tier"] == "high").sum()
    assert f"  high:        {high} " in out and f"{df.height} scored" in out


def test_risk_list_csv_reasons_come_back(town_copy, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.chdir(town_copy)
    latest = count(TOWN_DB, "SELECT max(local_date) FROM readings")
    out = tmp_path / "risk.csv"
    with one_blas_thread():
        cli("risk-list", "--db", TOWN_DB, "--as-of", latest, "--out", out)
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == CSV_EXPORT_COLUMNS
    assert any(r["reason_1"] for r in rows if r["risk_tier"] == "high")


def test_risk_list_without_a_model_is_one_line(town_copy, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.chdir(town_copy)
    result = cli("risk-list", "--db", TOWN_DB, "--as-of", "2025-07-31", "--models-dir", tmp_path / "none",
                 ok=False)
    assert_one_line_error(result, "no trained model")


def test_risk_list_without_a_store_is_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(cli("risk-list", "--db", tmp_path / "none.duckdb", "--as-of", "2025-07-31", ok=False))


def test_risk_list_of_a_date_without_data_is_one_line(town_copy, monkeypatch):  # noqa: F811
    monkeypatch.chdir(town_copy)
    first = count(TOWN_DB, "SELECT min(local_date) FROM readings")
    result = cli("risk-list", "--db", TOWN_DB, "--as-of", "2001-01-01", ok=False)
    assert_one_line_error(result), (first, result.output)
