"""One writer process, analysts reading at the same time.

A writer (another process) holds the store or is mid-run; ``meterrisk sql`` must answer
from the published snapshot or fail fast with "being updated", never hang, and never see
half of a run. A second writer gives up with StoreBusyError after its wait.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from pipelines_conftest import SAMPLE

from meterrisk import ingest, store
from meterrisk.cli import main
from meterrisk.store import StoreBusyError
from meterrisk.store.snapshot import publish, snapshot_path

FAST = 3.0  # seconds: "fails fast"

WRITER = textwrap.dedent("""
    # A writer process driven line by line from stdin, so the test decides when each step runs.
    import sys
    from meterrisk import ingest, store
    from meterrisk.store.snapshot import marking_run, publish

    db, mode, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    profile = ingest.load_profile("default")

    def say(what):
        print(what, flush=True)
        sys.stdin.readline()  # wait for the test to look

    if mode == "hold":  # one connection for the whole run, as a long CLI command holds it
        con = store.connect(db)
        say("locked")
        for f in files:
            ingest.ingest_file(con, f, profile)
        say("ingested")
        publish(con, db)
        say("published")
        con.close()
        say("closed")
    elif mode == "run":  # a flow: a connection per task, the run marked for readers
        with marking_run(db):
            for f in files:
                con = store.connect(db)
                ingest.ingest_file(con, f, profile)
                con.close()
                say("between tasks")
            con = store.connect(db)
            publish(con, db)
            con.close()
            say("published")
        say("done")
    elif mode == "free":  # the same run, without pausing
        with marking_run(db):
            for f in files:
                con = store.connect(db)
                ingest.ingest_file(con, f, profile)
                con.close()
            con = store.connect(db)
            publish(con, db)
            con.close()
        print("done", flush=True)
""")


class Writer:
    def __init__(self, tmp: Path, db: Path, mode: str, files: list[Path]):
        script = tmp / "writer.py"
        script.write_text(WRITER)
        self.proc = subprocess.Popen([sys.executable, str(script), str(db), mode, *map(str, files)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)

    def expect(self, line: str) -> None:
        got = self.proc.stdout.readline().strip()
        assert got == line, (got, self.proc.stderr.read() if self.proc.poll() is not None else "")

    def go(self) -> None:
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 120) -> None:
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, err

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def writer(tmp_path):
    started = []

    def start(db, mode, files):
        w = Writer(tmp_path, db, mode, files)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> list[Path]:
    """The sample's readings as three deliveries (households split in thirds)."""
    folder = tmp_path_factory.mktemp("parts")
    df = pl.read_parquet(SAMPLE / "readings" / "part-00000.parquet")
    ids = df["household_id"].unique().sort().to_list()
    third = len(ids) // 3
    groups = [ids[:third], ids[third:2 * third], ids[2 * third:]]
    out = []
    for i, g in enumerate(groups):
        path = folder / f"delivery-{i}.parquet"
        df.filter(pl.col("household_id").is_in(g)).write_parquet(path)
        out.append(path)
    return out


@pytest.fixture(scope="module")
def expected(parts) -> list[int]:
    """Readings in the store after 1, 2 and 3 deliveries (a withdrawn household's are not stored)."""
    withdrawn = pl.read_csv(SAMPLE / "households.csv").filter(pl.col("consent_withdrawn_on").is_not_null())
    n = [pl.read_parquet(p).filter(~pl.col("household_id").is_in(withdrawn["household_id"].implode())).height
         for p in parts]
    return [n[0], n[0] + n[1], n[0] + n[1] + n[2]]


def make_store(db: Path, first: Path | None, *, published: bool) -> None:
    con = store.connect(db)
    try:
        ingest.load_registry(con, SAMPLE / "households.csv")
        if first is not None:
            ingest.ingest_file(con, first, ingest.load_profile("default"))
        if published:
            publish(con, db)
    finally:
        con.close()


def sql_count(db: Path, *extra: str):
    """``meterrisk sql`` in this process: (exit code, count or None, stderr, seconds)."""
    t = time.monotonic()
    result = CliRunner().invoke(main, ["sql", "--db", str(db), "SELECT count(*) AS n FROM readings",
                                       "--format", "csv", *extra])
    seconds = time.monotonic() - t
    n = int(result.stdout.splitlines()[1]) if result.exit_code == 0 else None
    assert "Traceback" not in result.output
    return result.exit_code, n, result.stderr, seconds


def sql_count_subprocess(db: Path, *extra: str, timeout: float = 60):
    t = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "meterrisk.cli", "sql", "--db", str(db),
                           "SELECT count(*) AS n FROM readings", "--format", "csv", *extra],
                          capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - t
    n = int(done.stdout.splitlines()[1]) if done.returncode == 0 else None
    assert "Traceback" not in done.stderr
    return done.returncode, n, done.stderr, seconds


@pytest.fixture(scope="module")
def startup_seconds() -> float:
    """How long starting ``meterrisk sql`` takes on this machine right now (imports)."""
    t = time.monotonic()
    subprocess.run([sys.executable, "-m", "meterrisk.cli", "sql", "--help"], capture_output=True, check=True,
                   timeout=120)
    return time.monotonic() - t


def test_reader_uses_the_snapshot_while_a_writer_holds_the_store(tmp_path, parts, expected, writer,
                                                                 startup_seconds):
    db = tmp_path / "store.duckdb"
    make_store(db, parts[0], published=True)
    w = writer(db, "hold", parts[1:])
    w.expect("locked")

    code, n, err, seconds = sql_count(db)
    assert (code, n) == (0, expected[0]) and seconds < FAST
    assert "snapshot" in err  # says where the answer came from
    code, n, err, seconds = sql_count_subprocess(db)  # a second process, as an analyst would run it
    assert (code, n) == (0, expected[0])
    assert seconds < 2 * startup_seconds + FAST  # imports vary with load; a wait for the lock is 30 s
    code, n, err, seconds = sql_count(db, "--live")  # the live store is busy: fail fast, one line
    assert code != 0 and n is None and seconds < FAST
    assert err.startswith("error: ") and "being updated" in err

    w.go()
    w.expect("ingested")  # committed, not yet published: readers still see the previous run
    assert sql_count(db)[:2] == (0, expected[0])

    w.go()
    w.expect("published")  # the new run, all of it
    assert sql_count(db)[:2] == (0, expected[2])

    w.go()
    w.expect("closed")  # writer gone: the live store answers
    code, n, err, _ = sql_count(db)
    assert (code, n) == (0, expected[2]) and "live store" in err
    w.go()
    w.finish()


def test_reader_fails_fast_when_nothing_is_published_yet(tmp_path, parts, writer, startup_seconds):
    db = tmp_path / "store.duckdb"
    make_store(db, parts[0], published=False)
    w = writer(db, "hold", [])
    w.expect("locked")

    code, n, err, seconds = sql_count(db)
    assert code != 0 and n is None and seconds < FAST
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: ") and "being updated" in lines[0]
    assert len(lines) == 1 or lines[1].startswith("hint: ")
    code, n, err, seconds = sql_count_subprocess(db)
    assert code != 0 and "being updated" in err
    assert seconds < 2 * startup_seconds + FAST  # imports vary with load; a wait for the lock is 30 s
    assert not snapshot_path(db).exists()
    w.go()
    w.go()
    w.go()
    w.finish()


def test_reader_never_sees_half_a_run_between_a_flows_tasks(tmp_path, parts, expected, writer):
    db = tmp_path / "store.duckdb"
    make_store(db, parts[0], published=True)
    w = writer(db, "run", parts[1:])
    w.expect("between tasks")  # one delivery committed, the lock released, the run not over
    assert sql_count(db)[:2] == (0, expected[0])
    w.go()
    w.expect("between tasks")
    assert sql_count(db)[:2] == (0, expected[0])
    w.go()
    w.expect("published")
    assert sql_count(db)[:2] == (0, expected[2])
    w.go()
    w.expect("done")  # run over, marker gone: live store
    code, n, err, _ = sql_count(db)
    assert (code, n) == (0, expected[2]) and "live store" in err
    w.go()
    w.finish()


def test_polling_reader_sees_the_previous_run_or_the_whole_new_one(tmp_path, parts, expected, writer):
    from meterrisk.cli.sql import open_for_reading

    db = tmp_path / "store.duckdb"
    make_store(db, parts[0], published=True)
    w = writer(db, "free", parts[1:])
    seen = []
    deadline = time.monotonic() + 120
    while w.proc.poll() is None and time.monotonic() < deadline:
        try:
            con, _ = open_for_reading(str(db), live=False)
        except Exception as exc:  # a busy store may refuse; it must say so, not hang
            assert "being updated" in str(exc)
            continue
        try:
            seen.append(store.one(con, "SELECT count(*) FROM readings")[0])
        finally:
            con.close()
        time.sleep(0.02)
    w.finish()
    assert seen, "the reader never got an answer"
    assert set(seen) <= {expected[0], expected[2]}, sorted(set(seen))
    assert expected[0] in seen  # the reader was there before the run (the writer takes a while to start)
    con, _ = open_for_reading(str(db), live=False)
    try:
        assert store.one(con, "SELECT count(*) FROM readings")[0] == expected[2]
    finally:
        con.close()


def test_second_writer_gives_up_quickly_with_store_busy(tmp_path, writer):
    db = tmp_path / "store.duckdb"
    store.connect(db).close()
    w = writer(db, "hold", [])
    w.expect("locked")
    t = time.monotonic()
    with pytest.raises(StoreBusyError, match="in use by another process"):
        store.connect(db, wait_seconds=1)
    assert 1.0 <= time.monotonic() - t < 1.0 + FAST
    w.go()
    w.go()
    w.go()
    w.finish()
    store.connect(db, wait_seconds=1).close()  # free again once the holder is gone


def test_busy_store_on_the_command_line_is_one_line(tmp_path, writer, monkeypatch):
    db = tmp_path / "store.duckdb"
    store.connect(db).close()
    w = writer(db, "hold", [])
    w.expect("locked")
    monkeypatch.setenv("METERRISK_LOCK_WAIT", "1")
    t = time.monotonic()
    result = CliRunner().invoke(main, ["households", "--db", str(db), str(SAMPLE / "households.csv")])
    assert time.monotonic() - t < 1.0 + FAST
    assert result.exit_code == 75, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and "in use by another process" in lines[0]
    assert lines[1].startswith("hint: ") and len(lines) == 2
    w.go()
    w.go()
    w.go()
    w.finish()
