"""household_features rows for (household_id, as_of) requests, from daily rows and profiles."""

from __future__ import annotations

import polars as pl

from meterrisk.features import registry
from meterrisk.features.windows.spans import ALWAYS_SET, MIN_BASELINE_DAYS, MIN_VALID_DAYS
from meterrisk.features.windows.sums import Window, window_sums

KEY = ["household_id", "as_of"]


def window_frame(requests: pl.DataFrame, days: pl.DataFrame, profiles: pl.DataFrame) -> pl.DataFrame:
    """Household-window features, one row per request row, in request order.

    ``requests``: unique (household_id String, as_of Date). ``days``: daily rows (household_id,
    local_date, dq_flag, the summarised daily columns, temp_c) covering as_of-83 .. as_of.
    ``profiles``: valid-day rows (household_id, local_date, hourly_excess_kwh and
    hourly_active_slots, 24 values each, null = hour without reading). Returns household_id,
    as_of, then catalog.window_columns() in order: counts Int32, dq_flag String, the rest
    Float64; null = undefined (never NaN).

    Gating: fewer than 21 valid days in the 28 up to as_of ('insufficient_data') nulls every
    column but the sufficiency counts; fewer than 14 valid baseline days ('no_baseline')
    nulls the circadian baseline and delta columns (the deviation families gate themselves).
    """
    w = Window()
    columns = registry.window_columns(w)
    if "temp_c" not in days.columns:
        days = days.with_columns(temp_c=pl.lit(None, dtype=pl.Float64))
    requests = requests.select(pl.col("household_id").cast(pl.String), pl.col("as_of").cast(pl.Date))
    if requests.height == 0:
        schema = {"household_id": pl.String, "as_of": pl.Date,
                  **{c.name: c.dtype for c in columns}, "dq_flag": pl.String}
        return pl.DataFrame(schema=schema)
    sums = window_sums(requests, days, profiles, w)
    enough = pl.col("valid_days_28d") >= MIN_VALID_DAYS
    baseline = pl.col("valid_days_baseline") >= MIN_BASELINE_DAYS
    gated = []
    for c in columns:
        e = pl.col(c.name)
        if c.name not in ALWAYS_SET:
            e = pl.when(enough).then(e)
        if c.window in ("baseline", "delta"):
            e = pl.when(baseline).then(e)
        e = e.cast(c.dtype)
        gated.append((e.fill_nan(None) if c.dtype == pl.Float64 else e).alias(c.name))
    flag = (pl.when(~enough).then(pl.lit("insufficient_data"))
            .when(~baseline).then(pl.lit("no_baseline")).otherwise(pl.lit("ok")))
    staged = sums.lazy()
    for stage in w.derived:
        staged = staged.with_columns(stage.values())
    return (staged.select(*KEY, *(c.expr for c in columns))
            .select(*KEY, *gated, dq_flag=flag).collect())
