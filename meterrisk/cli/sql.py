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
from meterrisk.store import StoreBusyError, read_only
from meterrisk.store.snapshot import flow_running, published_at, snapshot_path


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
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "parquet"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write the result here (csv/parquet).")
@click.option("--live", is_flag=True, help="Always query the live store (fail fast if a writer holds it).")
@click.option("--max-rows", default=50, show_default=True, help="Rows shown in table format.")
def sql(db, query, fmt, out, live, max_rows):
    """Run a read-only SQL query against the store.

    Reads the live store read-only; while a flow runs (or another process writes), reads
    the snapshot the last run published instead, so a query never waits and never sees half
    a run. Writes are refused (the connection is read-only).

    \b
    Examples:
      meterrisk sql "SELECT * FROM v_risk_latest LIMIT 20"
      meterrisk sql "SELECT * FROM v_data_quality" --format csv --out quality.csv
    """
    if fmt == "parquet" and not out:  # before the query runs, so the error is the only output
        raise MeterriskError("--format parquet needs --out FILE")
    con, source = open_for_reading(db, live=live)
    try:
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
        with pl.Config(tbl_rows=max_rows, tbl_cols=-1, fmt_str_lengths=80, tbl_width_chars=200):
            click.echo(frame)
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


COMMANDS = [sql]
