"""Circadian (actigraphy-style) metrics on hourly activity above the baseload.

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

KEY = ["household_id", "as_of"]


def _block_means(profile: np.ndarray, width: int) -> np.ndarray:
    """Mean of each run of ``width`` consecutive hours of 24-hour profiles (rows), wrapping
    round midnight; hours never seen (NaN) are skipped."""
    idx = (np.arange(24)[:, None] + np.arange(width)[None, :]) % 24
    blocks = profile[:, idx]  # (rows, 24 starts, width)
    ok = ~np.isnan(blocks)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, blocks, 0).sum(axis=2) / ok.sum(axis=2)


# The metric functions take and return numpy arrays (one value per request); NaN = undefined
# (the window stage turns NaN into null).

def interdaily_stability(between_ss: np.ndarray, total_ss: np.ndarray) -> np.ndarray:
    """IS: how alike the days are, sum_h n_h (mean_h - mean)^2 / sum_i (x_i - mean)^2.

    Unit: ratio (0-1, 1 = every day identical)
    Edge cases: null when activity is constant over the window.
    """
    return np.where(total_ss > 0, between_ss / np.where(total_ss > 0, total_ss, 1.0), np.nan)


def intradaily_variability(mean_sq_step: np.ndarray, total_ss: np.ndarray, n_hours: np.ndarray) -> np.ndarray:
    """IV: fragmentation, mean squared hour-to-hour change / variance (0..~2; high = fragmented).

    Unit: ratio
    Edge cases: hour pairs across a missing day are skipped; null when activity is constant.
    """
    ok = total_ss > 0
    return np.where(ok, mean_sq_step / (np.where(ok, total_ss, 1.0) / n_hours), np.nan)


def _nan_arg(blocks: np.ndarray, op) -> np.ndarray:
    """First index of the min/max of each row ignoring NaN (NaN for an all-NaN row)."""
    seen = ~np.isnan(blocks)
    fill = np.inf if op is np.argmin else -np.inf
    idx = op(np.where(seen, blocks, fill), axis=1).astype(np.float64)
    return np.where(seen.any(axis=1), idx, np.nan)


def _nan_pick(blocks: np.ndarray, op) -> np.ndarray:
    idx = _nan_arg(blocks, op)
    rows = np.arange(len(blocks))
    return np.where(np.isnan(idx), np.nan, blocks[rows, np.nan_to_num(idx).astype(np.int64)])


def l5_kwh(blocks_5h: np.ndarray) -> np.ndarray:
    """L5: mean energy above baseload per hour in the least active 5 consecutive hours of the
    average day (wrapping round midnight).

    Unit: kWh per hour
    """
    return _nan_pick(blocks_5h, np.argmin)


def m10_kwh(blocks_10h: np.ndarray) -> np.ndarray:
    """M10: mean energy above baseload per hour in the most active 10 consecutive hours.

    Unit: kWh per hour
    """
    return _nan_pick(blocks_10h, np.argmax)


def l5_onset_h(blocks_5h: np.ndarray) -> np.ndarray:
    """Local clock hour at which the L5 period starts (rest phase timing).

    Unit: hours (local clock, 0-23)
    """
    return _nan_arg(blocks_5h, np.argmin)


def m10_onset_h(blocks_10h: np.ndarray) -> np.ndarray:
    """Local clock hour at which the M10 period starts (active phase timing).

    Unit: hours (local clock, 0-23)
    """
    return _nan_arg(blocks_10h, np.argmax)


def relative_amplitude(blocks_5h: np.ndarray, blocks_10h: np.ndarray) -> np.ndarray:
    """RA = (M10 - L5) / (M10 + L5): rest/activity contrast (0..1; low = flattened rhythm).

    Unit: ratio (0-1)
    Edge cases: null when M10 + L5 = 0.
    """
    l5, m10 = l5_kwh(blocks_5h), m10_kwh(blocks_10h)
    total = m10 + l5
    ok = total > 0
    return np.where(ok, (m10 - l5) / np.where(ok, total, 1.0), np.nan)


def activity_entropy(hourly_active: np.ndarray) -> np.ndarray:
    """Normalised Shannon entropy of when active half hours fall across the 24 clock hours
    (0 = all in one hour, 1 = spread evenly round the clock).

    Unit: ratio (0-1)
    Edge cases: null when there is no active half hour in the window.
    """
    total = hourly_active.sum(axis=1)
    ok = total > 0
    p = hourly_active / np.where(ok, total, 1.0)[:, None]
    terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    acc = np.zeros(len(p))
    for h in range(24):  # left to right, as a horizontal sum would
        acc = acc + terms[:, h]
    return np.where(ok, acc / math.log(24), np.nan)


#: (function, suffix of the window it is computed on). Each window gets its own columns.
METRICS = [interdaily_stability, intradaily_variability, l5_kwh, m10_kwh, l5_onset_h,
           m10_onset_h, relative_amplitude, activity_entropy]
WINDOWS = {"28d": (0, 28), "baseline": (28, 84)}
DELTAS = ("interdaily_stability", "intradaily_variability", "relative_amplitude")


def window_metrics(days: pl.DataFrame) -> pl.DataFrame:
    """Circadian metrics per request for the last 28 days (``*_28d``) and weeks 5-12
    (``*_baseline``), plus their differences (``*_delta`` = 28d - baseline) for IS, IV, RA."""
    ri = days.select(pl.struct(KEY).rank("dense").cast(pl.Int64) - 1).to_series().to_numpy()
    _, first = np.unique(ri, return_index=True)  # first row of each request (ri is dense)
    columns = metrics(len(first), ri, days["age"].to_numpy().astype(np.int64),
                      grid24(days["hourly_excess_kwh"]), grid24(days["hourly_active_slots"]))
    # NaN never leaves this module: an undefined metric is null.
    return days.select(KEY)[first].with_columns(
        pl.Series(k, v, dtype=pl.Float64).fill_nan(None) for k, v in columns.items())


def metrics(n_req: int, ri: np.ndarray, age: np.ndarray, x: np.ndarray, a: np.ndarray) -> dict[str, np.ndarray]:
    """Every circadian column for ``n_req`` requests from valid-day profile rows (request index
    ``ri``, ``age``, (rows, 24) excess kWh ``x`` and active slots ``a``, NaN = null); NaN =
    undefined (also for a request without rows)."""
    # One dense (request, day, hour) grid over all 84 days in time order (oldest first), NaN
    # = no reading; each window is a contiguous copy of its days (the same array the window
    # would get built on its own, so the sums run in the same order).
    days = max(hi for _, hi in WINDOWS.values())
    keep = (age >= 0) & (age < days)
    cell = ri[keep] * days + (days - 1) - age[keep]  # flat (request, day) index
    grid = np.full((n_req * days, 24), np.nan)
    act = np.zeros((n_req * days, 24))
    grid[cell] = x[keep]
    a_kept = a[keep]
    act[cell] = np.where(np.isnan(a_kept), 0.0, a_kept)
    grid, act = grid.reshape(n_req, days, 24), act.reshape(n_req, days, 24)
    columns = {}
    for suffix, (lo, hi) in WINDOWS.items():
        first, last = days - hi, days - lo  # ages lo..hi-1 in time order
        for name, values in _metrics(np.ascontiguousarray(grid[:, first:last]),
                                     np.ascontiguousarray(act[:, first:last])).items():
            columns[f"{name}_{suffix}"] = values
    for m in DELTAS:
        columns[f"{m}_delta"] = columns[f"{m}_28d"] - columns[f"{m}_baseline"]
    return columns


def grid24(lists: pl.Series) -> np.ndarray:
    """List or Array column of 24 values per row -> (rows, 24) float array, NaN for null."""
    if len(lists) == 0:
        return np.zeros((0, 24))
    if isinstance(lists.dtype, pl.Array) and lists.dtype.size == 24:
        if lists.null_count() == 0:  # null elements come out as NaN
            return lists.to_numpy().astype(np.float64, copy=False).reshape(-1, 24)
        return lists.cast(pl.Array(pl.Float64, 24)).to_numpy()
    lengths = lists.list.len()
    if lists.null_count() == 0 and lengths.min() == 24 and lengths.max() == 24:
        flat = lists.explode()  # nulls filled before to_numpy: its null path is slow
        missing = flat.is_null().to_numpy()
        values = flat.fill_null(0).to_numpy().astype(np.float64)
        values[missing] = np.nan
        return values.reshape(-1, 24)
    return lists.list.to_array(24).cast(pl.Array(pl.Float64, 24)).to_numpy()


def _metrics(grid: np.ndarray, act: np.ndarray) -> dict[str, np.ndarray]:
    """The metrics of one window from its (requests, days, 24) excess grid (NaN = no reading)
    and active-slot grid, one value per request."""
    n_req, w, _ = grid.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = ~np.isnan(grid)
        g0 = np.where(ok, grid, 0.0)
        n = np.count_nonzero(ok, axis=(1, 2))
        xbar = g0.sum(axis=(1, 2)) / n
        dev = grid - xbar[:, None, None]
        np.multiply(dev, dev, out=dev)
        dev[~ok] = 0.0
        total_ss = dev.sum(axis=(1, 2))
        del dev
        nh = np.count_nonzero(ok, axis=1)
        m = g0.sum(axis=1) / nh  # per-hour means, NaN for an hour never seen
        between = np.nansum(nh * (m - xbar[:, None]) ** 2, axis=1)
        series = grid.reshape(n_req, w * 24)
        sq = series[:, 1:] - series[:, :-1]  # NaN unless both neighbouring hours are present
        np.multiply(sq, sq, out=sq)
        gap = np.isnan(sq)
        sq[gap] = 0.0
        mean_sq_step = sq.sum(axis=1) / (sq.shape[1] - np.count_nonzero(gap, axis=1))
        inputs = {
            "between_ss": between, "total_ss": total_ss, "n_hours": n.astype(np.float64),
            "mean_sq_step": mean_sq_step,
            "blocks_5h": _block_means(m, 5), "blocks_10h": _block_means(m, 10),
            "hourly_active": act.sum(axis=1),
        }
        return {f.__name__: f(**{p: inputs[p] for p in inspect.signature(f).parameters}) for f in METRICS}
