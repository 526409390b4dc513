"""Repeated keys in a staged file: one rule for every layout.

Rows staged in ``_stage`` that share (household_id, ts_utc) either agree (load one, count
the rest as duplicates) or disagree (quarantine all of them: we cannot know which is right).
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from meterrisk.ingest.reasons import Reason


def key_hashes(rows: pl.DataFrame) -> pl.Series:
    """A 64-bit hash of each row's (household_id, ts_utc), for ``distinct_key_hashes``."""
    return rows.select("household_id", "ts_utc").hash_rows()


def distinct_key_hashes(hashes: list[pl.Series]) -> bool:
    """True if the staged keys behind ``hashes`` (one Series per chunk) are all distinct.

    Distinct hashes imply distinct keys; equal hashes may be a collision, so False only means
    "search in SQL". Hashing in Polars while the chunks are staged costs a fraction of the
    2M-group aggregate DuckDB would otherwise run over ``_stage`` for every file.
    """
    if not hashes:
        return True
    every = pl.concat(hashes)
    return every.n_unique() == every.len()


def raw_text(alias: str) -> str:
    """SQL for a quarantined row's text: the raw line, or (Parquet has none) the parsed fields."""
    return (f"coalesce({alias}.raw_line, {alias}.household_id || ',' || "
            f"strftime({alias}.ts_utc, '%Y-%m-%dT%H:%M:%SZ') || ',' || {alias}.kwh)")


def collapse_repeats(con, file_id: int, *, column: str, message: str, reasons: Counter, result,
                     keys_distinct: bool = False) -> None:
    """Leave a view ``_keys`` with one staged row per key; quarantine and count the rest.

    ``message`` is a printf format given (household, count, UTC time, lowest, highest).
    Repeats are rare, so candidates are found with a narrow one-column hash aggregate first
    and the real keys are grouped only if there are any. ``keys_distinct``: the caller has
    shown that no two staged rows share a key (``distinct_key_hashes``), so there is nothing
    to search for.
    """
    if keys_distinct:
        con.execute("CREATE OR REPLACE TEMP VIEW _keys AS SELECT * FROM _stage")
        return
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _dup_hashes AS
        SELECT hash(household_id, ts_utc) AS k FROM _stage GROUP BY 1 HAVING count(*) > 1""")
    if con.execute("SELECT count(*) FROM _dup_hashes").fetchall()[0][0] == 0:
        con.execute("CREATE OR REPLACE TEMP VIEW _keys AS SELECT * FROM _stage")
        return
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _dups AS
        SELECT household_id, ts_utc, min(kwh) AS lo, max(kwh) AS hi, count(*) AS n, min(line_number) AS first_line
        FROM _stage WHERE hash(household_id, ts_utc) IN (SELECT k FROM _dup_hashes)
        GROUP BY household_id, ts_utc HAVING count(*) > 1""")
    conflicts = con.execute(f"""
        INSERT INTO quarantine
        SELECT ?, s.line_number, ?, 'conflicting_duplicate',
               printf(?, s.household_id, k.n, strftime(s.ts_utc, '%Y-%m-%d %H:%M'), k.lo, k.hi),
               {raw_text('s')}
        FROM _stage s JOIN (SELECT * FROM _dups WHERE lo <> hi) k USING (household_id, ts_utc)""",
        [file_id, column, message]).fetchall()[0][0]
    if conflicts:
        reasons[Reason.CONFLICTING_DUPLICATE.value] += conflicts
    result.rows_duplicate += con.execute("SELECT coalesce(sum(n - 1), 0) FROM _dups WHERE lo = hi").fetchall()[0][0]
    con.execute("""
        CREATE OR REPLACE TEMP VIEW _keys AS
        SELECT s.* FROM _stage s ANTI JOIN _dups d USING (household_id, ts_utc)
        UNION ALL
        SELECT s.* FROM _stage s JOIN _dups d
          ON s.household_id = d.household_id AND s.ts_utc = d.ts_utc AND s.line_number = d.first_line
        WHERE d.lo = d.hi""")


def drop_temps(con) -> None:
    con.execute("DROP VIEW IF EXISTS _keys; DROP TABLE IF EXISTS _dups; DROP TABLE IF EXISTS _dup_hashes")
