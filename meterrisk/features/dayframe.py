"""The day frame: one row per household and local date, dense between its first and last day.

Built from day rows (``reading_days``): household_id, local_date and the day's half hours in
elapsed-time order as columns ``k0``..``k49`` (null = no reading, 0 kWh is a reading). Days
without a row get a row of nulls, so "the day before" is always the previous row of the
household, and cross-day inputs are plain shifts guarded by ``_pos`` (the row's day number
within its household):

- ``baseload``: the night floor of the last 7 days (:func:`night_baseload`);
- ``_p0``, ``_p1`` (yesterday's last two half hours), ``_n0``.. (tomorrow's first ones) and
  ``prev_baseload`` / ``next_baseload``: what sustained activity at midnight and the evening
  after midnight need;
- ``layout`` / ``next_layout``: which slot clocks the date has (:mod:`meterrisk.features.layouts`).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl

from meterrisk.features import activity as A
from meterrisk.features import layouts

HH = "household_id"
MAX_SLOTS = 50
#: Tomorrow's half hours a day row carries: up to 03:00 on a 50-slot morning, plus one.
NEXT_SLOTS = 9


def slot_columns(n: int = MAX_SLOTS) -> list[str]:
    return [f"k{i}" for i in range(n)]


def widen(days: pl.DataFrame) -> pl.DataFrame:
    """Day rows with a ``kwh`` list -> the same rows with columns k0..k49."""
    return days.select(HH, "local_date", *(pl.col("kwh").list.get(i, null_on_oob=True).alias(f"k{i}")
                                           for i in range(MAX_SLOTS)))


def dense(days: pl.DataFrame, zone: str) -> pl.DataFrame:
    """The day frame for ``days`` (household_id, local_date, k0..k49 or a kwh list), sorted by
    household and date."""
    if "kwh" in days.columns:
        days = widen(days)
    span = days.group_by(HH).agg(first=pl.col("local_date").min(), last=pl.col("local_date").max())
    if span.height == 0:
        return pl.DataFrame(schema={HH: pl.String, "local_date": pl.Date})
    lo, hi = span["first"].min(), span["last"].max()
    table = layouts.layout_table(lo - timedelta(days=1), hi + timedelta(days=1), zone)
    # Night half hours are the first ones of the day on every layout (clocks before 05:00).
    night = {lay: sum(c < A.NIGHT_END_H * 60 for c in layouts.clocks_of(lay)) for lay in table["layout"].unique()}
    table = table.with_columns(
        next_layout=pl.col("layout").shift(-1),
        night_slots=pl.col("layout").replace_strict(night, return_dtype=pl.Int32),
    ).slice(1, (hi - lo).days + 1)
    k = slot_columns()
    frame = (span.lazy()
             .select(HH, "first", local_date=pl.date_ranges("first", "last"))
             .explode("local_date")
             .with_columns(_pos=(pl.col("local_date") - pl.col("first")).dt.total_days().cast(pl.Int32))
             .drop("first")
             .join(days.lazy().select(HH, "local_date", *k), on=[HH, "local_date"], how="left")
             .join(table.lazy(), on="local_date", how="left")
             .sort(HH, "local_date")
             .collect())
    frame = frame.with_columns(baseload=pl.Series(baseload(frame), dtype=pl.Float64).fill_nan(None))
    last = {n: (pl.col(f"k{n - 2}"), pl.col(f"k{n - 1}")) for n in frame["slots"].unique().to_list()}
    last2 = pl.when(pl.lit(False)).then(None)
    last1 = pl.when(pl.lit(False)).then(None)
    for n, (a, b) in last.items():
        last2, last1 = last2.when(pl.col("slots") == n).then(a), last1.when(pl.col("slots") == n).then(b)
    return frame.with_columns(
        _p0=previous(last2), _p1=previous(last1), prev_baseload=previous(pl.col("baseload")),
        next_baseload=following(pl.col("baseload")),
        **{f"_n{j}": following(pl.col(f"k{j}")) for j in range(NEXT_SLOTS)},
    )


def previous(expr: pl.Expr, days: int = 1) -> pl.Expr:
    """``expr`` of the same household ``days`` rows (days) before; null before its first day.
    Rows are sorted by household and date and dense, so a plain shift is the day before."""
    return pl.when(pl.col("_pos") >= days).then(expr.shift(days))


def following(expr: pl.Expr) -> pl.Expr:
    """``expr`` of the same household the next day; null after its last day."""
    return pl.when(pl.col("_pos").shift(-1) == pl.col("_pos") + 1).then(expr.shift(-1))


def baseload(frame: pl.DataFrame) -> np.ndarray:
    """Per row, the baseload: the night floor (:func:`night_baseload`), or the day floor (the
    same quantile of the 05:00-24:00 readings >= 0 of the same 7 days) when a night load (storage
    heating, air conditioning) lifts the night floor at least NIGHT_LOAD_MIN_KWH above the day
    floor and above its active threshold. Ordinary homes, whose nights are their quietest
    hours, keep the night floor exactly."""
    night = night_baseload(frame)
    # Exports (negative readings of a home with solar panels) are generation, not a floor.
    # Only a night floor of NIGHT_LOAD_MIN_KWH or more can be raised above a floor >= 0.
    with np.errstate(invalid="ignore"):
        candidates = night >= A.NIGHT_LOAD_MIN_KWH
    day = floor_quantile(frame, pl.col("night_slots"), pl.col("slots"), need_tonight=False, consumption=True,
                         rows=candidates)
    with np.errstate(invalid="ignore"):
        threshold = day + np.maximum(A.ACTIVE_MARGIN_KWH, A.ACTIVE_MARGIN_REL * day)
        raised = (night - day >= A.NIGHT_LOAD_MIN_KWH) & (night > threshold)
    return np.where(raised, day, night)


def night_baseload(frame: pl.DataFrame) -> np.ndarray:
    """Per row, the 10th percentile (linear interpolation) of the 00:00-05:00 readings of the
    last 7 days including today; NaN with fewer than 10 such readings, or when today has no
    night reading (such a day cannot reach 80% coverage anyway)."""
    return floor_quantile(frame, pl.lit(0), pl.col("night_slots"), need_tonight=True)


def floor_quantile(frame: pl.DataFrame, first: pl.Expr, end: pl.Expr, *, need_tonight: bool,
                   consumption: bool = False, rows: np.ndarray | None = None) -> np.ndarray:
    """Per row, the 10th percentile (linear interpolation) of the readings in slots
    first..end-1 of the last 7 days including today (with ``consumption``, of those >= 0);
    NaN with fewer than 10 such readings (or, with ``need_tonight``, when today has none),
    and for rows left out of ``rows`` (a boolean mask; default every row).

    A numpy kernel, not an expression: Polars has no windowed quantile across rows of
    half-hour columns, and list.sort over the 70 values of each window was 30x slower.
    """
    width = int(frame.select(end.max()).item() or 0)
    night = frame.select(pl.when((first <= i) & (end > i)).then(pl.col(f"k{i}")).cast(pl.Float64).alias(f"_q{i}")
                         for i in range(width)).to_numpy() if width else np.zeros((frame.height, 0))
    night = np.where(np.isnan(night) | ((night < 0) if consumption else False), np.inf, night)
    pos = frame["_pos"].to_numpy()
    # Only the smallest few values of a window matter for a 10th percentile: keep each day's
    # smallest `keep`, then select within the 7 days' union (partitions, not sorts: a day
    # floor reads 38 half hours a day).
    keep = min(width, int(A.BASELOAD_QUANTILE * (A.BASELOAD_DAYS * width - 1)) + 2)
    day_small = np.partition(night, keep - 1, axis=1)[:, :keep] if 0 < keep < width else night
    day_n = np.isfinite(night).sum(axis=1)
    idx = np.arange(frame.height) if rows is None else np.flatnonzero(rows)
    parts, n = [], np.zeros(len(idx), dtype=np.int64)
    for k in range(A.BASELOAD_DAYS):
        # Row i's day k days before is row i - k, within its household (pos >= k).
        inside = pos[idx] >= k
        src = np.where(inside, idx - k, 0)
        parts.append(np.where(inside[:, None], day_small[src], np.inf))
        n += np.where(inside, day_n[src], 0)
    union = np.concatenate(parts, axis=1) if parts else np.zeros((0, 0))
    with np.errstate(invalid="ignore"):
        q_pos = A.BASELOAD_QUANTILE * np.maximum(n - 1, 0)
        lo = np.floor(q_pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        need = min(union.shape[1], int(hi.max(initial=0)) + 1)
        ordered = np.sort(np.partition(union, need - 1, axis=1)[:, :need] if 0 < need < union.shape[1] else union,
                          axis=1)
        width_w = max(ordered.shape[1], 1)
        pad = np.concatenate([ordered, np.full((len(ordered), 1), np.nan)], axis=1)
        lo_v = np.take_along_axis(pad, np.minimum(lo, width_w - 1)[:, None], axis=1)[:, 0]
        hi_v = np.take_along_axis(pad, np.minimum(hi, width_w - 1)[:, None], axis=1)[:, 0]
        q = lo_v + (q_pos - lo) * (hi_v - lo_v)
    tonight = np.isfinite(night[idx]).any(axis=1) if width else np.zeros(len(idx), dtype=bool)
    out = np.full(frame.height, np.nan)
    out[idx] = np.where((n >= A.BASELOAD_MIN_SLOTS) & (tonight | (not need_tonight)), q, np.nan)
    return out


def from_readings(readings: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Day rows (household_id, local_date, kwh list) from one row per reading (household_id,
    ts_utc, local_date, kwh): what ``reading_days`` holds, for tests and tools that start
    from readings."""
    if readings.height == 0:
        return pl.DataFrame(schema={HH: pl.String, "local_date": pl.Date, "kwh": pl.List(pl.Float64)})
    dates = readings["local_date"].unique().sort()
    starts = pl.DataFrame({"local_date": dates}).with_columns(
        _start=pl.col("local_date").map_elements(
            lambda d: layouts.day_start_utc(d, zone).replace(tzinfo=None),
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
