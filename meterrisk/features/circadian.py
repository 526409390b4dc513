"""Circadian (actigraphy-style) metrics on hourly activity above the baseload.

Input: one row per request and valid day with ``hourly_excess_kwh`` / ``hourly_active_slots``
lists of 24 local clock hours (from ``daily_profiles``) and ``age`` (days before as_of).
x[i] below is the energy above baseload in hour i of the window's concatenated valid days.
Definitions follow van Someren et al. (1999) as used in actigraphy.
"""

from __future__ import annotations

import inspect
import math

import polars as pl

KEY = ["household_id", "as_of"]


def _block_means(profile: pl.Expr, width: int) -> pl.Expr:
    """Mean of each run of ``width`` consecutive hours of the 24-hour profile, wrapping round."""
    return pl.concat_list([
        pl.mean_horizontal([profile.list.get((start + k) % 24) for k in range(width)])
        for start in range(24)
    ])


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


def l5_kwh(profile: pl.Expr) -> pl.Expr:
    """L5: mean energy above baseload per hour in the least active 5 consecutive hours of the
    average day (wrapping round midnight).

    Unit: kWh per hour
    """
    return _block_means(profile, 5).list.min()


def m10_kwh(profile: pl.Expr) -> pl.Expr:
    """M10: mean energy above baseload per hour in the most active 10 consecutive hours.

    Unit: kWh per hour
    """
    return _block_means(profile, 10).list.max()


def l5_onset_h(profile: pl.Expr) -> pl.Expr:
    """Local clock hour at which the L5 period starts (rest phase timing).

    Unit: hours (local clock, 0-23)
    """
    return _block_means(profile, 5).list.arg_min().cast(pl.Float64)


def m10_onset_h(profile: pl.Expr) -> pl.Expr:
    """Local clock hour at which the M10 period starts (active phase timing).

    Unit: hours (local clock, 0-23)
    """
    return _block_means(profile, 10).list.arg_max().cast(pl.Float64)


def relative_amplitude(profile: pl.Expr) -> pl.Expr:
    """RA = (M10 - L5) / (M10 + L5): rest/activity contrast (0..1; low = flattened rhythm).

    Unit: ratio (0-1)
    Edge cases: null when M10 + L5 = 0.
    """
    l5, m10 = l5_kwh(profile), m10_kwh(profile)
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
    long = (
        days.select(*KEY, "age", "hourly_excess_kwh", "hourly_active_slots")
        .with_columns(hour=pl.lit(list(range(24)), dtype=pl.List(pl.Int8)))
        .explode("hourly_excess_kwh", "hourly_active_slots", "hour")
        .rename({"hourly_excess_kwh": "x", "hourly_active_slots": "a"})
    )
    out = None
    for suffix, (lo, hi) in WINDOWS.items():
        part = _metrics(long.filter((pl.col("age") >= lo) & (pl.col("age") < hi)))
        part = part.rename({c: f"{c}_{suffix}" for c in part.columns if c not in KEY})
        out = part if out is None else out.join(part, on=KEY, how="full", coalesce=True)
    return out.with_columns(
        [(pl.col(f"{m}_28d") - pl.col(f"{m}_baseline")).alias(f"{m}_delta")
         for m in DELTAS]
    )


def _metrics(long: pl.DataFrame) -> pl.DataFrame:
    long = long.filter(pl.col("x").is_not_null())
    # Hour index across the window: a step counts only between adjacent hours (t differs by 1).
    long = long.with_columns(t=(-pl.col("age").cast(pl.Int32) * 24 + pl.col("hour").cast(pl.Int32)))
    long = long.sort(*KEY, "t")
    xbar = pl.col("x").mean()
    step = pl.col("t").diff() == 1
    overall = long.group_by(KEY).agg(
        xbar=xbar, total_ss=((pl.col("x") - xbar) ** 2).sum(), n_hours=pl.len(),
        mean_sq_step=(pl.col("x").diff() ** 2).filter(step).mean(),
    )
    grid = overall.select(KEY).join(
        pl.DataFrame({"hour": pl.arange(0, 24, eager=True).cast(pl.Int8)}), how="cross")
    per_hour = grid.join(
        long.group_by(*KEY, "hour").agg(m=pl.col("x").mean(), nh=pl.len(), ah=pl.col("a").sum()),
        on=[*KEY, "hour"], how="left",
    ).join(overall.select(*KEY, "xbar"), on=KEY).sort(*KEY, "hour")
    inputs = per_hour.group_by(KEY, maintain_order=True).agg(
        between_ss=(pl.col("nh") * (pl.col("m") - pl.col("xbar")) ** 2).sum(),
        profile=pl.col("m"),
        hourly_active=pl.col("ah").fill_null(0),
    ).join(overall, on=KEY)
    return inputs.select(*KEY, *(_apply(f) for f in METRICS))


def _apply(fn) -> pl.Expr:
    params = inspect.signature(fn).parameters
    return fn(*(pl.col(p) for p in params)).alias(fn.__name__)
