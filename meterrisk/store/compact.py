"""Rewriting the store so that deleted rows are gone from the file, not only from its tables.

DuckDB reuses the blocks a DELETE frees but does not wipe them, so after a withdrawal the
household's id can still be read off the file with `strings`. ``rewrite_store`` copies the
database into a fresh file (``COPY FROM DATABASE``: tables, views, sequences, migrations) and
moves it over the old one while the caller's connection still holds the store's lock, so no
other writer can slip in between, then closes that connection (it points at the old file):
open a new one to go on.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb


def rewrite_store(con: duckdb.DuckDBPyConnection, db: str | os.PathLike) -> Path:
    db = Path(db)
    fresh = db.with_name(f".{db.name}.rewrite-{os.getpid()}")
    fresh.unlink(missing_ok=True)
    name = con.execute("SELECT current_database()").fetchall()[0][0]
    con.execute("CHECKPOINT")  # nothing left in the write-ahead log of the old file
    con.execute("ATTACH ? AS _rewrite", [str(fresh)])
    try:
        con.execute(f'COPY FROM DATABASE "{name}" TO _rewrite')
    finally:
        con.execute("DETACH _rewrite")
    try:
        with open(fresh, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(fresh, 0o600)
        os.replace(fresh, db)
    finally:
        fresh.unlink(missing_ok=True)
        con.close()
    return db
