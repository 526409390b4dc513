"""Reading inputs from and writing features to the DuckDB store, in household batches.

Writes never duplicate rows and a crash leaves the previous rows in place: an incremental run
replaces whole key ranges inside one transaction per batch (delete, then insert); a full run
empties and refills the daily tables inside one transaction (:class:`FreshTables`).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import polars as pl

from meterrisk.store import frame as query
from meterrisk.store import one, registered, transaction

#: The tables a daily sync writes, one row per household-day each.
DAILY_TABLES = ("daily_features", "daily_profiles", "feature_state")


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]) > 0


def batches(frame: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    """Split ``frame`` into pieces holding at most ``size`` distinct households each."""
    households = frame.select("household_id").unique().sort("household_id")["household_id"]
    for start in range(0, len(households), size):
        chunk = households.slice(start, size)
        yield frame.filter(pl.col("household_id").is_in(chunk.implode()))


def calendar(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return query(con, "SELECT local_date, expected_slots FROM local_calendar")


def load_days(con: duckdb.DuckDBPyConnection, ranges: pl.DataFrame) -> pl.DataFrame:
    """Day rows of the households in ``ranges`` (household_id, read_lo, read_hi) with readings,
    as household_id, local_date and one column per half hour (k0..k49, null = no reading).

    DuckDB splits the lists into columns (in C++, in parallel); the batch's id and date bounds
    are repeated as plain range filters so it can skip row groups outside them.
    """
    from meterrisk.features.dayframe import MAX_SLOTS

    batch = ranges.select("household_id", "read_lo", "read_hi")
    bounds = [batch["household_id"].min(), batch["household_id"].max(),
              batch["read_lo"].min(), batch["read_hi"].max()]
    slots = ", ".join(f"d.kwh[{i + 1}] AS k{i}" for i in range(MAX_SLOTS))
    con.complete()  # DuckDB 2: no relation work while an execute() result is unfinished
    with registered(con, _fx_ranges=batch):
        return query(con, f"""
            SELECT d.household_id, d.local_date, {slots}
            FROM reading_days d JOIN _fx_ranges g ON d.household_id = g.household_id
             AND d.local_date BETWEEN g.read_lo AND g.read_hi
            WHERE d.n_readings > 0 AND d.household_id BETWEEN $1 AND $2 AND d.local_date BETWEEN $3 AND $4
            """, bounds)


def load_prior_profiles(con: duckdb.DuckDBPyConnection, ranges: pl.DataFrame, days: int) -> pl.DataFrame:
    """Stored half-hour active profiles of the ``days`` days before each household's ``lo``."""
    with registered(con, _fx_ranges=ranges.select("household_id", "lo")):
        return query(con, f"""
            SELECT p.household_id, p.local_date, p.halfhour_seen, p.halfhour_active
            FROM daily_profiles p JOIN _fx_ranges g ON p.household_id = g.household_id
             AND p.local_date BETWEEN g.lo - INTERVAL ({days}) DAY AND g.lo - INTERVAL 1 DAY
            """)


def _insert_daily(con: duckdb.DuckDBPyConnection) -> None:
    """Insert the registered _fx_daily and _fx_profiles, and each day's reading_days version
    for the registered _fx_ranges (what feature_state records)."""
    con.execute("INSERT INTO daily_features BY NAME SELECT * FROM _fx_daily")
    con.execute("INSERT INTO daily_profiles BY NAME SELECT * FROM _fx_profiles")
    con.execute("""
        INSERT INTO feature_state
        SELECT r.household_id, r.local_date, r.version, now()::TIMESTAMP
        FROM reading_days r JOIN _fx_ranges g ON r.household_id = g.household_id
         AND r.local_date BETWEEN g.lo AND g.hi""")


def replace_daily(con: duckdb.DuckDBPyConnection, ranges: pl.DataFrame, daily: pl.DataFrame,
                  profiles: pl.DataFrame) -> None:
    """Replace daily_features, daily_profiles and feature_state for ``ranges`` (lo..hi), in
    one transaction: an incremental run's few changed days."""
    in_range = ("USING _fx_ranges g WHERE t.household_id = g.household_id "
                "AND t.local_date BETWEEN g.lo AND g.hi")
    with transaction(con, _fx_ranges=ranges.select("household_id", "lo", "hi"), _fx_daily=daily,
                     _fx_profiles=profiles):
        for table in DAILY_TABLES:
            con.execute(f"DELETE FROM {table} t {in_range}")
        _insert_daily(con)


class FreshTables:
    """A full run's writes: the daily tables emptied and refilled batch by batch inside one
    transaction, committed at the end (no per-batch deletes or commits; a crash or an error
    rolls back to the previous tables whole)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        self.open = False

    def __enter__(self) -> FreshTables:
        self.con.execute("BEGIN TRANSACTION")
        self.open = True
        for table in DAILY_TABLES:
            self.con.execute(f"DELETE FROM {table}")
        return self

    def write(self, ranges: pl.DataFrame, daily: pl.DataFrame, profiles: pl.DataFrame) -> None:
        con = self.con
        with registered(con, _fx_ranges=ranges.select("household_id", "lo", "hi"), _fx_daily=daily,
                        _fx_profiles=profiles):
            try:
                _insert_daily(con)
            except BaseException:
                # Roll back before the frames are unregistered: an aborted transaction would
                # refuse that and hide this error behind its own.
                self._end("ROLLBACK")
                raise

    def _end(self, how: str) -> None:
        if self.open:
            self.open = False
            self.con.execute(how)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._end("COMMIT" if exc_type is None else "ROLLBACK")


def load_window_inputs(con: duckdb.DuckDBPyConnection, requests: pl.DataFrame,
                       history_days: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What windows.frame.window_frame reads for ``requests``: each household's daily rows
    (household_id, local_date, dq_flag, the summarised features, temp_c) and valid-day
    profiles (Array(Float64, 24) per hour) in the windows of its as_of dates, each row once
    however many of its windows it falls in (as_of dates a year apart do not read the year
    between)."""
    from meterrisk.features.windows.spans import SUMMARISED

    has_temp = table_exists(con, "temperature")
    temp = ", t.temp_c::DOUBLE AS temp_c" if has_temp else ", NULL::DOUBLE AS temp_c"
    temp_join = "LEFT JOIN temperature t ON t.local_date = d.local_date" if has_temp else ""
    features = ", ".join(f"d.{f}" for f in SUMMARISED)
    spans = _read_ranges(requests, history_days)
    with registered(con, _fx_spans=spans):
        days = query(con,
            f"""
            SELECT d.household_id, d.local_date, d.dq_flag, {features}{temp}
            FROM _fx_spans q JOIN daily_features d ON d.household_id = q.household_id
             AND d.local_date BETWEEN q.lo AND q.hi
            {temp_join}
            """
        )
        profiles = query(con,
            """
            SELECT p.household_id, p.local_date,
                   p.hourly_excess_kwh::DOUBLE[24] AS hourly_excess_kwh,
                   p.hourly_active_slots::DOUBLE[24] AS hourly_active_slots
            FROM _fx_spans q JOIN daily_profiles p ON p.household_id = q.household_id
             AND p.local_date BETWEEN q.lo AND q.hi
            """
        )
    return days, profiles


def _read_ranges(requests: pl.DataFrame, history_days: int) -> pl.DataFrame:
    """Disjoint (household_id, lo, hi) date ranges covering every request's window: the
    requests grouped as the window engine groups them (as_of dates < history_days apart),
    overlapping ranges merged so no row is read twice."""
    hh = "household_id"
    grouped = (requests.with_columns(
        _seg=(pl.col("as_of") - pl.col("as_of").min().over(hh)).dt.total_days() // history_days)
        .group_by(hh, "_seg").agg(lo=pl.col("as_of").min() - pl.duration(days=history_days - 1),
                                   hi=pl.col("as_of").max())
        .sort(hh, "lo"))
    starts = (pl.col("lo") > pl.col("hi").shift(1).over(hh) + pl.duration(days=1)).fill_null(True)
    return (grouped.with_columns(_range=starts.cum_sum())
            .group_by(hh, "_range").agg(pl.col("lo").min(), pl.col("hi").max()).drop("_range"))


def replace_windows(con: duckdb.DuckDBPyConnection, features: pl.DataFrame) -> None:
    """Replace household_features rows for the (household_id, as_of) keys in ``features``."""
    with transaction(con, _fx_windows=features):
        con.execute(
            "DELETE FROM household_features t USING _fx_windows w "
            "WHERE t.household_id = w.household_id AND t.as_of = w.as_of"
        )
        con.execute("INSERT INTO household_features BY NAME SELECT * FROM _fx_windows")


def replace_catalog(con: duckdb.DuckDBPyConnection, catalog: pl.DataFrame) -> None:
    with transaction(con, _fx_catalog=catalog):
        con.execute("DELETE FROM feature_catalog")
        con.execute("INSERT INTO feature_catalog BY NAME SELECT * FROM _fx_catalog")




def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """First column of the first row, or None."""
    row = one(con, sql, params)
    return row[0] if row else None
