"""Progress for long CLI steps: shown at a terminal, quiet in pipes and CI, never in stdout.

Also: DuckDB's own progress bar, which it draws on stdout at a terminal (it landed inside
``meterrisk evaluate``'s JSON), is off on every store connection.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

import meterrisk.progress as progress
from meterrisk.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "synthetic" / "sample"


class _Stream:
    def __init__(self, tty: bool):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, s):
        self.text += s
        return len(s)

    def flush(self):
        pass


def test_a_step_shows_only_when_both_streams_are_terminals_and_not_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    err, out = _Stream(True), _Stream(True)
    with progress.step("computing features", total=3, err=err, out=out) as shown:
        shown.advance()
        shown.describe("household windows")
    assert "computing features" in err.text and "0/3" in err.text and out.text == ""

    for err_tty, out_tty in ((True, False), (False, True), (False, False)):
        err, out = _Stream(err_tty), _Stream(out_tty)
        with progress.step("computing features", err=err, out=out) as shown:
            shown.advance()
            with shown.paused():
                pass
        assert err.text == "" and out.text == "", (err_tty, out_tty)

    monkeypatch.setenv("CI", "true")
    err, out = _Stream(True), _Stream(True)
    with progress.step("computing features", err=err, out=out):
        pass
    assert err.text == ""


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> Path:
    """The sample registry and readings, no features yet (copied per test that computes them)."""
    from meterrisk import ingest, store

    db = tmp_path_factory.mktemp("progress") / "s.duckdb"
    con = store.connect(db)
    try:
        ingest.load_registry(con, SAMPLE / "households.csv")
        ingest.ingest_paths(con, ingest.expand_inputs([str(SAMPLE / "readings")]), ingest.load_profile("default"))
    finally:
        con.close()
    return db


def _env(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("CI", None)
    env.update(extra)
    return env


def _drain(fd: int, proc: subprocess.Popen, seconds: float = 120) -> bytes:
    """Everything the child writes to the terminal until it closes it (it exits)."""
    seen, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: every end of the terminal's child side is closed
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    return seen


def _features(db: Path, *, stdout_pipe: bool = False, **env) -> tuple[int, bytes, bytes]:
    """``meterrisk features`` with stderr (and stdout, unless piped) on a terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "meterrisk.cli", "features", "--db", str(db)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE if stdout_pipe else slave,
                            stderr=slave, env=_env(**env), cwd=db.parent)
    os.close(slave)
    try:
        terminal = _drain(master, proc)
        piped = proc.stdout.read() if stdout_pipe else b""
        return proc.wait(), terminal, piped
    finally:
        os.close(master)


def test_features_at_a_terminal_shows_its_step_and_ends_with_the_summary(sample_store, tmp_path):
    import shutil

    db = tmp_path / "s.duckdb"
    shutil.copy2(sample_store, db)
    code, terminal, _ = _features(db)
    assert code == 0, terminal
    assert b"computing features" in terminal and b"features as of " in terminal, terminal
    assert not (tmp_path / "data").exists()  # showing progress does not configure Prefect


def test_features_in_ci_or_with_stdout_piped_shows_no_progress(sample_store, tmp_path):
    import shutil

    db = tmp_path / "s.duckdb"
    shutil.copy2(sample_store, db)
    code, terminal, _ = _features(db, CI="true")
    assert code == 0 and b"computing features" not in terminal and b"features as of " in terminal, terminal
    code, terminal, piped = _features(db, stdout_pipe=True)
    assert code == 0 and b"computing features" not in terminal, terminal
    assert piped.startswith(b"features as of ") and b"\x1b" not in piped, piped  # the result alone


@contextmanager
def _recorded(monkeypatch, module):
    """The step descriptions a CLI module opens (the real step runs too)."""
    seen = []
    real = progress.step

    @contextmanager
    def recording(what, **kw):
        seen.append(what)
        with real(what, **kw) as s:
            yield s

    monkeypatch.setattr(module, "step", recording)
    yield seen


def test_each_long_command_runs_inside_a_step(sample_store, tmp_path, monkeypatch):
    """ingest, train, score and report open their step (here up to the error each meets)."""
    import shutil

    import meterrisk.cli.features as cli_features
    import meterrisk.cli.ingest as cli_ingest
    import meterrisk.cli.model as cli_model
    import meterrisk.cli.report as cli_report

    db = tmp_path / "s.duckdb"
    shutil.copy2(sample_store, db)
    runs = [
        (cli_ingest, ["ingest", "--db", db, SAMPLE / "readings"], "ingesting 1 file"),
        (cli_features, ["features", "--db", db], "computing features"),
        (cli_model, ["train", "--db", db, "--models-dir", tmp_path / "m"], "training"),  # no assessments
        (cli_model, ["score", "--db", db, "--as-of", "2025-02-10", "--model", tmp_path], "scoring households"),
        (cli_report, ["report", "--db", db, "--as-of", "2025-02-10", "--out", tmp_path / "r"], "writing the report"),
    ]
    for module, args, what in runs:
        with _recorded(monkeypatch, module) as seen:
            result = CliRunner().invoke(main, [str(a) for a in args])
        assert seen and seen[0].startswith(what), (args, seen, result.output)
        assert "Traceback" not in result.output


def test_duckdb_progress_bar_is_off_on_store_connections(sample_store):
    """At a terminal DuckDB turns its bar on (it prints to stdout); store connections turn it off."""
    code = ("import duckdb, sys; from meterrisk import store\n"
            "db = sys.argv[1]\n"
            "plain = duckdb.connect().execute(\"SELECT current_setting('enable_progress_bar')\").fetchall()[0][0]\n"
            "ro = store.read_only(db)\n"
            "a = ro.execute(\"SELECT current_setting('enable_progress_bar')\").fetchall()[0][0]\n"
            "ro.close()\n"
            "rw = store.connect(db, create=False)\n"
            "b = rw.execute(\"SELECT current_setting('enable_progress_bar')\").fetchall()[0][0]\n"
            "print(f'plain={plain} read_only={a} connect={b}')\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code, str(sample_store)], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env=_env())
    os.close(slave)
    try:
        out = _drain(master, proc)
    finally:
        os.close(master)
    assert proc.wait() == 0, out
    assert b"plain=True" in out, out  # the terminal is what turns DuckDB's bar on
    assert b"read_only=False connect=False" in out, out
