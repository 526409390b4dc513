"""Implementations replaced for speed in Nov 2026, kept to test the new ones against
(tests/test_features_impl.py, tests/test_features_window.py): the Polars circadian module
(below, as it was) and the Polars window stage. The Polars daily stage is kept in
tests/reference_daily_polars.py.

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

from reference_numpy.circadian import DELTAS, WINDOWS, _block_means  # unchanged by the rewrite

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


# ------------------------------------------------ the window stage as it was (Polars)
# window.prepare / aggregations, the deviation expressions and compute.window_frame before the
# numpy grid rewrite (Nov 2026), with circadian metrics from window_metrics above.

def _window_consts():
    from reference_numpy import deviation, window

    return window, deviation


def _recent(name: str) -> pl.Expr:
    return pl.col(f"_r_{name}")


def _baseline(name: str) -> pl.Expr:
    return pl.col(f"_b_{name}")


VALID = pl.col("dq_flag") == "ok"
RECENT = VALID & (pl.col("age") < 28)
BASE = VALID & (pl.col("age") >= 28)


def prepare(days: pl.DataFrame) -> pl.DataFrame:
    from meterrisk.features.daily import NEXT_MORNING

    W, _ = _window_consts()
    days = days.with_columns(pl.when(pl.col("age") > 0).then(pl.col(f)).alias(f) for f in NEXT_MORNING)
    cols = [BASE.alias("_base")]
    for f in W.SUMMARISED:
        cols += [pl.when(RECENT).then(pl.col(f)).alias(f"_r_{f}"),
                 pl.when(BASE).then(pl.col(f)).alias(f"_b_{f}")]
    for f in W.TRENDED:
        for w in W.TREND_WEEKS:
            y = pl.when(VALID & (pl.col("age") < 7 * w)).then(pl.col(f))
            x = pl.when(y.is_not_null()).then(-pl.col("age") / 7.0)
            cols += [y.alias(f"_y_{f}_{w}"), x.alias(f"_x_{f}_{w}"),
                     (x * x).alias(f"_xx_{f}_{w}"), (x * y).alias(f"_xy_{f}_{w}")]
    weekend = pl.col("local_date").dt.weekday() >= 6
    for f in W.WEEKEND:
        recent = pl.when(RECENT).then(pl.col(f))
        cols += [pl.when(weekend).then(recent).alias(f"_we_{f}"),
                 pl.when(~weekend).then(recent).alias(f"_wd_{f}")]
    return days.with_columns(cols)


def _slope(y: str, weeks: int, min_days: int) -> pl.Expr:
    x, v = pl.col(f"_x_{y}_{weeks}"), pl.col(f"_y_{y}_{weeks}")
    xx, xv = pl.col(f"_xx_{y}_{weeks}"), pl.col(f"_xy_{y}_{weeks}")
    var = xx.mean() - x.mean() ** 2
    slope = (xv.mean() - x.mean() * v.mean()) / var
    return pl.when(v.count() >= min_days).then(slope)


def _regress(y: pl.Expr, x: pl.Expr, mask: pl.Expr) -> pl.Expr:
    xx, yy = x.filter(mask), y.filter(mask)
    var = (xx * xx).mean() - xx.mean() ** 2
    return pl.when((yy.count() >= 14) & (var >= 1.0)).then(((xx * yy).mean() - xx.mean() * yy.mean()) / var)


def aggregations() -> list[pl.Expr]:
    """All window aggregations (means, SDs, trends, weekend, counts, temperature, deviations)."""
    W, D = _window_consts()
    out = [_recent(f).mean().alias(f"{f}_mean_28d") for f in W.SUMMARISED]
    out += [_recent(f).std().alias(f"{f}_sd_28d") for f in W.SUMMARISED]
    out += [_slope(f, w, m).alias(f"{f}_slope_{w}w") for f in W.TRENDED for w, m in W.TREND_WEEKS.items()]
    out += [(pl.col(f"_we_{f}").mean() - pl.col(f"_wd_{f}").mean()).alias(f"{f}_weekend_diff_28d")
            for f in W.WEEKEND]
    unread = (pl.col("night_unreadable") == 1).fill_null(False)
    late = (pl.col("wake_time_h").is_null() & ~unread) | (pl.col("wake_time_h") >= 10)
    out += [
        RECENT.sum().cast(pl.Int32).alias("valid_days_28d"),
        (pl.col("age") < 28).sum().cast(pl.Int32).alias("days_with_readings_28d"),
        BASE.sum().cast(pl.Int32).alias("valid_days_baseline"),
        pl.col("age").min().cast(pl.Int32).alias("days_since_last_reading"),
        (RECENT & (pl.col("active_share") < 0.05)).sum().cast(pl.Int32).alias("floor_days_28d"),
        (RECENT & (pl.col("meal_windows_active") == 0)).sum().cast(pl.Int32).alias("no_meal_days_28d"),
        (RECENT & (pl.col("stuck_on_h") >= 6)).sum().cast(pl.Int32).alias("stuck_on_days_28d"),
        (RECENT & (pl.col("night_activity_share") > 0.2)).sum().cast(pl.Int32).alias("restless_nights_28d"),
        (RECENT & late).sum().cast(pl.Int32).alias("late_wake_days_28d"),
    ]
    out.append(pl.when(VALID).then(pl.col("night_blips")).mean().alias("night_blips_mean_84d"))
    temp_ok = RECENT & pl.col("temp_c").is_not_null()
    hdd = (W.HDD_BASE_C - pl.col("temp_c")).clip(lower_bound=0)
    cdd = (pl.col("temp_c") - W.CDD_BASE_C).clip(lower_bound=0)
    out += [
        _regress(pl.col("daily_kwh"), hdd, temp_ok).alias("kwh_per_hdd_28d"),
        _regress(pl.col("daily_kwh"), cdd, temp_ok).alias("kwh_per_cdd_28d"),
        pl.col("temp_c").filter(RECENT).mean().alias("mean_temp_c_28d"),
        hdd.filter(RECENT).mean().alias("heating_degree_days_28d"),
    ]
    enough = pl.col("_base").sum() >= D.MIN_BASELINE_DAYS
    out += [pl.when(enough).then(_recent(f).mean() - _baseline(f).mean()).alias(f"{f}_delta")
            for f in D.DEVIATING]
    for f, floor in D.DEVIATING.items():
        delta = _recent(f).mean() - _baseline(f).mean()
        sd = pl.max_horizontal(_baseline(f).std(), pl.lit(floor))
        out.append(pl.when(enough).then(delta / sd).alias(f"{f}_z"))
    for f in D.RATIOS:
        base = _baseline(f).mean()
        out.append(pl.when(enough & (base > 1e-3)).then(_recent(f).mean() / base).alias(f"{f}_ratio_8w"))
    return out


def window_frame(requests: pl.DataFrame, days: pl.DataFrame, profiles: pl.DataFrame) -> pl.DataFrame:
    """compute.window_frame as it was."""
    from meterrisk.features.catalog import window_columns
    from meterrisk.features.windows.spans import ALWAYS_SET

    W, _ = _window_consts()
    agg = prepare(days).group_by(KEY).agg(aggregations())
    circ = window_metrics(profiles) if profiles.height else None
    out = requests.join(agg, on=KEY, how="left")
    if circ is not None:
        out = out.join(circ, on=KEY, how="left")
    cols = window_columns()
    numeric = [c for c in cols if c != "dq_flag"]
    out = out.with_columns(
        [pl.lit(None, dtype=pl.Float64).alias(c) for c in numeric if c not in out.columns]
    ).with_columns(pl.col(sorted(set(ALWAYS_SET) - {"days_since_last_reading"})).fill_null(0))
    enough = pl.col("valid_days_28d") >= W.MIN_VALID_DAYS
    baseline = pl.col("valid_days_baseline") >= 14
    base_cols = [c for c in numeric if c.endswith(("_baseline", "_delta"))
                 and c.split("_")[0] in {"interdaily", "intradaily", "l5", "m10", "relative", "activity"}]
    out = out.with_columns(
        [pl.when(enough).then(pl.col(c)).alias(c) for c in numeric if c not in ALWAYS_SET]
    ).with_columns(
        [pl.when(baseline).then(pl.col(c)).alias(c) for c in base_cols]
    ).with_columns(
        dq_flag=pl.when(~enough).then(pl.lit("insufficient_data"))
        .when(~baseline).then(pl.lit("no_baseline")).otherwise(pl.lit("ok"))
    )
    schema = out.schema
    floats = [c for c in numeric if schema[c] in (pl.Float64, pl.Float32)]
    out = out.with_columns(pl.col(floats).fill_nan(None))
    return out.select(*KEY, *cols)


def load_window_inputs(con, requests: pl.DataFrame, history_days: int = 84,
                       profile_days: int = 84) -> tuple[pl.DataFrame, pl.DataFrame]:
    """store_io.load_window_inputs as it was: keyed rows, every daily column, List profiles."""
    from meterrisk.features.store_io import query, table_exists

    con.register("_fx_req", requests.select("household_id", "as_of"))
    temp = (", t.temp_c" if table_exists(con, "temperature") else ", NULL::DOUBLE AS temp_c")
    temp_join = ("LEFT JOIN temperature t ON t.local_date = d.local_date"
                 if table_exists(con, "temperature") else "")
    try:
        days = query(con, f"""
            SELECT q.as_of, (q.as_of - d.local_date)::INTEGER AS age, d.*{temp}
            FROM _fx_req q JOIN daily_features d ON d.household_id = q.household_id
             AND d.local_date BETWEEN q.as_of - INTERVAL ({history_days - 1}) DAY AND q.as_of
            {temp_join}""")
        profiles = query(con, f"""
            SELECT q.household_id, q.as_of, (q.as_of - p.local_date)::INTEGER AS age,
                   p.hourly_excess_kwh::DOUBLE[] AS hourly_excess_kwh, p.hourly_active_slots::INTEGER[] AS hourly_active_slots
            FROM _fx_req q JOIN daily_profiles p ON p.household_id = q.household_id
             AND p.local_date BETWEEN q.as_of - INTERVAL ({profile_days - 1}) DAY AND q.as_of""")
    finally:
        con.unregister("_fx_req")
    return days, profiles
