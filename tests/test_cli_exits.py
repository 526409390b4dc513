"""Honest exits: a failed delivery, a store that cannot be written, a store that is not there.

Each of these is one line (``error: ...``, maybe ``hint: ...``) and a non-zero exit, never a
traceback, and a mistyped ``--db`` never leaves a new empty store behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines_conftest import (  # noqa: F401  (fixtures)
    SAMPLE,
    count,
    needs_run_alerts,
    prefect_harness,
)
from test_cli import assert_one_line_error, cli

GARBAGE = b"\x00\x01 this is not a meter export\n"


def _store_with_registry(db: Path) -> Path:
    cli("households", "--db", db, SAMPLE / "households.csv")
    return db


# --------------------------------------------------------------------------------------------
# meterrisk run: a failed file is a failed run
# --------------------------------------------------------------------------------------------

@needs_run_alerts
def test_run_with_a_failed_file_exits_non_zero_and_names_it(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.chdir(tmp_path)
    db = _store_with_registry(tmp_path / "data" / "meterrisk.duckdb")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(SAMPLE / "readings" / "part-00000.parquet", inbox / "delivery.parquet")
    (inbox / "garbage.csv").write_bytes(GARBAGE)

    result = cli("run", "--db", db, "--inbox", inbox, ok=False)

    assert result.exit_code == 1, result.output
    line = assert_one_line_error(result, "1 of 2 files failed", "garbage.csv")
    assert "delivery.parquet" not in line
    # The rest of the daily job still ran for the good file, and said so readably.
    n = count(db, "SELECT count(*) FROM readings")
    assert n > 0 and f"{n} readings loaded" in result.stdout
    assert "alerts for " in result.stdout and "{" not in result.stdout, result.stdout
    assert (inbox / "failed" / "garbage.csv").exists()


@needs_run_alerts
def test_run_summary_is_a_readable_line(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.chdir(tmp_path)
    db = _store_with_registry(tmp_path / "data" / "meterrisk.duckdb")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(SAMPLE / "readings" / "part-00000.parquet", inbox / "delivery.parquet")
    out = cli("run", "--db", db, "--inbox", inbox).stdout
    assert "1 files (1 loaded): " in out and "features as of " in out and "households checked" in out, out
    assert "{" not in out and "'" not in out, out  # no dict reprs
