"""Evaluate the daily feature functions over a batch of households, whole-frame.

1. The day frame (:func:`meterrisk.features.dayframe.dense`): baseloads and cross-day context.
2. Per slot layout (one for a Tokyo store): half-hour input columns, then the within-day
   features in dependency order, one ``with_columns`` per level, and the clock profiles.
3. Over all layouts again: cross-day features (previous evening's bedtime, regularity against
   the 28-day norm), the coverage rule and the output frames.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date

import numpy as np
import polars as pl

from meterrisk.features import activity as A
from meterrisk.features import dayframe, layouts
from meterrisk.features import registry
from meterrisk.features.daily import profiles as P
from meterrisk.features.daily.inputs import half_hours, regularity_norm

HH = "household_id"
KEY = [HH, "local_date"]
#: Inputs only the cross-day stage has (everything else is within one day row).
CROSS_DAY = {"prev_bed_time_h", "halfhour_active", "norm_sum", "norm_n", "norm_days"}


def feature_functions() -> list[Callable[..., pl.Expr]]:
    """Every daily feature function (meterrisk.features.registry.DAILY_MODULES), in order."""
    return list(registry.daily_functions().values())


def _params(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


def _levels(fns: list[Callable], available: set[str]) -> list[list[Callable]]:
    """Functions grouped so each one's parameters are inputs or features of earlier groups."""
    names = {f.__name__ for f in fns}
    done, levels, left = set(), [], list(fns)
    while left:
        ready = [f for f in left if all(p in available or p in done for p in _params(f))]
        if not ready:
            missing = {p for f in left for p in _params(f) if p not in available and p not in names}
            raise ValueError(f"daily features need inputs nobody provides: {sorted(missing)}")
        levels.append(ready)
        done |= {f.__name__ for f in ready}
        left = [f for f in left if f not in ready]
    return levels


def compute_daily(days: pl.DataFrame, calendar: pl.DataFrame, zone: str, *,
                  since: pl.DataFrame | None = None,
                  prior: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily features and profiles for the household-days of ``days`` with readings.

    ``days`` has household_id, local_date and the half hours in elapsed-time order, as columns
    k0..k49 (what store_io.load_days reads) or as a list ``kwh`` (null = missing, 0 a reading);
    ``calendar`` has local_date, expected_slots; ``zone`` is the store's zone. The caller passes READ_BEFORE context days
    before the first day it wants and LOOKAHEAD_DAYS after, and keeps the days it asked for.

    Incremental runs pass ``since`` (household_id, lo: first day wanted) and ``prior``
    (household_id, local_date, halfhour_seen, halfhour_active: the stored profile bits of the
    28 days before lo) so regularity does not need four weeks of readings. Returns
    (daily_features, daily_profiles).
    """
    fns = feature_functions()
    within = [f for f in fns if not CROSS_DAY & set(_params(f))]
    across = [f for f in fns if CROSS_DAY & set(_params(f))]
    prior = _prior_rows(prior, since)
    frame = dayframe.dense(days, zone)
    if frame.height == 0:
        return _empty_outputs()

    parts = []
    for (lay, nxt), group in frame.group_by("layout", "next_layout", maintain_order=True):
        parts.append(_within_day(group.lazy(), layouts.clocks_of(lay),
                                 layouts.clocks_of(nxt if nxt is not None else 0), within))
    f = pl.concat(parts, how="vertical_relaxed").sort(KEY)
    if prior is not None:
        f = _with_prior_days(f, prior)
    return _across_days(f, calendar, since, prior, across)


def _matrix(f: pl.DataFrame, prefix: str) -> np.ndarray:
    """The 48 Int8 profile columns ``{prefix}0..47`` as one (rows, 48) int8 array, -1 = null
    (filled before leaving Polars: a nullable column becomes float64 with NaN otherwise)."""
    return f.select(pl.col(f"{prefix}{b}").fill_null(-1) for b in range(48)).to_numpy().astype(np.int8, copy=False)


def _with_prior_days(f: pl.DataFrame, prior: pl.DataFrame) -> pl.DataFrame:
    """``f`` with empty rows for the days before each household's first day row back to its
    first stored profile: the regularity norm reads those days' stored profiles, and nothing
    else is computed for them (an incremental day computes ~9 days, not 37)."""
    firsts = f.group_by(HH).agg(_first=pl.col("local_date").min())
    pre = (prior.join(firsts, on=HH).filter(pl.col("local_date") < pl.col("_first"))
           .group_by(HH).agg(lo=pl.col("local_date").min(), hi=pl.col("_first").first() - pl.duration(days=1)))
    if pre.height == 0:
        return f
    pre = pre.select(HH, local_date=pl.date_ranges("lo", "hi")).explode("local_date")
    return (pl.concat([pre, f], how="diagonal_relaxed").sort(KEY)
            .with_columns(_pos=(pl.col("local_date") - pl.col("local_date").min().over(HH))
                          .dt.total_days().cast(pl.Int32)))


def _within_day(lf: pl.LazyFrame, clocks: tuple[int, ...], next_clocks: tuple[int, ...],
                fns: list[Callable]) -> pl.DataFrame:
    lf, inputs = half_hours(lf, clocks, next_clocks)
    for level in _levels(fns, set(inputs)):
        lf = lf.with_columns(
            fn(*(inputs[p] if p in inputs else pl.col(p) for p in _params(fn))).alias(fn.__name__)
            for fn in level)
    halfhour = P.halfhour_active(inputs["present"], inputs["active"])
    excess, active = P.hourly(inputs["present"], inputs["active"], inputs["excess"])
    today = [pl.col(f"k{i}") for i in range(len(clocks))]
    return lf.select(
        *KEY, "_pos", *(fn.__name__ for fn in fns),
        (pl.max_horizontal(today) - pl.min_horizontal(today)).alias("_range"),
        *(e.alias(f"_hh{b}") for b, e in enumerate(halfhour)),
        *(e.cast(pl.Float64).alias(f"_hx{h}") for h, e in enumerate(excess)),
        *(e.cast(pl.Int32).alias(f"_ha{h}") for h, e in enumerate(active)),
    ).collect()


def _bits(flags) -> pl.Expr:
    """48 boolean expressions as the bits of one Int64 (bit b = expression b)."""
    return pl.sum_horizontal(pl.when(f).then(pl.lit(1 << b, dtype=pl.Int64)).otherwise(pl.lit(0, dtype=pl.Int64))
                             for b, f in enumerate(flags))


def _prior_rows(prior: pl.DataFrame | None, since: pl.DataFrame | None) -> pl.DataFrame | None:
    """Stored profiles from before each household's first wanted day (the rest are recomputed)."""
    if prior is None or prior.height == 0:
        return None
    if since is not None and since.height:
        prior = prior.join(since.select(HH, pl.col("lo").cast(pl.Date)), on=HH, how="inner").filter(
            pl.col("local_date") < pl.col("lo")).drop("lo")
    return prior.select(HH, "local_date", "halfhour_seen", "halfhour_active")


def _across_days(f: pl.DataFrame, calendar: pl.DataFrame, since: pl.DataFrame | None,
                 prior: pl.DataFrame | None, fns: list[Callable]) -> tuple[pl.DataFrame, pl.DataFrame]:
    from meterrisk.features.daily import BEHAVIOURAL, COLUMNS, INTEGER, NEXT_MORNING

    lf = f.lazy().join(calendar.lazy().select("local_date", pl.col("expected_slots").cast(pl.Float64)),
                       on="local_date", how="left", maintain_order="left")
    lf = lf.with_columns(expected_slots=pl.col("expected_slots").fill_null(48.0))
    lf = lf.with_columns(coverage=pl.min_horizontal(pl.col("present_slots") / pl.col("expected_slots"), pl.lit(1.0)))
    lf = lf.with_columns(covered=pl.col("coverage") >= A.MIN_COVERAGE)
    # A covered day whose readings never change (all 0 kWh, or one value repeated) is a meter
    # or communication fault: no real home holds one reading for a whole day, and read as
    # behaviour it would look like a resident who stopped getting up and cooking.
    lf = lf.with_columns(unchanging=pl.col("covered") & (pl.col("_range") == 0).fill_null(False))
    lf = lf.with_columns(ok=pl.col("covered") & pl.col("baseload_kwh").is_not_null() & ~pl.col("unchanging"))
    if since is not None and since.height:
        lf = lf.join(since.lazy().select(HH, _lo=pl.col("lo").cast(pl.Date)), on=HH, how="left",
                     maintain_order="left").with_columns(_lo=pl.col("_lo").fill_null(date(1, 1, 1)))
    else:
        lf = lf.with_columns(_lo=pl.lit(date(1, 1, 1)))
    lf = lf.with_columns(computed=pl.col("ok") & (pl.col("local_date") >= pl.col("_lo")))
    # The norm's profile per day: recomputed from readings from the first wanted day on,
    # the stored one before it.
    if prior is not None:
        lf = lf.join(prior.lazy().select(*KEY, _seen=pl.col("halfhour_seen"), _on=pl.col("halfhour_active")),
                     on=KEY, how="left", maintain_order="left")
        before = pl.col("local_date") < pl.col("_lo")

        def stored(b: int) -> pl.Expr:
            bit = pl.lit(1 << b, dtype=pl.Int64)
            return pl.when((pl.col("_seen") & bit) != 0).then(((pl.col("_on") & bit) != 0).cast(pl.Int8))

        lf = lf.with_columns(
            [pl.when(before).then(stored(b)).otherwise(pl.col(f"_hh{b}")).alias(f"_nh{b}") for b in range(48)]
            + [pl.when(before).then(pl.col("_seen").is_not_null()).otherwise(pl.col("computed")).alias("_valid")])
    else:
        lf = lf.with_columns([pl.col(f"_hh{b}").alias(f"_nh{b}") for b in range(48)] + [pl.col("computed").alias("_valid")])
    f = lf.collect()
    valid = f["_valid"].fill_null(False).to_numpy()
    profile = _matrix(f, "_nh")
    norm_sum, norm_n, norm_days = regularity_norm(profile, valid, f["_pos"].to_numpy())
    # An evening that runs into a night load (the next day's night_unreadable) cannot be seen
    # to its end: its bedtime, and what is measured up to bedtime, are null, not guessed.
    next_load = (dayframe.following(pl.col("night_unreadable")) == 1).fill_null(False)
    lf = f.lazy().with_columns(pl.when(~next_load).then(pl.col(c)).alias(c) for c in NEXT_MORNING)
    lf = lf.with_columns(_prev_bed=dayframe.previous(pl.col("bed_time_h")))
    inputs = {
        "prev_bed_time_h": pl.col("_prev_bed"),
        "halfhour_active": _matrix(f, "_hh").astype(np.float64) if prior is not None else profile.astype(np.float64),
        "norm_sum": norm_sum, "norm_n": norm_n, "norm_days": norm_days,
    }
    lf = lf.with_columns(
        fn(*(inputs[p] if p in inputs else pl.col(p) for p in _params(fn))).alias(fn.__name__) for fn in fns)
    lf = lf.with_columns(regularity_corr=pl.when(pl.col("computed")).then(pl.col("regularity_corr")))
    lf = lf.with_columns(
        [pl.when(pl.col("covered") if c == "baseload_kwh" else pl.col("ok")).then(pl.col(c)).alias(c)
         for c in BEHAVIOURAL]
        + [pl.when(~pl.col("covered")).then(pl.lit("low_coverage"))
           .when(pl.col("unchanging")).then(pl.lit("meter_outage"))
           .when(pl.col("ok")).then(pl.lit("ok")).otherwise(pl.lit("no_baseload")).alias("dq_flag")])
    full = lf.collect()
    # Select, then filter: the frame has a few hundred working columns by now.
    day = full.select(
        pl.col(c).cast(pl.Int32) if c in INTEGER else
        (pl.col(c) if c in ("household_id", "local_date", "dq_flag") else pl.col(c).cast(pl.Float64).fill_nan(None))
        for c in COLUMNS).filter(full["present_slots"] > 0)
    prof = full.select(
        *KEY,
        hourly_excess_kwh=pl.concat_arr(f"_hx{h}" for h in range(24)),
        hourly_active_slots=pl.concat_arr(f"_ha{h}" for h in range(24)),
        halfhour_seen=pl.when(pl.col("computed")).then(_bits(pl.col(f"_hh{b}").is_not_null() for b in range(48))),
        halfhour_active=pl.when(pl.col("computed")).then(_bits((pl.col(f"_hh{b}") == 1).fill_null(False)
                                                               for b in range(48))),
    ).filter(full["ok"] & (full["present_slots"] > 0))
    return day, prof


def _empty_outputs() -> tuple[pl.DataFrame, pl.DataFrame]:
    from meterrisk.features.daily import COLUMNS, INTEGER

    day = pl.DataFrame(schema={c: (pl.String if c in ("household_id", "dq_flag") else pl.Date if c == "local_date"
                                   else pl.Int32 if c in INTEGER else pl.Float64) for c in COLUMNS})
    prof = pl.DataFrame(schema={HH: pl.String, "local_date": pl.Date, "hourly_excess_kwh": pl.Array(pl.Float64, 24),
                                "hourly_active_slots": pl.Array(pl.Int32, 24), "halfhour_seen": pl.Int64,
                                "halfhour_active": pl.Int64})
    return day, prof
