"""The Polars implementation of daily.py replaced by the numpy timeline (2026-11-26), kept
as the reference the new one is tested against (tests/test_features_grid.py). Unchanged
except for importing the reference activity module and sharing thresholds with the package."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import polars as pl

import reference_activity_polars as A

from meterrisk.features.daily import (  # the output contract and thresholds are shared
    BEHAVIOURAL, BLIP_END_H, BLIP_MAX_KWH, BLIP_MIN_KWH, BLIP_MIN_SLOTS, COLUMNS, DAYTIME, EVENING,
    MORNING, NOON, STUCK_MIN_LEVEL_KWH, WAKE_AFTER_H,
)
from meterrisk.features.profiles import window_sums as _window_sums


# Masks are written pl.when(mask).then(x).agg() rather than x.filter(mask).agg(): same result
# (nulls are skipped), but it stays on Polars' vectorised group-by path.
def _in(clock_h: pl.Expr, window: tuple[float, float]) -> pl.Expr:
    return (clock_h >= window[0]) & (clock_h < window[1])


# ---------------------------------------------------------------- accounting (always set)

def present_slots(kwh: pl.Expr) -> pl.Expr:
    """Half-hour readings present on the local day (zeros count as readings).

    Unit: slots
    """
    return kwh.count().cast(pl.Int32)


def zero_slots(kwh: pl.Expr) -> pl.Expr:
    """Half-hour readings that are exactly 0 kWh (kept as readings, never treated as gaps).

    Unit: slots
    """
    return (kwh == 0).sum().cast(pl.Int32)


# ---------------------------------------------------------------- energy

def daily_kwh(kwh: pl.Expr) -> pl.Expr:
    """Energy used on the local day (sum of present half hours; null on low-coverage days).

    Unit: kWh
    """
    return kwh.sum()


def baseload_kwh(baseload_kwh: pl.Expr) -> pl.Expr:
    """Standby floor: 10th percentile of 00:00-05:00 half hours over the last 7 days incl. today.

    Unit: kWh per half hour
    Edge cases: null when fewer than 10 night readings fall in the 7-day window.
    """
    return baseload_kwh.first()


def excess_kwh(excess_kwh: pl.Expr) -> pl.Expr:
    """Energy above the baseload summed over the day (use attributable to people).

    Unit: kWh
    """
    return excess_kwh.sum()


def peak_kwh(kwh: pl.Expr) -> pl.Expr:
    """Largest half-hour reading of the day.

    Unit: kWh per half hour
    """
    return kwh.max()


def peak_time_h(kwh: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Local clock time of the day's largest half hour (earliest if tied).

    Unit: hours (local clock, 0-24)
    """
    return clock_h.filter(kwh == kwh.max()).min()


# ---------------------------------------------------------------- activity

def active_slots(active: pl.Expr) -> pl.Expr:
    """Half hours above baseload + noise margin (max(0.03 kWh, 0.5 x baseload)).

    Unit: slots
    """
    return active.sum().cast(pl.Int32)


def active_share(active: pl.Expr) -> pl.Expr:
    """Share of present half hours that are active (the daily active score).

    Unit: fraction (0-1)
    """
    return active.mean()


def night_activity_share(active: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Share of present half hours between 00:00 and 05:00 that are active (night unrest).

    Unit: fraction (0-1)
    Edge cases: null when no night half hour is present.
    """
    return pl.when(clock_h < A.NIGHT_END_H).then(active).mean()


def wake_time_h(clock_h: pl.Expr, sustained_start: pl.Expr) -> pl.Expr:
    """Wake time: first onset of sustained activity (2 of 3 consecutive half hours active,
    the half hour before not active) at or after 04:00.

    Unit: hours (local clock; 06:30 -> 6.5)
    Edge cases: null when no sustained activity starts all day (away, or no one active).
    Activity running on from the night (e.g. a water heater until 05:00) is not a wake-up.
    """
    return pl.when(sustained_start & (clock_h >= WAKE_AFTER_H)).then(clock_h).min()


def bed_time_h(bday_h: pl.Expr, sustained_end: pl.Expr) -> pl.Expr:
    """Bedtime: end of the last sustained activity (its next half hour not active) after 04:00
    and before 03:00 next morning.

    Unit: hours (local clock; may exceed 24: 00:30 next morning -> 24.5)
    Edge cases: null when no sustained activity, or fewer than 4 of the next morning's
    00:00-03:00 half hours are present (the evening cannot be seen to its end).
    """
    return pl.when(sustained_end & (bday_h >= WAKE_AFTER_H)).then(bday_h + 0.5).max()


def breakfast_kwh(excess_kwh: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Energy above baseload in the morning cooking window 06:00-09:00.

    Unit: kWh
    """
    return pl.when(_in(clock_h, MORNING)).then(excess_kwh).sum()


def lunch_kwh(excess_kwh: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Energy above baseload in the noon cooking window 11:00-13:30.

    Unit: kWh
    """
    return pl.when(_in(clock_h, NOON)).then(excess_kwh).sum()


def dinner_kwh(excess_kwh: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Energy above baseload in the evening cooking window 17:00-20:00.

    Unit: kWh
    """
    return pl.when(_in(clock_h, EVENING)).then(excess_kwh).sum()


def meal_kwh(excess_kwh: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Energy above baseload in the three cooking windows together (breakfast+lunch+dinner).

    Unit: kWh
    """
    return pl.when(_in(clock_h, MORNING) | _in(clock_h, NOON) | _in(clock_h, EVENING)).then(excess_kwh).sum()


def meal_windows_active(active: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Cooking windows (morning, noon, evening) with at least 2 active half hours.

    Unit: count (0-3)
    """
    return sum(
        (pl.when(_in(clock_h, w)).then(active).sum() >= 2).cast(pl.Int32) for w in (MORNING, NOON, EVENING)
    )


def daytime_floor_h(active: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Hours between 09:00 and 17:00 at the floor (not active): outing proxy.

    Unit: hours
    Edge cases: counts present half hours only; cannot tell "out" from "collapsed".
    """
    return pl.when(_in(clock_h, DAYTIME)).then(~active).sum() * 0.5


def night_blips(kwh: pl.Expr, clock_h: pl.Expr) -> pl.Expr:
    """Half hours 00:00-04:30 more than 0.025 and less than 0.3 kWh above the night's (lower)
    median reading; null with fewer than 7 such readings. (Added 2026-11-26 with the numpy one.)"""
    night = pl.when(clock_h < BLIP_END_H).then(kwh)
    above = night - night.quantile(0.5, interpolation="lower")
    blips = ((above > BLIP_MIN_KWH) & (above < BLIP_MAX_KWH)).sum().cast(pl.Int32)
    return pl.when(night.count() >= BLIP_MIN_SLOTS).then(blips)


DAY_AGGREGATES: list[Callable[..., pl.Expr]] = [
    present_slots, zero_slots, daily_kwh, baseload_kwh, excess_kwh, peak_kwh, peak_time_h,
    active_slots, active_share, night_activity_share, wake_time_h, breakfast_kwh, lunch_kwh,
    dinner_kwh, meal_kwh, meal_windows_active, daytime_floor_h, night_blips,
]
BDAY_AGGREGATES: list[Callable[..., pl.Expr]] = [bed_time_h]


# ---------------------------------------------------------------- run-based features

def longest_inactive_run_h(slots: pl.DataFrame, waking: pl.DataFrame) -> pl.DataFrame:
    """Longest run of consecutive inactive half hours between wake time and bedtime.

    Unit: hours
    Edge cases: null when wake or bed time is null; a gap ends a run.
    """
    df = slots.select("bkey", "active", "bday_h", "prev_adjacent").join(
        waking.rename({"dkey": "bkey"}), on="bkey", how="left", maintain_order="left")
    cond = (~pl.col("active").fill_null(True)) & (pl.col("bday_h") >= pl.col("wake_time_h")) & (
        pl.col("bday_h") < pl.col("bed_time_h"))
    runs = _longest_run(df.with_columns(cond=cond.fill_null(False)), "bkey")
    return (waking.filter(pl.col("wake_time_h").is_not_null() & pl.col("bed_time_h").is_not_null())
            .select("dkey")
            .join(runs.rename({"bkey": "dkey"}), on="dkey", how="left")
            .select("dkey", longest_inactive_run_h=pl.col("run_slots").fill_null(0) * 0.5))


def longest_daytime_floor_h(slots: pl.DataFrame) -> pl.DataFrame:
    """Longest run of consecutive floor (inactive) half hours between 09:00 and 17:00: outing length.

    Unit: hours
    """
    cond = (~pl.col("active").fill_null(True)) & _in(pl.col("clock_h"), DAYTIME)
    runs = _longest_run(slots.with_columns(cond=cond), "dkey")
    return runs.select("dkey", longest_daytime_floor_h=pl.col("run_slots") * 0.5)


def stuck_on_h(slots: pl.DataFrame) -> pl.DataFrame:
    """Longest run of consecutive half hours whose load stays at least 0.25 kWh (0.5 kW) above
    the baseload: an elevated floor that never drops back towards standby (a heater, hob or
    iron left on; also long continuous heating).

    Unit: hours
    Edge cases: 0 when no half hour is that high; a gap ends a run. On synthetic data,
    days with an appliance left on average 8 h, other days 2 h.
    """
    elevated = pl.col("kwh") >= pl.col("baseload_kwh") + STUCK_MIN_LEVEL_KWH
    runs = _longest_run(slots.with_columns(cond=elevated.fill_null(False)), "dkey")
    return runs.select("dkey", stuck_on_h=pl.col("run_slots") * 0.5)


def _longest_run(df: pl.DataFrame, key: str) -> pl.DataFrame:
    """Longest run of rows with ``cond`` per day key (dkey or bkey); gaps break runs.

    One row per key present in ``df`` (run_slots 0 when ``cond`` never holds). Runs are found
    with numpy on the row order: a run starts where cond or the key changes, or at a gap.
    """
    keys = df[key].to_numpy()
    cond = df["cond"].to_numpy().astype(bool)
    n = len(keys)
    if n == 0:
        return pl.DataFrame(schema={key: df.schema[key], "run_slots": pl.Int32})
    # prev_adjacent is False at gaps and household boundaries, and a new day key starts a
    # new run, so a global run id is safe.
    starts = ~df["prev_adjacent"].to_numpy().astype(bool)
    starts[0] = True
    starts[1:] |= (cond[1:] != cond[:-1]) | (keys[1:] != keys[:-1])
    first = np.flatnonzero(starts)
    run_len = np.diff(np.append(first, n))
    run_len = np.where(cond[first], run_len, 0)  # cond is constant within a run
    run_key = keys[first]
    if np.all(run_key[1:] >= run_key[:-1]):  # keys in blocks (rows arrive in time order)
        bounds = np.flatnonzero(np.r_[True, run_key[1:] != run_key[:-1]])
        return pl.DataFrame({key: pl.Series(key, run_key[bounds], dtype=df.schema[key]),
                             "run_slots": pl.Series("run_slots", np.maximum.reduceat(run_len, bounds),
                                                    dtype=pl.Int32)})
    return (pl.DataFrame({key: pl.Series(key, run_key, dtype=df.schema[key]), "n": run_len})
            .group_by(key).agg(run_slots=pl.col("n").max().cast(pl.Int32)))


# ---------------------------------------------------------------- regularity

class _Dense:
    """Slot rows of valid days scattered onto a dense (household, day, bin) grid with numpy.

    Rolling windows over days become differences of cumulative sums along the day axis, far
    cheaper than per-group rolling in a data frame. ``valid`` has the hh and day codes of the
    valid days; rows of other days are left out.
    """

    def __init__(self, slots: pl.DataFrame, valid: pl.DataFrame, bin_col: str, n_bins: int,
                 prior: pl.DataFrame | None = None, excess: bool = True):
        vh = valid["hh"].to_numpy()
        vd = valid["day"].to_numpy().astype(np.int64)
        ph = prior["hh"].to_numpy() if prior is not None else np.zeros(0, dtype=np.int64)
        pd_ = prior["day"].to_numpy().astype(np.int64) if prior is not None else np.zeros(0, dtype=np.int64)
        all_d = np.concatenate([vd, pd_])
        self.first = int(all_d.min()) if len(all_d) else 0
        self.n_h = int(slots["hh"].max()) + 1 if slots.height else 0
        self.n_d = int(all_d.max()) - self.first + 1 if len(all_d) else 0
        shape = (self.n_h, self.n_d, n_bins)
        self.valid = np.zeros(shape[:2], dtype=bool)
        self.valid[vh, vd - self.first] = True
        h = slots["hh"].to_numpy()
        d = slots["local_date"].cast(pl.Int32).to_numpy().astype(np.int64) - self.first
        inside = (d >= 0) & (d < self.n_d)
        keep = np.zeros(len(h), dtype=bool)
        keep[inside] = self.valid[h[inside], d[inside]]
        flat = ((h[keep] * self.n_d + d[keep]) * n_bins + slots[bin_col].to_numpy()[keep]).astype(np.int64)
        size = int(np.prod(shape))
        active = slots["active"].fill_null(False).to_numpy()[keep].astype(np.float64)
        self.present = np.bincount(flat, minlength=size).reshape(shape)
        self.active = np.bincount(flat, weights=active, minlength=size).reshape(shape)
        self.excess = None  # only the hourly profiles need it
        if excess:
            weights = slots["excess_kwh"].fill_null(0.0).to_numpy()[keep]
            self.excess = np.bincount(flat, weights=weights, minlength=size).reshape(shape)
        if prior is not None and prior.height:
            # Stored profiles of earlier valid days (0/1 per bin, null = no reading).
            stored = prior["halfhour_active"].list.to_array(n_bins).cast(pl.Array(pl.Float64, n_bins)).to_numpy()
            seen = ~np.isnan(stored)
            self.present[ph, pd_ - self.first] = seen
            self.active[ph, pd_ - self.first] = np.where(seen, stored, 0.0)
            self.valid[ph, pd_ - self.first] = True
        self.computed = np.zeros(shape[:2], dtype=bool)
        self.computed[vh, vd - self.first] = True

    def frame(self, **columns: np.ndarray) -> pl.DataFrame:
        """One row per valid day computed here (not prior): dkey plus (household, day) arrays."""
        h, d = np.nonzero(self.computed)
        return pl.DataFrame({
            "dkey": h.astype(np.int64) * A.KEY_SPAN + d + self.first,
            **{k: pl.Series(k, v[self.computed]) for k, v in columns.items()},
        })


def halfhour_grid(slots: pl.DataFrame, valid_days: pl.DataFrame, prior: pl.DataFrame | None = None) -> _Dense:
    """Active flags of valid days on a (household, day, clock half hour) grid; ``prior`` adds
    stored profiles of earlier days (hh, day, halfhour_active) for the regularity norm."""
    return _Dense(slots, valid_days, "half_hour_bin", 48, prior, excess=False)


def regularity_corr(g: _Dense) -> pl.DataFrame:
    """Pearson correlation of today's 48 clock-half-hour active profile with the mean active
    profile of the valid days among the previous 28.

    Unit: correlation (-1..1)
    Edge cases: null with fewer than 14 valid previous days, or a constant profile today
    (e.g. no activity at all). Clock-change days: the duplicated half hour is active if any
    of its readings is; a skipped half hour is missing.
    """
    present = g.present > 0
    x = np.where(present, (g.active > 0).astype(np.float64), 0.0)
    norm_sum = _window_sums(x, A.REGULARITY_DAYS)
    norm_n = _window_sums(present.astype(np.float64), A.REGULARITY_DAYS)
    prev_days = _window_sums(g.valid.astype(np.float64), A.REGULARITY_DAYS)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = norm_sum / norm_n
        m = present & (norm_n > 0)
        n = m.sum(axis=2)
        mx = np.where(m, x, 0).sum(axis=2) / n
        my = np.where(m, y, 0).sum(axis=2) / n
        dx = np.where(m, x - mx[..., None], 0)
        dy = np.where(m, y - my[..., None], 0)
        corr = (dx * dy).sum(axis=2) / np.sqrt((dx * dx).sum(axis=2) * (dy * dy).sum(axis=2))
    corr = np.where((prev_days >= A.REGULARITY_MIN_DAYS) & np.isfinite(corr), corr, np.nan)
    x = np.where(present, x, np.nan)
    return g.frame(regularity_corr=corr, halfhour_active=x).with_columns(
        pl.col("regularity_corr").fill_nan(None),
        pl.col("halfhour_active").arr.to_list().list.eval(pl.element().fill_nan(None).cast(pl.Int8)),
    )


FRAME_FEATURES = [longest_inactive_run_h, longest_daytime_floor_h, stuck_on_h, regularity_corr]


def inactive_night_h(wake_time_h: pl.Expr, prev_bed_time_h: pl.Expr) -> pl.Expr:
    """Hours from the previous evening's bedtime to this morning's wake time (sleep proxy).

    Unit: hours
    Edge cases: null unless both the previous calendar day's bedtime and today's wake time exist.
    """
    return wake_time_h + 24.0 - prev_bed_time_h


# ---------------------------------------------------------------- driver


def _apply(fn: Callable[..., pl.Expr]) -> pl.Expr:
    params = inspect.signature(fn).parameters
    return fn(*(pl.col(p) for p in params)).alias(fn.__name__)


def _sorted(readings: pl.DataFrame) -> bool:
    hh, utc = pl.col("household_id"), pl.col("ts_utc")
    return readings.select(
        ((hh > hh.shift(1)) | ((hh == hh.shift(1)) & (utc > utc.shift(1)))).fill_null(True).all()
    ).item()


def compute_daily(readings: pl.DataFrame, calendar: pl.DataFrame, *, since: pl.DataFrame | None = None,
                  prior: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily features and profiles for the household-days in ``readings``.

    ``readings`` needs household_id, ts_utc, local_ts, local_date, kwh (fastest when sorted
    by household_id, ts_utc); ``calendar`` needs local_date, expected_slots. The caller
    passes READ_BEFORE context days before the first day it wants and LOOKAHEAD_DAYS after,
    and keeps only the days it asked for.

    Incremental runs pass ``since`` (household_id, lo: first day wanted) and ``prior``
    (household_id, local_date, halfhour_active: the stored profiles of the 28 days before lo)
    so regularity does not need four weeks of readings. Returns (daily_features, daily_profiles).
    """
    readings = readings.sort("household_id", "ts_utc") if not _sorted(readings) else readings
    codes = A.household_codes(readings)
    slots = A.with_clock(readings)
    del readings
    slots = A.with_activity(slots, A.baseload(slots))

    slots = A.sorted_by(slots, "dkey")  # rows arrive in day blocks: slice group-by
    day = (slots.group_by("dkey").agg(
        pl.col("local_date", "hh").first(), *(_apply(f) for f in DAY_AGGREGATES))
        .join(codes, on="hh")
        .join(calendar.select("local_date", pl.col("expected_slots").cast(pl.Int32)),
              on="local_date", how="left")
        .with_columns(pl.col("expected_slots").fill_null(48),
                      day=pl.col("local_date").cast(pl.Int32)))
    day = day.with_columns(coverage=(pl.col("present_slots") / pl.col("expected_slots")).clip(upper_bound=1.0))
    day = day.with_columns(
        dq_flag=pl.when(pl.col("coverage") < A.MIN_COVERAGE).then(pl.lit("low_coverage"))
        .when(pl.col("baseload_kwh").is_null()).then(pl.lit("no_baseload"))
        .otherwise(pl.lit("ok"))
    )
    valid = day.filter(pl.col("dq_flag") == "ok").select("hh", "day")

    day = day.join(_bedtimes(slots), on="dkey", how="left")

    waking = day.select("dkey", "wake_time_h", "bed_time_h")
    reg_valid, reg_prior = valid, None
    if since is not None:
        lo = since.join(codes, on="household_id").select("hh", lo=pl.col("lo").cast(pl.Int32))
        # Context days before lo have truncated baseload windows: their stored profiles count.
        reg_valid = valid.join(lo, on="hh").filter(pl.col("day") >= pl.col("lo")).select("hh", "day")
        if prior is not None:
            reg_prior = prior.join(codes, on="household_id").join(lo, on="hh").filter(
                pl.col("local_date").cast(pl.Int32) < pl.col("lo")
            ).select("hh", day=pl.col("local_date").cast(pl.Int32), halfhour_active="halfhour_active")
    regularity = regularity_corr(halfhour_grid(slots, reg_valid, reg_prior))
    halfhours = regularity.select("dkey", "halfhour_active")
    for frame in (longest_inactive_run_h(slots, waking), longest_daytime_floor_h(slots),
                  stuck_on_h(slots), regularity.drop("halfhour_active")):
        day = day.join(frame, on="dkey", how="left")

    prev_bed = day.select(dkey=pl.col("dkey") + 1, prev_bed_time_h="bed_time_h")
    day = day.join(prev_bed, on="dkey", how="left").with_columns(_apply(inactive_night_h))
    ok = pl.col("dq_flag") == "ok"
    day = day.with_columns(
        [pl.when(ok).then(pl.col(c)).alias(c) for c in BEHAVIOURAL if c != "baseload_kwh"]
        + [pl.when(pl.col("coverage") >= A.MIN_COVERAGE).then(pl.col("baseload_kwh")).alias("baseload_kwh")]
    )
    keys = day.select("dkey", "household_id", "local_date")
    profiles = (keys.join(_hourly_profiles(slots, valid), on="dkey")
                .join(halfhours, on="dkey", how="left").drop("dkey"))
    return day.select(COLUMNS).sort("household_id", "local_date"), profiles.sort("household_id", "local_date")


def _bedtimes_polars(slots: pl.DataFrame) -> pl.DataFrame:
    """dkey, bed_time_h per behavioural day (null unless 4 next-morning half hours are seen)."""
    return slots.filter(pl.col("bday_h") >= WAKE_AFTER_H).group_by("bkey").agg(
        [_apply(f) for f in BDAY_AGGREGATES],
        next_morning=(pl.col("bday_h") >= 24).sum(),
    ).select(dkey="bkey", bed_time_h=pl.when(pl.col("next_morning") >= 4).then(pl.col("bed_time_h")))


def _bedtimes(slots: pl.DataFrame) -> pl.DataFrame:
    """:func:`_bedtimes_polars` with numpy segment reductions (rows arrive in behavioural-day
    blocks, being in time order); falls back to the group-by if they do not."""
    bkey = slots["bkey"].to_numpy()
    bday_h = slots["bday_h"].to_numpy()
    keep = bday_h >= WAKE_AFTER_H
    bkey, bday_h = bkey[keep], bday_h[keep]
    end = slots["sustained_end"].to_numpy()[keep]
    if (len(bkey) == 0 or not np.all(bkey[1:] >= bkey[:-1]) or np.isnan(bday_h).any()
            or slots["sustained_end"].null_count()):
        return _bedtimes_polars(slots)
    bounds = np.flatnonzero(np.r_[True, bkey[1:] != bkey[:-1]])
    last_end = np.maximum.reduceat(np.where(end, bday_h + 0.5, -np.inf), bounds)  # bed_time_h
    next_morning = np.add.reduceat((bday_h >= 24).astype(np.int64), bounds)
    bed = np.where((next_morning >= 4) & np.isfinite(last_end), last_end, np.nan)
    return pl.DataFrame({"dkey": pl.Series("dkey", bkey[bounds], dtype=slots.schema["bkey"]),
                         "bed_time_h": pl.Series("bed_time_h", bed).fill_nan(None)})


def _hourly_profiles(slots: pl.DataFrame, valid: pl.DataFrame) -> pl.DataFrame:
    """Per valid day: energy above baseload and active half hours in each local clock hour.

    Lists of 24 values (hour 0..23; null for an hour with no reading). The window stage
    computes circadian metrics from these without touching readings again.
    """
    g = _Dense(slots, valid, "hour", 24)
    has = g.present > 0
    excess = np.where(has, g.excess, np.nan)
    active = np.where(has, g.active, np.nan)
    frame = g.frame(hourly_excess_kwh=excess, hourly_active_slots=active)
    return frame.with_columns(
        pl.col("hourly_excess_kwh").arr.to_list().list.eval(pl.element().fill_nan(None)),
        pl.col("hourly_active_slots").arr.to_list().list.eval(pl.element().fill_nan(None).cast(pl.Int32)),
    )
