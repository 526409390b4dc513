"""Which household-days' readings changed since the daily features were last computed.

Two ways to find out, same answer:

- **By file id** (the usual case, cheap): readings are never updated in place, only inserted
  with a new ``file_id`` or deleted. If the table holds exactly the rows it held at the last
  sync plus those with a newer file id, nothing was deleted or back-filled, and the changed
  days are the days of the newer rows. Costs a count and a filtered scan.
- **By content** (after deletions, a late-committing older file, a first run or ``--full``):
  a count and content hash per household-day, compared with ``feature_state``.

Both leave temp table ``_fx_reading_days`` (household_id, local_date, n_readings,
fingerprint) with at least every household-day in the ranges about to be recomputed, which
``store_io.replace_daily`` copies into ``feature_state``.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from meterrisk.features import activity as A
from meterrisk.store import frame as query
from meterrisk.store import one, registered, transaction

_DAYS = """
    CREATE OR REPLACE TEMP TABLE _fx_reading_days AS
    SELECT r.household_id, r.local_date, count(*)::BIGINT AS n_readings,
           bit_xor(hash(r.ts_utc, r.kwh)) AS fingerprint
    FROM readings r {join} GROUP BY r.household_id, r.local_date
"""


def snapshot(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(highest file_id, row count) of readings now: what a completed sync records."""
    wm, n = one(con, "SELECT coalesce(max(file_id), 0), count(*) FROM readings")
    return int(wm), int(n)


def changed_by_file(con: duckdb.DuckDBPyConnection, now: tuple[int, int]) -> pl.DataFrame | None:
    """Ranges (household_id, lo, hi) of days with readings newer than the last sync, or None
    when that cannot be trusted (no sync yet, or rows were deleted or back-filled since)."""
    last = one(con, "SELECT file_watermark, readings_count FROM feature_sync")
    if last is None:
        return None
    wm, then = last
    newer = one(con, "SELECT count(*) FROM readings WHERE file_id > ?", [wm])[0]
    if now[1] != then + newer:
        return None
    return query(con, """
        SELECT household_id, min(local_date) AS lo, max(local_date) AS hi
        FROM readings WHERE file_id > ? GROUP BY household_id""", [wm])


def hash_days(con: duckdb.DuckDBPyConnection, ranges: pl.DataFrame | None = None) -> None:
    """Build ``_fx_reading_days`` for every household-day, or only for those in ``ranges``
    (household_id, lo, hi), widened to every day a recompute of those ranges rewrites."""
    if ranges is None:
        con.execute(_DAYS.format(join=""))
        return
    wide = ranges.select("household_id", lo=pl.col("lo") - pl.duration(days=A.LOOKAHEAD_DAYS),
                         hi=pl.col("hi") + pl.duration(days=A.DEPENDS_FORWARD))
    first = wide["lo"].min() if wide.height else date(1970, 1, 1)
    # The plain date bound lets DuckDB skip old row groups when readings arrive by date.
    with registered(con, _fx_wide=wide):
        con.execute(_DAYS.format(join="""
            JOIN _fx_wide w ON r.household_id = w.household_id AND r.local_date BETWEEN w.lo AND w.hi
            WHERE r.local_date >= ?::DATE"""), [first])


def changed_by_content(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per household, the first and last local date whose readings differ from what the
    stored features were computed from (new, changed or removed days)."""
    return query(con, """
        SELECT household_id, min(local_date) AS lo, max(local_date) AS hi
        FROM _fx_reading_days c FULL JOIN feature_state s USING (household_id, local_date)
        WHERE c.n_readings IS DISTINCT FROM s.n_readings
           OR c.fingerprint IS DISTINCT FROM s.fingerprint
        GROUP BY household_id""")


def all_ranges(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every household's first and last day, in the readings or in the stored features."""
    return query(con, """
        SELECT household_id, min(local_date) AS lo, max(local_date) AS hi FROM (
            SELECT household_id, local_date FROM _fx_reading_days
            UNION ALL SELECT household_id, local_date FROM feature_state)
        GROUP BY household_id""")


def record_sync(con: duckdb.DuckDBPyConnection, now: tuple[int, int]) -> None:
    """Remember what this completed sync saw (after every batch has committed)."""
    with transaction(con):
        con.execute("DELETE FROM feature_sync")
        con.execute("INSERT INTO feature_sync VALUES (?, ?, now()::TIMESTAMP)", list(now))
