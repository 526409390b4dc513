"""The day frame: one row per household and local date, dense between its first and last day.

Built from day rows (``reading_days``: household_id, local_date, kwh as a list in elapsed-time
order, null = no reading). Days without a row get a row with a null ``kwh`` list, so "the day
before" is always the previous row of the household, and cross-day inputs are plain shifts:

- ``baseload``: the night floor of the last 7 days (:func:`activity.night_baseload`);
- ``prev_kwh`` / ``next_kwh`` and their baseloads: yesterday's last and tomorrow's first half
  hours, which sustained activity at midnight and the evening after midnight need;
- ``layout`` (and ``prev_layout``, ``next_layout``): which slot clocks the date has
  (:mod:`meterrisk.features.layouts`).
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from meterrisk.features import activity as A
from meterrisk.features import layouts

HH = "household_id"


def dense(days: pl.DataFrame, zone: str, *, first_dates: pl.DataFrame | None = None) -> pl.DataFrame:
    """The day frame for ``days`` (household_id, local_date, kwh), sorted by household and date.

    ``first_dates`` (household_id, first) extends a household's rows back to ``first`` (for the
    stored profiles an incremental run reads instead of readings).
    """
    span = days.group_by(HH).agg(first=pl.col("local_date").min(), last=pl.col("local_date").max())
    if first_dates is not None and first_dates.height:
        span = span.join(first_dates.select(HH, pl.col("first").alias("_f")), on=HH, how="left").with_columns(
            first=pl.min_horizontal("first", "_f")).drop("_f")
    if span.height == 0:
        return _empty()
    lo, hi = span["first"].min(), span["last"].max()
    table = layouts.layout_table(lo - timedelta(days=1), hi + timedelta(days=1), zone).with_columns(
        prev_layout=pl.col("layout").shift(1), next_layout=pl.col("layout").shift(-1),
        night_slots=pl.col("local_date").map_elements(
            lambda d: sum(c < A.NIGHT_END_H * 60 for c in layouts.slot_clocks(d, zone)), return_dtype=pl.Int32),
    ).slice(1, (hi - lo).days + 1)
    grid = (span.lazy()
            .select(HH, local_date=pl.date_ranges("first", "last"))
            .explode("local_date")
            .join(days.lazy().select(HH, "local_date", "kwh"), on=[HH, "local_date"], how="left")
            .join(table.lazy(), on="local_date", how="left")
            .sort(HH, "local_date"))
    empty = pl.lit([], dtype=pl.List(pl.Float64))
    night = pl.col("kwh").list.head(pl.col("night_slots"))
    week = pl.concat_list([night.shift(k).over(HH).fill_null(empty) for k in range(A.BASELOAD_DAYS)])
    tonight = night.list.drop_nulls().list.len().fill_null(0) > 0
    return (grid
            .with_columns(baseload=pl.when(tonight).then(A.night_baseload(week)))
            .with_columns(
                prev_kwh=pl.col("kwh").shift(1).over(HH), next_kwh=pl.col("kwh").shift(-1).over(HH),
                prev_baseload=pl.col("baseload").shift(1).over(HH),
                next_baseload=pl.col("baseload").shift(-1).over(HH))
            .collect())


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={
        HH: pl.String, "local_date": pl.Date, "kwh": pl.List(pl.Float64), "layout": pl.Int32,
        "slots": pl.Int16, "prev_layout": pl.Int32, "next_layout": pl.Int32, "night_slots": pl.Int32,
        "baseload": pl.Float64, "prev_kwh": pl.List(pl.Float64), "next_kwh": pl.List(pl.Float64),
        "prev_baseload": pl.Float64, "next_baseload": pl.Float64})


def from_readings(readings: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Day rows (household_id, local_date, kwh list) from one row per reading (household_id,
    ts_utc, local_date, kwh): what ``reading_days`` holds, for tests and tools that start
    from readings."""
    if readings.height == 0:
        return pl.DataFrame(schema={HH: pl.String, "local_date": pl.Date, "kwh": pl.List(pl.Float64)})
    dates = readings["local_date"].unique().sort()
    starts = pl.DataFrame({"local_date": dates}).with_columns(
        _start=pl.col("local_date").map_elements(
            lambda d: layouts._utc_midnight(d, layouts.ZoneInfo(zone)).replace(tzinfo=None),
            return_dtype=pl.Datetime("us")),
        slots=pl.col("local_date").map_elements(lambda d: len(layouts.slot_clocks(d, zone)), return_dtype=pl.Int32))
    r = readings.join(starts, on="local_date").with_columns(
        slot=((pl.col("ts_utc").cast(pl.Datetime("us")) - pl.col("_start")).dt.total_minutes() // 30).cast(pl.Int32))
    grid = (r.select(HH, "local_date", "slots").unique()
            .with_columns(slot=pl.int_ranges(0, pl.col("slots"), dtype=pl.Int32)).explode("slot"))
    return (grid.join(r.select(HH, "local_date", "slot", pl.col("kwh").cast(pl.Float64)),
                      on=[HH, "local_date", "slot"], how="left")
            .sort(HH, "local_date", "slot")
            .group_by(HH, "local_date", maintain_order=True).agg(pl.col("kwh")))
