"""Which household-days changed since the daily features were last computed.

Ingest keeps ``reading_days`` in step with the readings and stamps every day row it writes
with a new ``version`` (drawn inside the writing transaction; one writer at a time, so
versions grow in commit order). A day whose readings were all removed keeps its row, with no
readings and a new version. So the changed days are exactly those with ``version`` above the
one the last completed sync saw: no hashing, no counting, whatever was delivered, replaced or
removed in between. A withdrawal deletes the household's day rows with its features.
"""

from __future__ import annotations

import duckdb
import polars as pl

from meterrisk.store import frame as query
from meterrisk.store import one, transaction


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The newest day-row version in the store (0 for none): what a completed sync records."""
    return int(one(con, "SELECT coalesce(max(version), 0) FROM reading_days")[0])


def last_synced(con: duckdb.DuckDBPyConnection) -> int | None:
    """The version the last completed sync saw, or None (never synced, or synced before day
    rows had versions: the next run is a full one)."""
    row = one(con, "SELECT days_version FROM feature_sync")
    return None if row is None or row[0] is None else int(row[0])


def changed_since(con: duckdb.DuckDBPyConnection, version: int) -> pl.DataFrame:
    """Per household, the first and last local date whose day row changed after ``version``."""
    return query(con, """
        SELECT household_id, min(local_date) AS lo, max(local_date) AS hi
        FROM reading_days WHERE version > ? GROUP BY household_id""", [version])


def all_ranges(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every household's first and last day with readings."""
    return query(con, """
        SELECT household_id, min(local_date) AS lo, max(local_date) AS hi
        FROM reading_days WHERE n_readings > 0 GROUP BY household_id""")


def temperature_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Row count and content hash of the temperature table (a few hundred rows a year)."""
    n, h = one(con, "SELECT count(*), coalesce(bit_xor(hash(local_date, temp_c)), 0) FROM temperature")
    return f"{n}:{h}"


def temperature_changed(con: duckdb.DuckDBPyConnection) -> bool:
    """Temperatures were loaded or changed since the last completed sync: every stored window's
    temperature features may be out of date (no daily feature reads temperatures)."""
    row = one(con, "SELECT temperature_fingerprint FROM feature_sync")
    return row is not None and row[0] != temperature_fingerprint(con)


def record_sync(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Remember what this completed sync saw (after every batch has committed)."""
    with transaction(con):
        con.execute("DELETE FROM feature_sync")
        con.execute("INSERT INTO feature_sync (synced_at, days_version, temperature_fingerprint) "
                    "VALUES (now()::TIMESTAMP, ?, ?)", [version, temperature_fingerprint(con)])
