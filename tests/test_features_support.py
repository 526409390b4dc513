"""Helpers for the feature tests: write hand-built readings straight into a store.

(No tests here; named test_features_* so it lives with them.)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from meterrisk.ingest import days as day_rows


def store_readings(con, frame: pl.DataFrame, *, file_id: int = 1) -> None:
    """Insert readings given as household_id, ts_utc (naive UTC), kwh; derive the local columns
    in the store's zone and add the dates to local_calendar."""
    tz = con.execute("SELECT value FROM settings WHERE key = 'timezone'").fetchall()[0][0]
    local = pl.col("ts_utc").dt.replace_time_zone("UTC").dt.convert_time_zone(tz)
    df = frame.with_columns(local_ts=local.dt.replace_time_zone(None)).with_columns(
        local_date=pl.col("local_ts").dt.date())
    midnight_utc = (pl.col("local_date").cast(pl.Datetime("us")).dt.replace_time_zone(tz, ambiguous="earliest")
                    .dt.convert_time_zone("UTC").dt.replace_time_zone(None))
    df = df.with_columns(
        slot=((pl.col("ts_utc") - midnight_utc).dt.total_minutes() // 30).cast(pl.Int16),
        file_id=pl.lit(file_id, dtype=pl.Int32),
    )
    cal = df.select(pl.col("local_date").unique()).with_columns(
        expected_slots=(((pl.col("local_date") + pl.duration(days=1)).cast(pl.Datetime("us"))
                         .dt.replace_time_zone(tz, ambiguous="earliest")
                         - pl.col("local_date").cast(pl.Datetime("us")).dt.replace_time_zone(tz, ambiguous="earliest"))
                        .dt.total_minutes() // 30).cast(pl.Int16))
    con.register("_t_readings", df.select("household_id", "ts_utc", "local_ts", "local_date", "slot", "kwh", "file_id"))
    con.register("_t_cal", cal)
    con.execute("INSERT INTO readings BY NAME SELECT * FROM _t_readings")
    day_rows.note_changed(con, "SELECT DISTINCT household_id, local_date FROM _t_readings")
    day_rows.rebuild_changed(con)  # ingest keeps reading_days in step; readings written by hand must too
    con.execute("INSERT INTO local_calendar SELECT * FROM _t_cal WHERE local_date NOT IN "
                "(SELECT local_date FROM local_calendar)")
    con.unregister("_t_readings")
    con.unregister("_t_cal")


def tokyo_day(household: str, day: date, kwh_at) -> pl.DataFrame:
    """48 half hours of a Tokyo day; ``kwh_at(clock_h)`` gives the kWh of the half hour
    starting at local clock hour clock_h (6.5 = 06:30). Tokyo is UTC+9 with no DST."""
    start = datetime(day.year, day.month, day.day) - timedelta(hours=9)
    rows = [(household, start + timedelta(minutes=30 * i), float(kwh_at(i / 2))) for i in range(48)]
    return pl.DataFrame(rows, schema=["household_id", "ts_utc", "kwh"], orient="row")


def local_day(household: str, day: date, tz: str, kwh_at) -> pl.DataFrame:
    """Every half hour of local ``day`` in zone ``tz`` (46/48/50 of them), by local clock hour."""
    from zoneinfo import ZoneInfo

    z = ZoneInfo(tz)
    start = datetime(day.year, day.month, day.day, tzinfo=z).astimezone(ZoneInfo("UTC"))
    end = (datetime(day.year, day.month, day.day, tzinfo=z) + timedelta(days=1)).astimezone(ZoneInfo("UTC"))
    rows = []
    t = start
    while t < end:
        lt = t.astimezone(z)
        rows.append((household, t.replace(tzinfo=None), float(kwh_at(lt.hour + lt.minute / 60))))
        t += timedelta(minutes=30)
    return pl.DataFrame(rows, schema=["household_id", "ts_utc", "kwh"], orient="row")


def routine(wake: float = 6.5, bed: float = 22.5, base: float = 0.03, level: float = 0.3):
    """A simple day: baseload at night, ``level`` above it while awake (wake <= h < bed)."""
    def kwh_at(h: float) -> float:
        return base + (level if wake <= h < bed else 0.0)
    return kwh_at


def days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def q(con, sql: str, params: list | None = None) -> pl.DataFrame:
    con.complete()  # DuckDB 2: finish any pending execute() result before relation work
    return con.sql(sql, params=params).pl()


def daily_row(con, household: str, day: date) -> dict:
    rows = q(con, "SELECT * FROM daily_features WHERE household_id = ? AND local_date = ?",
             [household, day]).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def delete_readings(con, household: str, day: date) -> None:
    """Delete one household-day's readings as a writer must: its day row follows."""
    where = "household_id = ? AND local_date = ?"
    day_rows.note_changed(con, f"SELECT household_id, local_date FROM readings WHERE {where}", [household, day])
    con.execute(f"DELETE FROM readings WHERE {where}", [household, day])
    day_rows.rebuild_changed(con)
