"""compute.window_frame and store_io.load_window_inputs as they were (numpy grids), plus
:func:`long_inputs`, which turns the new engine's inputs into the rows this version read."""

from __future__ import annotations

import numpy as np
import polars as pl

from meterrisk.features.catalog import window_columns
from reference_numpy import circadian, window

KEY = ["household_id", "as_of"]
ALWAYS_SET = {"valid_days_28d", "days_with_readings_28d", "valid_days_baseline", "days_since_last_reading"}
_CIRCADIAN_WORDS = {"interdaily", "intradaily", "l5", "m10", "relative", "activity"}


def window_frame(requests: pl.DataFrame, days: pl.DataFrame, profiles: pl.DataFrame) -> pl.DataFrame:
    """Household-window features for ``requests`` from their daily rows and valid-day profiles
    (long rows keyed by household_id, as_of or _ri, with ``age``)."""
    n = requests.height
    cols = window_columns()
    values = window.features(window.days_grid(requests, days))
    rows = window.with_request_index(requests, profiles)
    if rows.height:
        values.update(circadian.metrics(
            n, rows["_ri"].to_numpy().astype(np.int64), rows["age"].to_numpy().astype(np.int64),
            circadian.grid24(rows["hourly_excess_kwh"]), circadian.grid24(rows["hourly_active_slots"])))
    enough = values["valid_days_28d"] >= window.MIN_VALID_DAYS
    baseline = values["valid_days_baseline"] >= 14
    out = {}
    for c in cols:
        if c == "dq_flag":
            continue
        v = values.get(c)
        v = np.full(n, np.nan) if v is None else v.astype(np.float64)
        if c not in ALWAYS_SET:
            v = np.where(enough, v, np.nan)
        if c.endswith(("_baseline", "_delta")) and c.split("_")[0] in _CIRCADIAN_WORDS:
            v = np.where(baseline, v, np.nan)
        out[c] = v
    flag = np.where(~enough, "insufficient_data", np.where(~baseline, "no_baseline", "ok"))
    counts = [fn.__name__ for fn in window.COUNTS]
    frame = pl.DataFrame(out).with_columns(pl.all().fill_nan(None)).with_columns(
        pl.col(counts).cast(pl.Int32), dq_flag=pl.Series(flag, dtype=pl.String))
    return pl.concat([requests.select(KEY), frame], how="horizontal").select(*KEY, *cols)


def long_inputs(requests: pl.DataFrame, days: pl.DataFrame,
                profiles: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The new engine's inputs (rows keyed by household_id, local_date) as the long rows
    this version read: one copy per request whose 84 days contain the row, with ``age``."""
    def long(table: pl.DataFrame) -> pl.DataFrame:
        return requests.select(KEY).join(table, on="household_id").with_columns(
            age=(pl.col("as_of") - pl.col("local_date")).dt.total_days().cast(pl.Int32)
        ).filter((pl.col("age") >= 0) & (pl.col("age") < window.HISTORY_DAYS))
    return long(days), long(profiles).drop("local_date")


def reference_frame(requests: pl.DataFrame, days: pl.DataFrame, profiles: pl.DataFrame) -> pl.DataFrame:
    """window_frame on the new engine's inputs."""
    return window_frame(requests, *long_inputs(requests, days, profiles))


def load_window_inputs(con, requests: pl.DataFrame, history_days: int = 84,
                       profile_days: int = 84) -> tuple[pl.DataFrame, pl.DataFrame]:
    """store_io.load_window_inputs as it was: rows with _ri and age, Array(Float64, 24) profiles."""
    from meterrisk.store import frame as query
    from meterrisk.store import registered
    from meterrisk.features.store_io import table_exists

    has_temp = table_exists(con, "temperature")
    temp = ", t.temp_c::DOUBLE AS temp_c" if has_temp else ", NULL::DOUBLE AS temp_c"
    temp_join = "LEFT JOIN temperature t ON t.local_date = d.local_date" if has_temp else ""
    features = ", ".join(f"d.{f}" for f in window.SUMMARISED)
    req = requests.select("household_id", "as_of").with_row_index("_ri")
    with registered(con, _fx_req=req):
        days = query(con, f"""
            SELECT q._ri, (q.as_of - d.local_date)::INTEGER AS age, d.dq_flag, {features}{temp}
            FROM _fx_req q JOIN daily_features d ON d.household_id = q.household_id
             AND d.local_date BETWEEN q.as_of - INTERVAL ({history_days - 1}) DAY AND q.as_of
            {temp_join}""")
        profiles = query(con, f"""
            SELECT q._ri, (q.as_of - p.local_date)::INTEGER AS age,
                   p.hourly_excess_kwh::DOUBLE[24] AS hourly_excess_kwh,
                   p.hourly_active_slots::DOUBLE[24] AS hourly_active_slots
            FROM _fx_req q JOIN daily_profiles p ON p.household_id = q.household_id
             AND p.local_date BETWEEN q.as_of - INTERVAL ({profile_days - 1}) DAY AND q.as_of""")
    return days, profiles
