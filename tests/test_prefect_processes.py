"""Prefect's local server never outlives the command that started it, and killed runs are
marked Crashed at the next start. Real processes and real signals: each test starts
``meterrisk`` in a subprocess with its own PREFECT_HOME (the runs live in its SQLite).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines_conftest import SAMPLE

# Each test waits for real Prefect servers to start (seconds on a quiet machine, 10-20 s on a
# busy one); still in the default run, `-m "not slow"` leaves them out.
pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and Linux signals"),
              pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
STARTUP = 240  # seconds: the server can be slow to start on a busy 2-core machine


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # the temporary server
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=str(STARTUP),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return env


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != "Z"


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (its servers, and anything they started)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None and st[0] != "Z":
            children.setdefault(int(st[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _servers(pid: int) -> list[int]:
    return [p for p in _descendants(pid) if "uvicorn" in _cmdline(p)]


def _runs(home: Path, sql: str, params=()) -> list[tuple]:
    db = home / "prefect.db"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as con:
            return con.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []


def _gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _kill_leftovers(pids) -> None:
    for p in pids:
        if _alive(p):
            os.kill(p, signal.SIGKILL)


@pytest.fixture
def small_town(tmp_path) -> Path:
    """A store with the sample registry and a delivery in the inbox (a run takes seconds)."""
    from test_cli import cli

    cli("households", "--db", tmp_path / "data" / "meterrisk.duckdb", SAMPLE / "households.csv")
    (tmp_path / "data" / "inbox").mkdir(parents=True)
    shutil.copy2(SAMPLE / "readings" / "part-00000.parquet", tmp_path / "data" / "inbox" / "delivery.parquet")
    return tmp_path


def _meterrisk(*args, cwd: Path, home: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "meterrisk.cli", *map(str, args)], cwd=cwd, env=_env(home),
                            stdout=open(cwd / f"{args[0]}.out", "a"), stderr=subprocess.STDOUT, **kw)


# --------------------------------------------------------------------------------------------
# meterrisk run, killed
# --------------------------------------------------------------------------------------------

def test_killed_run_leaves_no_server_and_its_run_is_marked_crashed_next_time(small_town):
    home = small_town / "prefect-home"
    proc = _meterrisk("run", cwd=small_town, home=home)
    servers, running = [], []
    try:
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline and not running:
            assert proc.poll() is None, (small_town / "run.out").read_text()  # finished before the kill
            servers = servers or _servers(proc.pid)
            running = _runs(home, "SELECT id FROM flow_run WHERE state_type = 'RUNNING'")
            time.sleep(0.05)
        assert servers and running, "the run never got going"
        proc.kill()  # SIGKILL: no atexit, no signal handler
        proc.wait()
        left = _gone_within(servers, 10)
        assert not left, f"the killed run's Prefect server is still running: {[_cmdline(p) for p in left]}"
    finally:
        _kill_leftovers([proc.pid, *servers])

    again = _meterrisk("run", cwd=small_town, home=home)
    assert again.wait(timeout=STARTUP + 120) == 0, (small_town / "run.out").read_text()
    states = dict(_runs(home, "SELECT id, state_type FROM flow_run"))
    assert {states[run_id] for (run_id,) in running} == {"CRASHED"}, states
    assert "RUNNING" not in states.values() and "PENDING" not in states.values(), states
    assert not _servers(again.pid)


# --------------------------------------------------------------------------------------------
# meterrisk serve: stops on the first signal, with its server; an error is a non-zero exit
# --------------------------------------------------------------------------------------------

def _wait_for(predicate, seconds: float, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        if (value := predicate()):
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out; output so far:\n{log.read_text()}")


def test_serve_stops_on_sigterm_while_its_server_starts(tmp_path):
    sig = signal.SIGTERM  # before anything handled it, this killed serve and orphaned its server
    home = tmp_path / "prefect-home"
    proc = _meterrisk("serve", cwd=tmp_path, home=home)
    servers = []
    try:
        servers = _wait_for(lambda: _servers(proc.pid), STARTUP, proc, tmp_path / "serve.out")
        proc.send_signal(sig)
        code = proc.wait(timeout=15)
        left = _gone_within(servers, 5)
        assert not left, f"serve left its server running: {[_cmdline(p) for p in left]}"
        assert code == 0, (code, (tmp_path / "serve.out").read_text())
        assert "Traceback" not in (tmp_path / "serve.out").read_text()
    finally:
        _kill_leftovers([proc.pid, *servers])


def test_serve_schedules_runs_and_stops_on_the_first_ctrl_c_with_its_server(tmp_path):
    home = tmp_path / "prefect-home"
    log = tmp_path / "serve.out"
    proc = _meterrisk("serve", cwd=tmp_path, home=home)
    servers = []
    try:
        # Serving: the scheduler made the daily deployment's next runs (a temporary server without
        # its services never does, so nothing would ever run).
        _wait_for(lambda: _runs(home, "SELECT r.id FROM flow_run r JOIN deployment d ON d.id = r.deployment_id "
                                      "WHERE d.name = 'daily' AND r.state_type = 'SCHEDULED'"),
                  STARTUP, proc, log)
        servers = _servers(proc.pid)
        assert servers
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert proc.wait(timeout=60) == 0, log.read_text()
        assert "Traceback" not in log.read_text(), log.read_text()
        assert not _gone_within(servers, 5) and not _descendants(proc.pid)
    finally:
        _kill_leftovers([proc.pid, *servers])


def test_serve_exits_non_zero_when_its_server_dies(tmp_path):
    home = tmp_path / "prefect-home"
    log = tmp_path / "serve.out"
    proc = _meterrisk("serve", cwd=tmp_path, home=home)
    servers = []
    try:
        _wait_for(lambda: any(w in log.read_text() for w in ("serving", "being served")), STARTUP, proc, log)
        # issue 14: each deployment with its cron, zone and next run, before serving
        assert "daily" in log.read_text() and "cron 0 2 * * *" in log.read_text() and " next " in log.read_text(), log.read_text()
        servers = _servers(proc.pid)
        for p in servers:
            os.kill(p, signal.SIGKILL)
        code = proc.wait(timeout=30)
        assert code != 0, log.read_text()
        lines = [line for line in log.read_text().splitlines() if line.startswith("error: ")]
        assert lines and "server" in lines[-1], log.read_text()
    finally:
        _kill_leftovers([proc.pid, *servers])


def test_serve_with_a_bad_timezone_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "meterrisk.cli", "serve", "--timezone", "Mars/Olympus"],
                          cwd=tmp_path, env=_env(tmp_path / "home"), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: ") and "Mars/Olympus" in done.stderr.splitlines()[0], done.stderr
