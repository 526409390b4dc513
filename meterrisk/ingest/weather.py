"""Daily outdoor temperature (``date, mean_temp_c``), for weather-normalised heating and cooling."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from meterrisk.errors import InputFileError


def load_temperature(con: duckdb.DuckDBPyConnection, path: str | Path) -> int:
    """Upsert daily temperatures; a bad cell stops the load with its line and column."""
    path = Path(path)
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except Exception as exc:
        raise InputFileError(path, f"cannot read as CSV ({exc})") from None
    cols = {"date", "mean_temp_c"}
    if not cols <= set(raw.columns):
        raise InputFileError(path, "the header lacks date or mean_temp_c", expected=str(sorted(cols)), found=str(raw.columns))
    frame = raw.with_row_index("line", offset=2).select(
        "line", "date", "mean_temp_c",
        pl.col("date").str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias("local_date"),
        pl.col("mean_temp_c").str.strip_chars().cast(pl.Float64, strict=False).alias("temp_c"))
    bad = frame.filter(pl.col("local_date").is_null() | pl.col("temp_c").is_null() | ~pl.col("temp_c").is_between(-60, 60))
    if bad.height:
        first = bad.row(0, named=True)
        raise InputFileError(path, f"{bad.height} bad rows, first at line {first['line']}: "
                                   f"date {first['date']!r}, mean_temp_c {first['mean_temp_c']!r}",
                             expected="YYYY-MM-DD and a temperature in °C between -60 and 60")
    con.register("_temps", frame.select("local_date", "temp_c").unique("local_date", keep="last").to_arrow())
    try:
        con.execute("INSERT OR REPLACE INTO temperature SELECT local_date, temp_c FROM _temps")
    finally:
        con.unregister("_temps")
    return frame.height
