"""``meterrisk sql``: ad hoc, read-only SQL for analysts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import duckdb
import polars as pl

from meterrisk import config
from meterrisk.cli._options import db_option
from meterrisk.errors import MeterriskError
from meterrisk.store import StoreBusyError, StoreMissingError, read_only
from meterrisk.store.snapshot import flow_running, published_at, readings_files, snapshot_path


def lock_down(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No file access from SQL, and settings locked so a statement cannot undo that.

    A read-only connection still lets a statement ``ATTACH 'data/meterrisk.duckdb' (READ_WRITE)``
    (and write the live store) or ``COPY ... TO`` a file; with external access off both are
    refused. Temporary tables stay allowed: they live in this session's memory. On the
    snapshot, ``readings`` is a view over day files: exactly those stay readable (DuckDB still
    refuses a COPY TO them)."""
    allowed = readings_files(con)
    if allowed:
        con.execute("SET allowed_paths = ?", [allowed])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def print_table(frame: pl.DataFrame, max_rows: int) -> None:
    """A result as an aligned table on stdout (``meterrisk sql`` and the shell alike)."""
    with pl.Config(tbl_rows=max_rows, tbl_cols=-1, fmt_str_lengths=80, tbl_width_chars=200):
        click.echo(frame)


def open_snapshot(db: str | None, *, live: bool) -> tuple[duckdb.DuckDBPyConnection, str]:
    """The shell's connection: the analyst snapshot (``live``: the store itself), read-only.

    A prompt stays open for long, and a reader on the live file makes every writer wait, so
    the shell reads the snapshot unless asked."""
    path = config.db_path(db)
    if live:
        try:
            return read_only(path), (f"live store ({path}), read-only; flows wait while this shell is open "
                                     f"and fail after METERRISK_LOCK_WAIT seconds")
        except StoreBusyError:
            raise MeterriskError(f"the store {path} is being updated", hint="retry in 30 s, or drop --live") from None
    snap = snapshot_path(path)
    if not snap.exists():
        if not path.exists():
            raise StoreMissingError(path)
        raise MeterriskError(f"no analyst snapshot at {snap} yet",
                             hint="each flow run publishes one (meterrisk run); --live reads the store itself")
    return read_only(snap), f"analyst snapshot published {published_at(path):%Y-%m-%d %H:%M:%S} UTC ({snap}), read-only"


def open_for_reading(db: str | None, *, live: bool) -> tuple[duckdb.DuckDBPyConnection, str]:
    """Where a query reads, never waiting:

    * no flow running: the live store, read-only (fresh);
    * a flow mid-run, or the live store locked by a writer: the snapshot the last run
      published, so a query never sees half a run;
    * no snapshot yet: a one-line "being updated, retry" error.

    ``live`` forces the live store (and fails fast if it is locked).
    """
    path = config.db_path(db)
    snap = snapshot_path(path)

    def snapshot(why: str):
        if not snap.exists():
            raise MeterriskError(f"the store {path} is being updated ({why}) and no snapshot is published yet",
                                 hint="retry in 30 s, or when the running flow ends (it publishes a snapshot)")
        return read_only(snap), f"snapshot published {published_at(path):%Y-%m-%d %H:%M:%S} UTC ({snap}): {why}"

    if not live and flow_running(path):
        return snapshot("a flow is running")
    try:
        return read_only(path), f"live store ({path})"
    except StoreBusyError:
        if live:
            raise MeterriskError(f"the store {path} is being updated", hint="retry in 30 s, or drop --live") from None
        return snapshot("a writer holds the store")


@click.command("sql")
@db_option
@click.argument("query", required=False)
@click.option("--shell", is_flag=True, help="An interactive prompt on the analyst snapshot (--live: the store).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "parquet"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the result here (csv/parquet).")
@click.option("--live", is_flag=True, help="Always query the live store (fail fast if a writer holds it).")
@click.option("--max-rows", default=50, show_default=True, help="Rows shown in table format.")
def sql(db, query, shell, fmt, out, live, max_rows):
    """Run a read-only SQL query against the store, or open a prompt (--shell).

    Reads the live store read-only; while a flow runs (or another process writes), reads
    the snapshot the last run published instead, so a query never waits and never sees half
    a run. Writes are refused (the connection is read-only), and so is file access from SQL
    (ATTACH, COPY TO, read_csv of a file): save a result with --out.

    --shell reads statements ending in ';' (several lines each), prints each result as a
    table, and knows .tables, .schema NAME, .help and .quit (or Ctrl-D); an error is one line
    and the prompt goes on. It reads the analyst snapshot, since a session on the live file
    makes the flows wait (--live for the store). With input from a pipe it runs the
    statements and exits 1 if any failed.

    \b
    Examples:
      meterrisk sql "SELECT * FROM v_risk_latest LIMIT 20"
      meterrisk sql "SELECT * FROM v_data_quality" --format csv --out quality.csv
      meterrisk sql --shell
      echo "SELECT count(*) FROM readings;" | meterrisk sql --shell
    """
    if shell:
        if query is not None:
            raise MeterriskError("give a QUERY or --shell, not both")
        if fmt != "table" or out:
            raise MeterriskError("--shell prints tables; --format and --out are for a single QUERY",
                                 hint='meterrisk sql "SELECT ..." --format csv --out FILE')
        _shell(db, live=live, max_rows=max_rows)
        return
    if query is None:
        raise MeterriskError("missing QUERY", hint='meterrisk sql "SELECT ...", or meterrisk sql --shell for a prompt')
    if fmt == "parquet" and not out:  # before the query runs, so the error is the only output
        raise MeterriskError("--format parquet needs --out FILE")
    con, source = open_for_reading(db, live=live)
    try:
        lock_down(con)
        try:
            frame = pl.from_arrow(con.sql(query).to_arrow_table()) if query.strip() else pl.DataFrame()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise MeterriskError(f"query failed: {first}",
                                 hint="the store is read-only here; see the README for tables and views") from None
        except AttributeError:  # a statement with no result (e.g. SET)
            frame = pl.DataFrame()
    finally:
        con.close()
    click.echo(f"-- {source}", err=True)
    if fmt == "table":
        print_table(frame, max_rows)
        return
    if fmt == "csv":
        if out:
            frame.write_csv(out)
        else:
            sys.stdout.write(frame.write_csv())
    else:
        frame.write_parquet(out)
    if out:
        click.echo(f"{frame.height} rows -> {Path(out)}", err=True)


def _shell(db, *, live: bool, max_rows: int) -> None:
    from meterrisk.cli.sql_shell import Shell

    con, source = open_snapshot(db, live=live)
    try:
        lock_down(con)
        shell = Shell(con, lambda frame: print_table(frame, max_rows), click.echo)
        click.echo(f"-- {source}", err=True)
        if shell.interactive:
            click.echo("-- statements end with ';'; .help for commands, .quit or Ctrl-D to leave", err=True)
        code = shell.run()
    finally:
        con.close()
    if code:
        sys.exit(code)


COMMANDS = [sql]
