"""``meterrisk sql --shell``: a read-only prompt on the analyst snapshot, fed through stdin."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from meterrisk.cli import main
from meterrisk.cli.sql_shell import split_statements

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "sample"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A store of the sample registry and readings with its analyst snapshot published."""
    from meterrisk import ingest, store
    from meterrisk.store.snapshot import publish

    db = tmp_path_factory.mktemp("shell") / "s.duckdb"
    con = store.connect(db)
    try:
        ingest.load_registry(con, SAMPLE / "households.csv")
        ingest.ingest_paths(con, ingest.expand_inputs([str(SAMPLE / "readings")]), ingest.load_profile("default"))
        publish(con, db)
    finally:
        con.close()
    return db


def shell(db: Path, text: str, *extra: str):
    return CliRunner().invoke(main, ["sql", "--db", str(db), "--shell", *extra], input=text)


def count(db: Path, sql: str):
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


def test_statements_span_lines_and_print_as_tables(published):
    n = count(published.with_name("s.snapshot.duckdb"), "SELECT count(*) FROM readings")
    result = shell(published, "SELECT count(*)\n  AS n_readings\nFROM readings;\nSELECT 6 * 7 AS answer; SELECT 'a;b' AS s;\n")
    assert result.exit_code == 0, (result.output, result.exception)
    out = result.stdout
    assert "n_readings" in out and str(n) in out
    assert "answer" in out and "42" in out and "a;b" in out
    assert out.index("n_readings") < out.index("answer") < out.index("a;b")  # in the order given
    assert "│" in out  # the aligned table `meterrisk sql` prints
    assert result.stderr.startswith("-- analyst snapshot published ")
    assert "sql>" not in out + result.stderr  # no prompts when the input is a pipe


def test_tables_schema_and_describe(published):
    result = shell(published, ".tables\n.schema households\nDESCRIBE v_risk_latest;\n.schema\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in ("readings", "v_risk_latest", "snapshot_info", "households"):
        assert name in out
    assert "pseudonym" in out and "district" in out and "VARCHAR" in out
    assert "risk_tier" in out  # DESCRIBE
    assert "households(pseudonym VARCHAR, district VARCHAR)" in out  # .schema alone: every table


def test_it_reads_the_snapshot_not_the_store(published):
    """The snapshot names households by pseudonym only; the store (--live) has registry ids."""
    snap = shell(published, "SELECT household_id FROM households;\n")
    assert snap.exit_code == 1 and "household_id" in snap.stderr
    live = shell(published, "SELECT count(household_id) AS ids FROM households;\n", "--live")
    assert live.exit_code == 0 and "ids" in live.stdout, live.output
    assert live.stderr.startswith("-- live store")


def test_an_error_is_one_line_and_the_shell_goes_on(published):
    result = shell(published, "SELECT no_such_column FROM readings;\n.schema nope\n.frobnicate\nSELECT 1 AS still_here;\n")
    errors = [line for line in result.stderr.splitlines() if not line.startswith("-- ")]
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors), result.stderr
    assert "no_such_column" in errors[0] and "no table or view named nope" in errors[1]
    assert "unknown command .frobnicate" in errors[2]
    assert "still_here" in result.stdout
    assert "Traceback" not in result.output
    assert result.exit_code == 1  # piped input with a failed statement: scripts notice


def test_writes_and_file_access_are_refused(published, tmp_path):
    snap = published.with_name("s.snapshot.duckdb")
    n, live_n = count(snap, "SELECT count(*) FROM readings"), count(published, "SELECT count(*) FROM readings")
    copied = tmp_path / "out.csv"
    result = shell(published, "\n".join([
        "DELETE FROM readings;",
        "CREATE TABLE t AS SELECT 1 AS x;",
        f"ATTACH '{published}' AS live (READ_WRITE);",
        "DELETE FROM live.readings;",
        f"COPY (SELECT * FROM readings) TO '{copied}';",
        "SET enable_external_access = true;",
        "CREATE TEMP TABLE scratch AS SELECT 1 AS x;",  # session memory: allowed
        "SELECT x AS scratch_ok FROM scratch;",
    ]) + "\n")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 6, result.stderr
    assert all("read-only" in line or "does not exist" in line for line in errors), errors
    assert "scratch_ok" in result.stdout
    assert count(snap, "SELECT count(*) FROM readings") == n
    assert count(published, "SELECT count(*) FROM readings") == live_n
    assert not copied.exists()


def test_quit_stops_reading(published):
    result = shell(published, "SELECT 1 AS first;\n.quit\nSELECT 2 AS second;\n")
    assert result.exit_code == 0 and "first" in result.stdout and "second" not in result.stdout


def test_a_last_statement_without_semicolon_runs_at_end_of_input(published):
    result = shell(published, "SELECT 5 AS five")
    assert result.exit_code == 0 and "five" in result.stdout


def test_no_snapshot_yet_is_one_line(tmp_path, published):
    db = tmp_path / "s.duckdb"
    shutil.copy2(published, db)  # the store without its snapshot
    result = shell(db, "SELECT 1;\n")
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: no analyst snapshot at ") and lines[1].startswith("hint: "), lines
    missing = shell(tmp_path / "none.duckdb", "SELECT 1;\n")
    assert missing.stderr.startswith("error: no store at"), missing.stderr


def test_shell_and_a_query_together_is_one_line(published):
    result = CliRunner().invoke(main, ["sql", "--db", str(published), "--shell", "SELECT 1"])
    assert result.exit_code != 0 and result.stderr.startswith("error: give a QUERY or --shell"), result.stderr
    result = CliRunner().invoke(main, ["sql", "--db", str(published)])
    assert result.exit_code != 0 and result.stderr.startswith("error: missing QUERY"), result.stderr


def test_a_single_query_cannot_attach_the_store_for_writing(published):
    n = count(published, "SELECT count(*) FROM readings")
    result = CliRunner().invoke(main, ["sql", "--db", str(published), "--live",
                                       f"ATTACH '{published}' AS w (READ_WRITE); DELETE FROM w.readings"])
    assert result.exit_code != 0 and result.stderr.startswith("error: query failed"), result.output
    assert count(published, "SELECT count(*) FROM readings") == n


def test_split_statements_respects_quotes_and_comments():
    done, rest = split_statements("SELECT ';' AS a; SELECT \"x;y\" FROM t -- no; end\n; SELECT 'it''s;' /* ; */;  SELECT 2")
    assert done == ["SELECT ';' AS a", "SELECT \"x;y\" FROM t -- no; end", "SELECT 'it''s;' /* ; */"]
    assert rest.strip() == "SELECT 2"
    assert split_statements("SELECT 'open;\n") == ([], "SELECT 'open;\n")


def _read_until(fd: int, needle: bytes, seconds: float = 60) -> bytes:
    seen, deadline = b"", time.monotonic() + seconds
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, seen
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_at_a_terminal_it_prompts_and_ctrl_d_leaves(published):
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    env.pop("CI", None)
    proc = subprocess.Popen([sys.executable, "-m", "meterrisk.cli", "sql", "--db", str(published), "--shell"],
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    try:
        assert b"sql> " in _read_until(master, b"sql> ")
        os.write(master, b"SELECT 6 * 7\n")
        assert b"...> " in _read_until(master, b"...> ")  # the statement goes on: no ';' yet
        os.write(master, b"AS answer;\n")
        out = _read_until(master, b"sql> ")
        assert b"answer" in out and b"42" in out, out
        os.write(master, b"\x04")  # Ctrl-D
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def test_the_snapshots_day_files_are_readable_but_not_writable(published):
    # readings on the snapshot is a view over day files; file access is off, so exactly those
    # files are allowed (reading them must work, overwriting one must not).
    from meterrisk.store.snapshot import day_files_dir

    day_file = sorted(day_files_dir(published).glob("*.parquet"))[0]
    before = day_file.read_bytes()
    result = shell(published, "SELECT count(*) AS n_readings FROM readings;\n"
                              f"COPY (SELECT 1 AS x) TO '{day_file}' (FORMAT parquet);\n")
    assert "n_readings" in result.stdout and "error: " not in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "read-only" in errors[0], result.stderr
    assert day_file.read_bytes() == before
