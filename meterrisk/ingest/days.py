"""The day table: one row per household and local day, kept in step with ``readings``.

``reading_days`` (V0004) holds each household-day's half hours as one list, the layout the
feature engine reads; ``readings`` stays the source of truth for SQL users. Every writer that
inserts or deletes readings calls, inside its own transaction:

1. ``note_changed(con, query)`` with the (household_id, local_date) pairs it touches (for a
   delete: *before* deleting, while the rows still say which days they were on);
2. ``rebuild_changed(con)`` after its last change, which rebuilds each noted day from ALL its
   readings (a local day can come from two files, e.g. UTC-day deliveries), so a day row is
   never a function of one file alone.

A day whose readings all went keeps its row, with ``n_readings = 0``, every ``kwh`` NULL and
no file ids, so the feature engine sees the deletion the way it sees any change: by version.
Withdrawals instead delete the household's rows outright (``meterrisk.consent.purge`` empties
every table with a ``household_id`` column).

**Versions.** Each rebuild draws one ``nextval('reading_days_version')`` for all the days it
writes. The store has one writer at a time (DuckDB's file lock) and the value is drawn inside
the writing transaction, so versions are monotone in commit order: a reader that has synced
up to version V finds every later change as ``version > V``. DuckDB does not give a sequence
value back on ROLLBACK, so a rolled-back write only leaves a gap, and ``COPY FROM DATABASE``
(the store rewrite after a withdrawal) carries the sequence on, never back.
"""

from __future__ import annotations

import duckdb

_NOTED = "_changed_days"
_ZONE = "(SELECT value FROM settings WHERE key = 'timezone')"


def note_changed(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> None:
    """Remember the household-days ``query`` selects (columns household_id, local_date)."""
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_NOTED} (household_id VARCHAR, local_date DATE)")
    con.execute(f"INSERT INTO {_NOTED} SELECT household_id, local_date FROM ({query})", params or [])


# The readings of the noted days. The date range lets DuckDB's zone maps skip the readings of
# other dates before the semi-join. With a new file, its own rows are taken whole (every one
# is on a noted day) and only the other files' rows are semi-joined: in the common case, days
# nobody had readings for, that second part is pruned by the file_id statistics and the probe
# of every new row against the keys is saved (about half the rebuild's cost).
_NOTED_READINGS = """
    SELECT household_id, local_date, slot, kwh, file_id
    FROM readings SEMI JOIN keys USING (household_id, local_date)
    WHERE local_date BETWEEN (SELECT min(local_date) FROM keys) AND (SELECT max(local_date) FROM keys)"""
_NEW_FILE_AND_NOTED_READINGS = f"""
    SELECT household_id, local_date, slot, kwh, file_id FROM readings WHERE file_id = $new_file
    UNION ALL
    {_NOTED_READINGS} AND file_id <> $new_file"""

# Day rows for the noted keys. The per-day lists are aggregated unsorted (sorting every day's
# lists costs more than the rest): when a full day's slots came out in order, which they
# nearly always do, its kWh list is the day as it is; otherwise each slot looks its reading up
# (slots are unique within a household-day), which also serves gappy and emptied days (no
# readings: all NULL). Both are exact; the lookup just costs ~3x the check. The list's length
# is the date's slot count, or longer if a reading's slot lies beyond it (ingest quarantines
# those, so this only keeps a hand-inserted one visible instead of dropping it). Slot counts
# come from ``local_calendar`` (ingest extends it first), else from the store's zone (readings
# written by hand, as tests and benchmarks do, have no calendar rows).
_DAY_ROWS = f"""
WITH keys AS (SELECT DISTINCT household_id, local_date FROM {_NOTED}),
per_day AS (
    SELECT household_id, local_date, count(*) AS n, max(slot) AS max_slot,
           list(kwh) AS kwhs, list(slot) AS present, list_sort(list_distinct(list(file_id))) AS file_ids
    FROM ({{readings}})
    GROUP BY household_id, local_date
), slotted AS (
    SELECT k.household_id, k.local_date, p.* EXCLUDE (household_id, local_date),
           coalesce(c.expected_slots, epoch(((k.local_date + 1)::TIMESTAMP AT TIME ZONE {_ZONE})
                                            - (k.local_date::TIMESTAMP AT TIME ZONE {_ZONE}))::BIGINT // 1800) AS slots
    FROM keys k LEFT JOIN per_day p USING (household_id, local_date)
    LEFT JOIN local_calendar c USING (local_date)
), sized AS (
    SELECT *, greatest(slots, coalesce(max_slot + 1, 0)) AS len FROM slotted
)
SELECT household_id, local_date, slots::SMALLINT AS slots, coalesce(n, 0)::SMALLINT AS n_readings,
       CASE WHEN n = len AND present = range(len)::SMALLINT[] THEN kwhs
            ELSE list_transform(range(len), lambda i: kwhs[list_position(present, i)]) END AS kwh,
       coalesce(file_ids, []::INTEGER[]) AS file_ids,
       $version::BIGINT AS version
FROM sized"""


def rebuild_changed(con: duckdb.DuckDBPyConnection, *, new_file: int | None = None) -> int:
    """Rebuild every noted household-day from all its readings; return how many day rows.

    ``new_file``: the file_id whose rows were just inserted, every one of them on a noted day
    (``note_changed`` was given its days): a cheaper way to the same rows."""
    noted = con.execute(f"SELECT count(*) FROM information_schema.tables WHERE table_name = '{_NOTED}' "
                        "AND table_type = 'LOCAL TEMPORARY'").fetchall()[0][0]
    if not noted:
        return 0
    if con.execute(f"SELECT count(*) FROM {_NOTED}").fetchall()[0][0] == 0:
        con.execute(f"DROP TABLE {_NOTED}")
        return 0
    version = con.execute("SELECT nextval('reading_days_version')").fetchall()[0][0]
    # Every noted day gets a row below, so deleting first and inserting the query's rows
    # straight into the table saves materialising them twice.
    con.execute(f"""
        DELETE FROM reading_days d USING (SELECT DISTINCT household_id, local_date FROM {_NOTED}) n
        WHERE d.household_id = n.household_id AND d.local_date = n.local_date""")
    readings, params = ((_NOTED_READINGS, {"version": version}) if new_file is None else
                        (_NEW_FILE_AND_NOTED_READINGS, {"version": version, "new_file": new_file}))
    written = con.execute(f"INSERT INTO reading_days SELECT * FROM ({_DAY_ROWS.format(readings=readings)})",
                          params).fetchall()[0][0]
    con.execute(f"DROP TABLE {_NOTED}")
    return written


def rebuild_all(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild every household-day from ``readings`` (one new version for all of them).

    For readings written by hand, outside ingest (tests, benchmarks that build a store with
    ``INSERT INTO readings``): ingest and the registry keep the table in step themselves."""
    note_changed(con, "SELECT household_id, local_date FROM readings "
                      "UNION SELECT household_id, local_date FROM reading_days")
    return rebuild_changed(con)
