"""Implementations replaced for speed in Nov 2026, kept to test the new ones against
(tests/test_features_impl.py): the Polars circadian module (below, as it was), and at the end
activity.with_clock and daily._longest_run as they were.

(No tests here; named test_features_* so it lives with them.) The circadian module's docstring:
Circadian (actigraphy-style) metrics on hourly activity above the baseload.

Input: one row per request and valid day with ``hourly_excess_kwh`` / ``hourly_active_slots``
lists of 24 local clock hours (from ``daily_profiles``) and ``age`` (days before as_of).
x[i] below is the energy above baseload in hour i of the window's concatenated valid days.
Definitions follow van Someren et al. (1999) as used in actigraphy.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import polars as pl

from meterrisk.features import activity as A
from meterrisk.features.circadian import _block_means  # unchanged by the rewrite

KEY = ["household_id", "as_of"]


def interdaily_stability(between_ss: pl.Expr, total_ss: pl.Expr) -> pl.Expr:
    """IS: how alike the days are, sum_h n_h (mean_h - mean)^2 / sum_i (x_i - mean)^2.

    Unit: ratio (0-1, 1 = every day identical)
    Edge cases: null when activity is constant over the window.
    """
    return pl.when(total_ss > 0).then(between_ss / total_ss)


def intradaily_variability(mean_sq_step: pl.Expr, total_ss: pl.Expr, n_hours: pl.Expr) -> pl.Expr:
    """IV: fragmentation, mean squared hour-to-hour change / variance (0..~2; high = fragmented).

    Unit: ratio
    Edge cases: hour pairs across a missing day are skipped; null when activity is constant.
    """
    return pl.when(total_ss > 0).then(mean_sq_step / (total_ss / n_hours))


def l5_kwh(blocks_5h: pl.Expr) -> pl.Expr:
    """L5: mean energy above baseload per hour in the least active 5 consecutive hours of the
    average day (wrapping round midnight).

    Unit: kWh per hour
    """
    return blocks_5h.list.min()


def m10_kwh(blocks_10h: pl.Expr) -> pl.Expr:
    """M10: mean energy above baseload per hour in the most active 10 consecutive hours.

    Unit: kWh per hour
    """
    return blocks_10h.list.max()


def l5_onset_h(blocks_5h: pl.Expr) -> pl.Expr:
    """Local clock hour at which the L5 period starts (rest phase timing).

    Unit: hours (local clock, 0-23)
    """
    return blocks_5h.list.arg_min().cast(pl.Float64)


def m10_onset_h(blocks_10h: pl.Expr) -> pl.Expr:
    """Local clock hour at which the M10 period starts (active phase timing).

    Unit: hours (local clock, 0-23)
    """
    return blocks_10h.list.arg_max().cast(pl.Float64)


def relative_amplitude(blocks_5h: pl.Expr, blocks_10h: pl.Expr) -> pl.Expr:
    """RA = (M10 - L5) / (M10 + L5): rest/activity contrast (0..1; low = flattened rhythm).

    Unit: ratio (0-1)
    Edge cases: null when M10 + L5 = 0.
    """
    l5, m10 = l5_kwh(blocks_5h), m10_kwh(blocks_10h)
    return pl.when(m10 + l5 > 0).then((m10 - l5) / (m10 + l5))


def activity_entropy(hourly_active: pl.Expr) -> pl.Expr:
    """Normalised Shannon entropy of when active half hours fall across the 24 clock hours
    (0 = all in one hour, 1 = spread evenly round the clock).

    Unit: ratio (0-1)
    Edge cases: null when there is no active half hour in the window.
    """
    total = hourly_active.list.sum()
    terms = []
    for h in range(24):
        p = hourly_active.list.get(h) / total
        terms.append(pl.when(p > 0).then(-p * p.log()).otherwise(0.0))
    return pl.when(total > 0).then(pl.sum_horizontal(terms) / math.log(24))


#: (function, suffix of the window it is computed on). Each window gets its own columns.
METRICS = [interdaily_stability, intradaily_variability, l5_kwh, m10_kwh, l5_onset_h,
           m10_onset_h, relative_amplitude, activity_entropy]
WINDOWS = {"28d": (0, 28), "baseline": (28, 84)}
DELTAS = ("interdaily_stability", "intradaily_variability", "relative_amplitude")


def window_metrics(days: pl.DataFrame) -> pl.DataFrame:
    """Circadian metrics per request for the last 28 days (``*_28d``) and weeks 5-12
    (``*_baseline``), plus their differences (``*_delta`` = 28d - baseline) for IS, IV, RA."""
    keys = days.select(KEY).unique(maintain_order=True).with_row_index("ri")
    rows = days.join(keys, on=KEY)
    ri = rows["ri"].to_numpy().astype(np.int64)
    age = rows["age"].to_numpy().astype(np.int64)
    x = rows["hourly_excess_kwh"].list.to_array(24).to_numpy().astype(np.float64)
    a = rows["hourly_active_slots"].list.to_array(24).cast(pl.Array(pl.Float64, 24)).to_numpy()
    out = keys.drop("ri")
    for suffix, (lo, hi) in WINDOWS.items():
        part = _metrics(keys.height, ri, age, x, a, lo, hi)
        out = pl.concat([out, part.rename({c: f"{c}_{suffix}" for c in part.columns})], how="horizontal")
    return out.with_columns(
        [(pl.col(f"{m}_28d") - pl.col(f"{m}_baseline")).alias(f"{m}_delta") for m in DELTAS]
    )


def _metrics(n_req: int, ri: np.ndarray, age: np.ndarray, x: np.ndarray, a: np.ndarray,
             lo: int, hi: int) -> pl.DataFrame:
    """Inputs of the metric functions for window ages lo..hi-1, one row per request."""
    w = hi - lo
    sel = (age >= lo) & (age < hi)
    # Dense (request, day, hour) grid in time order (oldest day first); NaN = no reading.
    grid = np.full((n_req, w, 24), np.nan)
    act = np.zeros((n_req, w, 24))
    day = (hi - 1) - age[sel]
    grid[ri[sel], day] = x[sel]
    act[ri[sel], day] = np.nan_to_num(a[sel])
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = ~np.isnan(grid)
        n = ok.sum(axis=(1, 2))
        xbar = np.nansum(grid, axis=(1, 2)) / n
        dev = np.where(ok, grid - xbar[:, None, None], 0.0)
        total_ss = (dev * dev).sum(axis=(1, 2))
        nh = ok.sum(axis=1)
        m = np.nansum(grid, axis=1) / nh  # per-hour means, NaN for an hour never seen
        between = np.nansum(nh * (m - xbar[:, None]) ** 2, axis=1)
        series = grid.reshape(n_req, w * 24)
        step = np.diff(series, axis=1)  # NaN unless both neighbouring hours are present
        sq = step * step
        mean_sq_step = np.nansum(sq, axis=1) / (~np.isnan(sq)).sum(axis=1)
    frame = pl.DataFrame({
        "between_ss": between, "total_ss": total_ss, "n_hours": n.astype(np.float64),
        "mean_sq_step": mean_sq_step,
        "blocks_5h": _lists(_block_means(m, 5)),
        "blocks_10h": _lists(_block_means(m, 10)),
        "hourly_active": _lists(act.sum(axis=1)),
    }).with_columns(
        pl.col("blocks_5h", "blocks_10h").list.eval(pl.element().fill_nan(None)),
        pl.col("between_ss", "total_ss", "mean_sq_step").fill_nan(None),
    )
    return frame.select(_apply(f) for f in METRICS)


def _lists(a: np.ndarray) -> pl.Series:
    """(rows, 24) array -> List[f64] series (also for zero rows)."""
    return pl.Series(a.reshape(len(a), 24)).arr.to_list() if len(a) else pl.Series([], dtype=pl.List(pl.Float64))


def _apply(fn) -> pl.Expr:
    params = inspect.signature(fn).parameters
    return fn(*(pl.col(p) for p in params)).alias(fn.__name__)


# ---------------------------------------------------------------- replaced elsewhere

def with_clock(readings: pl.DataFrame) -> pl.DataFrame:
    """activity.with_clock as it was: datetime accessors, string comparisons."""
    hh, utc = pl.col("household_id"), pl.col("ts_utc")
    ts = pl.col("local_ts")
    bday = (ts - pl.duration(hours=A.BDAY_SHIFT_H)).dt.date()
    hh_code = ((hh != hh.shift(1)).fill_null(True).cum_sum() - 1).cast(pl.Int32)
    return readings.select(
        hh=hh_code,
        local_date="local_date",
        kwh="kwh",
        dkey=A.day_key(hh_code, pl.col("local_date")),
        bkey=A.day_key(hh_code, bday),
        clock_h=(ts.dt.hour() + ts.dt.minute() / 60.0).cast(pl.Float64),
        bday_h=((ts - bday.cast(pl.Datetime("us"))).dt.total_minutes() / 60.0),
        hour=ts.dt.hour().cast(pl.Int8),
        half_hour_bin=(ts.dt.hour() * 2 + ts.dt.minute() // 30).cast(pl.Int8),
        prev_adjacent=((hh == hh.shift(1)) & (utc - utc.shift(1) == pl.duration(minutes=30))).fill_null(False),
        next_adjacent=((hh == hh.shift(-1)) & (utc.shift(-1) - utc == pl.duration(minutes=30))).fill_null(False),
    )


def longest_run(df: pl.DataFrame, key: str) -> pl.DataFrame:
    """daily._longest_run as it was: run ids, then two group-bys."""
    cond = pl.col("cond")
    starts = ((cond != cond.shift(1)) | (pl.col(key) != pl.col(key).shift(1))).fill_null(True) | ~pl.col("prev_adjacent")
    return (
        df.select(key, "cond", run=starts.cum_sum())
        .group_by(key, "run")
        .agg(n=pl.col("cond").sum())
        .group_by(key)
        .agg(run_slots=pl.col("n").max().cast(pl.Int32))
    )
