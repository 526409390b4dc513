"""Honest exits: a failed delivery, a store that cannot be written, a store that is not there.

Each of these is one line (``error: ...``, maybe ``hint: ...``) and a non-zero exit, never a
traceback, and a mistyped ``--db`` never leaves a new empty store behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines_conftest import (  # noqa: F401  (fixtures)
    SAMPLE,
    count,
    needs_run_alerts,
    prefect_harness,
)
from test_cli import PREFECT_LOG, assert_one_line_error, cli

ROOT = Path(__file__).resolve().parents[1]

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
    assert "alerts:      for " in result.stdout and "{" not in result.stdout, result.stdout
    assert (inbox / "failed" / "garbage.csv").exists()


@needs_run_alerts
def test_run_summary_is_a_readable_line(tmp_path, monkeypatch, prefect_harness):
    monkeypatch.chdir(tmp_path)
    db = _store_with_registry(tmp_path / "data" / "meterrisk.duckdb")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy2(SAMPLE / "readings" / "part-00000.parquet", inbox / "delivery.parquet")
    out = cli("run", "--db", db, "--inbox", inbox).stdout
    assert "1 files (1 loaded): " in out and "features:    as of " in out and "households checked" in out, out
    assert "{" not in out and "'" not in out, out  # no dict reprs


# --------------------------------------------------------------------------------------------
# A store or data folder this user cannot write: one line, not a traceback
# --------------------------------------------------------------------------------------------

# Linux capabilities that let root ignore file modes (capability(7)).
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER = 1, 2, 3
_PR_CAPBSET_DROP = 24


def _without_root_file_powers() -> None:
    """In the child before exec: drop the capabilities that let root write a 0444 file.

    Tests often run as root, which ignores file modes, and the interpreter here may live
    where another user cannot run it; dropping these three from the bounding set makes the
    exec'd command subject to file modes like any user, while staying uid 0."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            os._exit(97)


def run_as_a_plain_user(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "PREFECT_HOME": str(cwd / "prefect-home")}
    done = subprocess.run([sys.executable, "-m", "meterrisk.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300,
                          preexec_fn=_without_root_file_powers if os.geteuid() == 0 else None)
    if done.returncode == 97:
        pytest.skip("cannot drop root's file-permission capabilities here (no CAP_SETPCAP?)")
    return done


def assert_one_line(done: subprocess.CompletedProcess, *needles: str) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    # Flows may log Prefect's one-line run states first; `sql` says where it read ("-- ...").
    lines = [line for line in done.stderr.strip().splitlines()
             if not PREFECT_LOG.match(line) and not line.startswith("-- ")]
    assert lines and lines[0].startswith("error: "), done.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def sample_town(tmp_path_factory) -> Path:
    """town/data/meterrisk.duckdb with the sample registry and readings; town/inbox with a delivery."""
    town = tmp_path_factory.mktemp("readonly") / "town"
    db = _store_with_registry(town / "data" / "meterrisk.duckdb")
    cli("ingest", "--db", db, SAMPLE / "readings")
    return town


@pytest.fixture
def town(sample_town, tmp_path) -> Path:
    dst = tmp_path / "town"
    shutil.copytree(sample_town, dst)
    (dst / "inbox").mkdir()
    shutil.copy2(SAMPLE / "readings" / "part-00000.parquet", dst / "inbox" / "again.parquet")
    yield dst
    for p in (dst, dst / "data"):  # let pytest clean up
        p.chmod(0o755)


COMMANDS = {
    "households": lambda db: ["households", "--db", db, SAMPLE / "households.csv"],
    "ingest": lambda db: ["ingest", "--db", db, SAMPLE / "readings"],
    "features": lambda db: ["features", "--db", db],
    "run": lambda db: ["run", "--db", db, "--inbox", db.parent.parent / "inbox"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_read_only_store_is_one_line(town, command):
    db = town / "data" / "meterrisk.duckdb"
    before = db.read_bytes()
    db.chmod(0o444)
    done = run_as_a_plain_user(*COMMANDS[command](db), cwd=town)
    line = assert_one_line(done, str(db), "cannot write")
    assert "permission" in line.lower() or "read-only" in line.lower(), line
    assert db.read_bytes() == before
    assert (town / "inbox" / "again.parquet").exists()  # nothing moved out of the inbox


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_read_only_data_folder_is_one_line(town, command):
    db = town / "data" / "meterrisk.duckdb"
    before = db.read_bytes()
    (town / "data").chmod(0o555)
    done = run_as_a_plain_user(*COMMANDS[command](db), cwd=town)
    assert_one_line(done, str(town / "data"), "cannot write")
    assert db.read_bytes() == before
    assert sorted(p.name for p in (town / "data").iterdir()) == ["meterrisk.duckdb"]  # no .wal left behind


def test_a_file_the_user_may_not_write_is_one_line(town):
    """Beyond the store (checked up front), any write this user may not make is one line."""
    out_dir = town / "out"
    out_dir.mkdir(mode=0o555)
    done = run_as_a_plain_user("sql", "--db", town / "data" / "meterrisk.duckdb", "SELECT 1 AS x",
                               "--format", "csv", "--out", out_dir / "q.csv", cwd=town)
    assert_one_line(done, "cannot write", "q.csv")
    out_dir.chmod(0o755)


def test_permission_errors_are_not_retried():
    import errno

    from pipelines.retries import is_transient

    assert not is_transient(PermissionError(errno.EACCES, "Permission denied", "data/archive"))
    assert not is_transient(OSError(errno.EROFS, "Read-only file system", "data/archive"))
    assert is_transient(OSError(errno.EIO, "Input/output error"))  # a flaky share still is


# --------------------------------------------------------------------------------------------
# A mistyped --db does not create a new empty store
# --------------------------------------------------------------------------------------------

NEEDS_DATA = {  # command: its arguments after --db
    "ingest": lambda: [SAMPLE / "readings"],
    "temperature": lambda: [SAMPLE / "temperature.csv"],
    "assessments": lambda: [SAMPLE / "assessments.csv"],
    "features": lambda: [],
    "alerts": lambda: [],
    "train": lambda: [],
    "score": lambda: ["--as-of", "2025-02-10"],
    "export": lambda: ["--as-of", "2025-02-10", "--out", "risk.parquet"],
    "sql": lambda: ["SELECT 1"],
    "run": lambda: ["--inbox", "inbox"],
}


@pytest.mark.parametrize("command", sorted(NEEDS_DATA))
def test_a_mistyped_db_is_no_store_and_creates_nothing(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inbox").mkdir()
    typo = tmp_path / "dta" / "meterrisk.duckdb"
    result = cli(command, "--db", typo, *NEEDS_DATA[command](), ok=False)
    line = assert_one_line_error(result, f"no store at {typo}")
    assert f"meterrisk households FILE --db {typo}" in result.stderr, result.stderr
    assert not typo.parent.exists(), line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inbox"]  # no data/, models/ either


def test_temperature_create_makes_a_new_store_on_purpose(tmp_path):
    db = tmp_path / "new" / "meterrisk.duckdb"
    cli("temperature", "--db", db, "--create", SAMPLE / "temperature.csv")
    assert count(db, "SELECT count(*) FROM temperature") > 0


def test_households_creates_a_store(tmp_path):
    db = tmp_path / "new" / "meterrisk.duckdb"
    cli("households", "--db", db, SAMPLE / "households.csv")
    assert count(db, "SELECT count(*) FROM households") == 39  # of 40: one withdrew, and is forgotten


def _flows():
    from pipelines.alerts import alerts_flow
    from pipelines.daily import daily_flow
    from pipelines.features import features_flow
    from pipelines.ingest import ingest_flow
    from pipelines.risk_list import risk_list_flow
    from pipelines.train import train_flow

    return {"daily": daily_flow, "ingest": ingest_flow, "features": features_flow, "alerts": alerts_flow,
            "risk-list": risk_list_flow, "train": train_flow}


@pytest.mark.parametrize("name", ["daily", "ingest", "features", "alerts", "risk-list", "train"])
def test_flows_that_need_data_do_not_create_a_store(tmp_path, monkeypatch, prefect_harness, name):
    from meterrisk.errors import MeterriskError

    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "dta" / "meterrisk.duckdb"
    with pytest.raises(MeterriskError, match="no store at"):
        _flows()[name](db=typo)
    assert list(tmp_path.iterdir()) == []
