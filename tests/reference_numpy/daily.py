"""Daily features: one row per household and local date with readings.

Each feature is a small function named after its output column. Its parameters name what it
needs: the timeline arrays (``kwh``, ``present``, ``clock_h``, ``bday_h``), the activity arrays
of :mod:`meterrisk.features.activity` (``counted``, ``active``, ``excess_kwh``,
``sustained_start``/``_end``, ``baseload_kwh``), the day reducers ``days``/``bdays`` (see
:class:`meterrisk.features.timeline.Segments`) or features computed before it. It returns a
(households, days) array for the whole batch at once. Docstrings carry the definition,
``Unit:`` and edge cases; the catalogue is built from them.

Coverage rule: a day with coverage < 0.8, or without a baseload, keeps its accounting
columns (expected/present/zero slots, coverage, dq_flag) but every behavioural feature is
null. Values are never imputed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import polars as pl

from reference_numpy import activity as A
from reference_numpy import profiles as P
from reference_numpy.timeline import Segments, Timeline

MORNING = (6.0, 9.0)
NOON = (11.0, 13.5)
EVENING = (17.0, 20.0)
DAYTIME = (9.0, 17.0)
WAKE_AFTER_H = A.WAKE_AFTER_H
#: "Stuck on": load at least this far above the baseload without a break. Ordinary use
#: returns towards standby between activities; a flatness rule (|change| small) missed
#: appliances left on under other use, this floor rule separates them far better.
STUCK_MIN_LEVEL_KWH = 0.25
#: Night blips: half hours before 04:30 that rise this far above the night's own median
#: reading (the floor that night, whatever the heating or the fridge do), but less than a water
#: heater or heater cycle would. Measured against the night itself, not the 7-day baseload:
#: a small bump (a light, the toilet fan, 0.03-0.1 kWh) hides inside the active margin.
BLIP_END_H = 4.5
BLIP_MIN_KWH = 0.025
BLIP_MAX_KWH = 0.3
BLIP_MIN_SLOTS = 7
#: The features of a day that read the next morning's readings (the evening is seen to its
#: end only after 03:00 next day). A window as of a date leaves them out for that date, so
#: it depends on readings up to the end of its as_of only: computed on the evening of as_of,
#: or weeks later, it is the same window, and it never goes stale when the next day arrives.
NEXT_MORNING = ("bed_time_h", "longest_inactive_run_h")


def _in(clock_h: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    return (clock_h >= window[0]) & (clock_h < window[1])


def _day_low_median(values: np.ndarray, mask: np.ndarray, days: Segments) -> np.ndarray:
    """(H, n_days) lower median of ``values`` over each day's columns where ``mask`` (1-D per
    column) and the value is present: the middle reading, or the lower of the two middle ones
    (always an actual reading, so comparisons with it are exact). NaN when there is none."""
    n_h = values.shape[0]
    cols = np.flatnonzero(mask & (days.ids >= 0) & (days.ids < days.n_days))
    if len(cols) == 0:
        return np.full((n_h, days.n_days), np.nan)
    ids = days.ids[cols]  # non-decreasing: columns are in local-date order
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    rank = np.arange(len(cols)) - np.repeat(starts, np.diff(np.r_[starts, len(cols)]))
    table = np.full((days.n_days, int(rank.max()) + 1), values.shape[1], dtype=np.int64)
    table[ids, rank] = cols
    ext = np.concatenate([values, np.full((n_h, 1), np.nan)], axis=1)
    ordered = np.sort(ext[:, table], axis=2)  # NaN sorts last
    n = (~np.isnan(ordered)).sum(axis=2)
    mid = np.take_along_axis(ordered, np.maximum(n - 1, 0)[..., None] // 2, axis=2)[..., 0]
    return np.where(n > 0, mid, np.nan)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / np.maximum(whole, 1), np.nan)


# ---------------------------------------------------------------- accounting (always set)

def present_slots(present: np.ndarray, days: Segments) -> np.ndarray:
    """Half-hour readings present on the local day (zeros count as readings).

    Unit: slots
    """
    return days.sum(present)


def zero_slots(kwh: np.ndarray, days: Segments) -> np.ndarray:
    """Half-hour readings that are exactly 0 kWh (kept as readings, never treated as gaps).

    Unit: slots
    """
    return days.sum(kwh == 0)


# ---------------------------------------------------------------- energy

def daily_kwh(kwh: np.ndarray, present: np.ndarray, days: Segments) -> np.ndarray:
    """Energy used on the local day (sum of present half hours; null on low-coverage days).

    Unit: kWh
    """
    return days.sum(np.where(present, kwh, 0.0))


def baseload_kwh(baseload: np.ndarray) -> np.ndarray:
    """Standby floor: 10th percentile of 00:00-05:00 half hours over the last 7 days incl. today.

    Unit: kWh per half hour
    Edge cases: null when fewer than 10 night readings fall in the 7-day window.
    """
    return baseload


def excess_kwh(excess: np.ndarray, days: Segments) -> np.ndarray:
    """Energy above the baseload summed over the day (use attributable to people).

    Unit: kWh
    """
    return days.sum(excess)


def peak_kwh(kwh: np.ndarray, present: np.ndarray, days: Segments) -> np.ndarray:
    """Largest half-hour reading of the day.

    Unit: kWh per half hour
    """
    return days.max_where(present, kwh)


def peak_time_h(kwh: np.ndarray, peak_kwh: np.ndarray, clock_h: np.ndarray, days: Segments) -> np.ndarray:
    """Local clock time of the day's largest half hour (earliest if tied).

    Unit: hours (local clock, 0-24)
    """
    return days.min_where(kwh == days.spread(peak_kwh), clock_h)


# ---------------------------------------------------------------- activity

def active_slots(active: np.ndarray, days: Segments) -> np.ndarray:
    """Half hours above baseload + noise margin (max(0.03 kWh, 0.5 x baseload)).

    Unit: slots
    """
    return days.sum(active)


def active_share(active: np.ndarray, counted: np.ndarray, days: Segments) -> np.ndarray:
    """Share of present half hours that are active (the daily active score).

    Unit: fraction (0-1)
    """
    return _share(days.sum(active), days.sum(counted))


def night_activity_share(active: np.ndarray, counted: np.ndarray, clock_h: np.ndarray,
                         days: Segments, night_unreadable: np.ndarray) -> np.ndarray:
    """Share of present half hours between 00:00 and 05:00 that are active (night unrest).

    Unit: fraction (0-1)
    Edge cases: null when no night half hour is present, or on a night_unreadable night (a
    night load, not the resident, would be active).
    """
    night = clock_h < A.NIGHT_END_H
    share = _share(days.sum(active & night), days.sum(counted & night))
    return np.where(night_unreadable == 0, share, np.nan)


def night_unreadable(night_load_on: np.ndarray) -> np.ndarray:
    """1 when a night load hides the night's behaviour, else 0 (the definition:
    meterrisk.features.daily.night.night_unreadable).

    Unit: flag (0/1)
    """
    return night_load_on.astype(np.int32)


def night_blips(kwh: np.ndarray, present: np.ndarray, clock_h: np.ndarray, days: Segments,
                night_unreadable: np.ndarray) -> np.ndarray:
    """Brief night activity: half hours from 00:00 to 04:30 whose reading is more than 0.025 kWh
    and less than 0.3 kWh above that night's median 00:00-04:30 reading (a light or the toilet
    at night; water heaters and heater cycles rise further or stay on). Day/night reversal
    grows with frailty; a share of active half hours misses most of these small bumps.

    Unit: count (half hours per night)
    Edge cases: null when fewer than 7 of the night's half hours before 04:30 are present. The
    median is the lower middle reading for an even count. Clock-change days use every reading
    whose clock time is before 04:30.
    """
    night = clock_h < BLIP_END_H
    with np.errstate(invalid="ignore"):
        above = kwh - days.spread(_day_low_median(kwh, night, days))
        blip = night & (above > BLIP_MIN_KWH) & (above < BLIP_MAX_KWH)  # False where NaN
    n = days.sum(present & night)
    return np.where((n >= BLIP_MIN_SLOTS) & (night_unreadable == 0), days.sum(blip), np.nan)


def wake_time_h(sustained_start: np.ndarray, night_wake_start: np.ndarray, night_unreadable: np.ndarray,
                clock_h: np.ndarray, days: Segments) -> np.ndarray:
    """Wake time: first onset of sustained activity (2 of 3 consecutive half hours active,
    the half hour before not active) at or after 04:00; after a night load (night_unreadable),
    the first 2 consecutive active half hours once the load has gone (the package's
    wake_time_h has the whole definition).

    Unit: hours (local clock; 06:30 -> 6.5)
    """
    ordinary = days.min_where(sustained_start & (clock_h >= WAKE_AFTER_H), clock_h)
    after_load = days.min_where(night_wake_start & (clock_h >= WAKE_AFTER_H), clock_h)
    return np.where(night_unreadable == 1, after_load, ordinary)


def bed_time_h(sustained_end: np.ndarray, present: np.ndarray, bday_h: np.ndarray, bdays: Segments,
               present_slots: np.ndarray, night_unreadable: np.ndarray) -> np.ndarray:
    """Bedtime: end of the last sustained activity (its next half hour not active) after 04:00
    and before 03:00 next morning.

    Unit: hours (local clock; may exceed 24: 00:30 next morning -> 24.5)
    Edge cases: null when no sustained activity, or fewer than 4 of the next morning's
    00:00-03:00 half hours are present (the evening cannot be seen to its end).
    """
    last_end = bdays.max_where(sustained_end & (bday_h >= WAKE_AFTER_H), bday_h + 0.5)
    next_morning = bdays.sum(present & (bday_h >= 24))
    # A date without readings of its own has no evening to end, whatever the night after shows.
    # An evening that runs into a night load (the next day's night_unreadable) has no end either.
    next_load = np.zeros_like(night_unreadable, dtype=bool)
    next_load[:, :-1] = night_unreadable[:, 1:] == 1
    return np.where((next_morning >= 4) & (present_slots > 0) & ~next_load, last_end, np.nan)


def inactive_night_h(wake_time_h: np.ndarray, bed_time_h: np.ndarray) -> np.ndarray:
    """Hours from the previous evening's bedtime to this morning's wake time (sleep proxy).

    Unit: hours
    Edge cases: null unless both the previous calendar day's bedtime and today's wake time exist.
    """
    prev_bed = np.full_like(bed_time_h, np.nan)
    prev_bed[:, 1:] = bed_time_h[:, :-1]
    return wake_time_h + 24.0 - prev_bed


def longest_inactive_run_h(counted: np.ndarray, active: np.ndarray, bday_h: np.ndarray,
                           wake_time_h: np.ndarray, bed_time_h: np.ndarray, bdays: Segments) -> np.ndarray:
    """Longest run of consecutive inactive half hours between wake time and bedtime.

    Unit: hours
    Edge cases: null when wake or bed time is null; a gap ends a run.
    """
    with np.errstate(invalid="ignore"):
        awake = (bday_h >= bdays.spread(wake_time_h)) & (bday_h < bdays.spread(bed_time_h))
    run = bdays.longest_run(counted & ~active & awake) * 0.5
    return np.where(np.isnan(wake_time_h) | np.isnan(bed_time_h), np.nan, run)


def breakfast_kwh(excess: np.ndarray, clock_h: np.ndarray, days: Segments) -> np.ndarray:
    """Energy above baseload in the morning cooking window 06:00-09:00.

    Unit: kWh
    """
    return days.sum(excess * _in(clock_h, MORNING))


def lunch_kwh(excess: np.ndarray, clock_h: np.ndarray, days: Segments) -> np.ndarray:
    """Energy above baseload in the noon cooking window 11:00-13:30.

    Unit: kWh
    """
    return days.sum(excess * _in(clock_h, NOON))


def dinner_kwh(excess: np.ndarray, clock_h: np.ndarray, days: Segments) -> np.ndarray:
    """Energy above baseload in the evening cooking window 17:00-20:00.

    Unit: kWh
    """
    return days.sum(excess * _in(clock_h, EVENING))


def meal_kwh(excess: np.ndarray, clock_h: np.ndarray, days: Segments) -> np.ndarray:
    """Energy above baseload in the three cooking windows together (breakfast+lunch+dinner).

    Unit: kWh
    """
    meals = _in(clock_h, MORNING) | _in(clock_h, NOON) | _in(clock_h, EVENING)
    return days.sum(excess * meals)


def meal_windows_active(active: np.ndarray, clock_h: np.ndarray, days: Segments) -> np.ndarray:
    """Cooking windows (morning, noon, evening) with at least 2 active half hours.

    Unit: count (0-3)
    """
    return sum((days.sum(active & _in(clock_h, w)) >= 2).astype(np.int32) for w in (MORNING, NOON, EVENING))


def daytime_floor_h(counted: np.ndarray, active: np.ndarray, clock_h: np.ndarray, days: Segments) -> np.ndarray:
    """Hours between 09:00 and 17:00 at the floor (not active): outing proxy.

    Unit: hours
    Edge cases: counts present half hours only; cannot tell "out" from "collapsed".
    """
    return days.sum(counted & ~active & _in(clock_h, DAYTIME)) * 0.5


def longest_daytime_floor_h(counted: np.ndarray, active: np.ndarray, clock_h: np.ndarray,
                            days: Segments) -> np.ndarray:
    """Longest run of consecutive floor (inactive) half hours between 09:00 and 17:00: outing length.

    Unit: hours
    """
    return days.longest_run(counted & ~active & _in(clock_h, DAYTIME)) * 0.5


def stuck_on_h(kwh: np.ndarray, baseload: np.ndarray, days: Segments) -> np.ndarray:
    """Longest run of consecutive half hours whose load stays at least 0.25 kWh (0.5 kW) above
    the baseload: an elevated floor that never drops back towards standby (a heater, hob or
    iron left on; also long continuous heating).

    Unit: hours
    Edge cases: 0 when no half hour is that high; a gap ends a run. On synthetic data,
    days with an appliance left on average 8 h, other days 2 h.
    """
    with np.errstate(invalid="ignore"):
        elevated = kwh >= days.spread(baseload) + STUCK_MIN_LEVEL_KWH
    return days.longest_run(elevated) * 0.5


def regularity_corr(halfhour_active: np.ndarray, norm_sum: np.ndarray, norm_n: np.ndarray,
                    norm_days: np.ndarray) -> np.ndarray:
    """Pearson correlation of today's 48 clock-half-hour active profile with the mean active
    profile of the valid days among the previous 28.

    Unit: correlation (-1..1)
    Edge cases: null with fewer than 14 valid previous days, or a constant profile today
    (e.g. no activity at all). Clock-change days: the duplicated half hour is active if any
    of its readings is; a skipped half hour is missing.
    """
    # One pass of sums instead of mean-centred copies: four fewer (H, D, 48) temporaries.
    with np.errstate(invalid="ignore", divide="ignore"):
        m = ~np.isnan(halfhour_active) & (norm_n > 0)
        x = np.where(m, halfhour_active, 0.0)
        y = np.where(m, np.divide(norm_sum, norm_n, dtype=np.float64), 0.0)
        n = m.sum(axis=2)
        sx, sy = x.sum(axis=2), y.sum(axis=2)
        cov = np.einsum("hdk,hdk->hd", x, y) - sx * sy / n
        var_x = np.einsum("hdk,hdk->hd", x, x) - sx * sx / n
        var_y = np.einsum("hdk,hdk->hd", y, y) - sy * sy / n
        # A constant profile (today's or the norm) has no correlation: null, not rounding noise.
        flat = (var_x <= 1e-12 * n) | (var_y <= 1e-12 * n)
        corr = np.where(flat, np.nan, cov / np.sqrt(var_x * var_y))
    return np.where((norm_days >= A.REGULARITY_MIN_DAYS) & np.isfinite(corr), corr, np.nan)


FEATURES: list[Callable[..., np.ndarray]] = [
    present_slots, zero_slots, daily_kwh, baseload_kwh, excess_kwh, peak_kwh, peak_time_h,
    active_slots, active_share, night_unreadable, night_activity_share, wake_time_h, bed_time_h, inactive_night_h,
    longest_inactive_run_h, breakfast_kwh, lunch_kwh, dinner_kwh, meal_kwh, meal_windows_active,
    daytime_floor_h, longest_daytime_floor_h, stuck_on_h, night_blips,
]
#: regularity_corr needs the profiles of earlier days (computed by the driver, see profiles.py).
CATALOGUED = [*FEATURES, regularity_corr]

# The output contract is the package's (table columns and integer columns).
from meterrisk.features.daily import ACCOUNTING, BEHAVIOURAL, COLUMNS, INTEGER  # noqa: E402,F401


def evaluate(tl: Timeline, act: A.Activity) -> dict[str, np.ndarray]:
    """Every function in FEATURES on the batch, in order: each one's parameters are looked up
    among the inputs and the features computed before it."""
    values: dict[str, object] = {
        "kwh": tl.kwh, "present": tl.present, "clock_h": tl.clock_h, "bday_h": tl.bday_min / 60.0,
        "days": tl.days, "bdays": tl.bdays, "baseload": act.baseload_kwh, "counted": act.counted,
        "active": act.active, "excess": act.excess_kwh, "sustained_start": act.sustained_start,
        "sustained_end": act.sustained_end, "night_load_on": act.night_load_on,
        "night_wake_start": act.night_wake_start,
    }
    for fn in FEATURES:
        values[fn.__name__] = fn(*(values[p] for p in inspect.signature(fn).parameters))
    return {fn.__name__: values[fn.__name__] for fn in FEATURES}


# ---------------------------------------------------------------- driver

def compute_daily(readings: pl.DataFrame | Timeline, calendar: pl.DataFrame, *,
                  since: pl.DataFrame | None = None,
                  prior: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily features and profiles for the household-days with readings.

    ``readings`` is a Timeline or a frame with household_id, ts_utc, local_ts, kwh;
    ``calendar`` has local_date, expected_slots. The caller passes READ_BEFORE context days
    before the first day it wants and LOOKAHEAD_DAYS after, and keeps only the days it asked for.

    Incremental runs pass ``since`` (household_id, lo: first day wanted) and ``prior``
    (household_id, local_date, halfhour_active: the stored profiles of the 28 days before lo)
    so regularity does not need four weeks of readings. Returns (daily_features, daily_profiles).
    """
    tl = readings if isinstance(readings, Timeline) else Timeline.from_frame(readings)
    act = A.activity(tl, A.baseload(tl))
    f = evaluate(tl, act)
    n_h, n_d = len(tl.households), tl.n_days

    expected = _expected_slots(tl, calendar)
    coverage = np.minimum(f["present_slots"] / expected, 1.0)
    covered = coverage >= A.MIN_COVERAGE
    present = tl.present
    unchanging = covered & (tl.days.max_where(present, tl.kwh) == tl.days.min_where(present, tl.kwh))
    ok = covered & ~np.isnan(f["baseload_kwh"]) & ~unchanging
    has_rows = f["present_slots"] > 0

    halfhours = P.halfhour_active(tl, act)
    first_wanted = _first_wanted(tl, since)
    computed = ok & (np.arange(n_d)[None, :] >= first_wanted[:, None])
    f["regularity_corr"] = _regularity(tl, halfhours, computed, prior, first_wanted)

    for name in BEHAVIOURAL:
        f[name] = np.where(covered if name == "baseload_kwh" else ok, f[name], np.nan)
    f["expected_slots"] = np.broadcast_to(expected, (n_h, n_d))
    f["coverage"] = coverage

    h, d = np.nonzero(has_rows)
    ids = pl.Series("household_id", tl.households, dtype=pl.String)
    dates = pl.Series("local_date", tl.dates())
    flag = np.where(~covered, "low_coverage",
                    np.where(unchanging, "meter_outage", np.where(ok, "ok", "no_baseload")))[h, d]
    day = pl.DataFrame([
        ids.gather(h), dates.gather(d),
        *(pl.Series(c, f[c][h, d], nan_to_null=True, dtype=pl.Int32 if c in INTEGER else pl.Float64)
          for c in ACCOUNTING[:-1]),
        pl.Series("dq_flag", flag),
        *(pl.Series(c, f[c][h, d], nan_to_null=True, dtype=pl.Int32 if c in INTEGER else pl.Float64)
          for c in BEHAVIOURAL),
    ])

    ph, pd_ = np.nonzero(ok)
    excess, active = P.hourly(tl, act)
    hh_active = np.where(computed[..., None], halfhours, np.nan)[ph, pd_]
    prof = pl.DataFrame([
        ids.gather(ph), dates.gather(pd_),
        _lists("hourly_excess_kwh", excess[ph, pd_], pl.Float64),
        _lists("hourly_active_slots", active[ph, pd_], pl.Int32),
        _lists("halfhour_active", hh_active, pl.Int8),
    ]).with_columns(pl.when(pl.Series(computed[ph, pd_])).then(pl.col("halfhour_active")))
    return day, prof


def _lists(name: str, rows: np.ndarray, dtype: pl.DataType) -> pl.Series:
    """(n, k) array -> list column, NaN -> null."""
    flat = pl.Series(name, rows.reshape(-1), nan_to_null=True).cast(dtype)
    return flat.reshape((rows.shape[0], rows.shape[1])).arr.to_list().alias(name)


def _expected_slots(tl: Timeline, calendar: pl.DataFrame) -> np.ndarray:
    dates = pl.DataFrame({"local_date": tl.dates()})
    got = dates.join(calendar.select("local_date", "expected_slots"), on="local_date", how="left")
    return got["expected_slots"].fill_null(48).cast(pl.Float64).to_numpy()[None, :]


def _first_wanted(tl: Timeline, since: pl.DataFrame | None) -> np.ndarray:
    """Per household, the first day (timeline index) whose regularity is computed here."""
    first = np.zeros(len(tl.households), dtype=np.int64)
    if since is not None and since.height:
        lo = pl.DataFrame({"household_id": tl.households}).join(
            since.select("household_id", lo=pl.col("lo").cast(pl.Date)), on="household_id", how="left")
        days = (lo["lo"].cast(pl.Int32).to_numpy(allow_copy=True).astype(np.float64) - tl.first_day)
        first = np.where(np.isnan(days), 0, days).astype(np.int64)
    return first


def _regularity(tl: Timeline, halfhours: np.ndarray, computed: np.ndarray, prior: pl.DataFrame | None,
                first_wanted: np.ndarray) -> np.ndarray:
    """regularity_corr for the computed days; the 28-day norm comes from computed valid days
    and, before each household's first wanted day, from the stored profiles in ``prior``."""
    n_h, n_d = computed.shape
    ph = pd_ = None
    if prior is not None and prior.height:
        idx = pl.DataFrame({"household_id": tl.households}).with_row_index("hh")
        rows = prior.join(idx, on="household_id").with_columns(
            day=pl.col("local_date").cast(pl.Int32) - tl.first_day)
        ph, pd_ = rows["hh"].to_numpy().astype(np.int64), rows["day"].to_numpy().astype(np.int64)
        keep = pd_ < first_wanted[ph]
        rows, ph, pd_ = rows.filter(pl.Series(keep)), ph[keep], pd_[keep]
    lead = max(0, -int(pd_.min())) if ph is not None and len(pd_) else 0
    # Day axis extended back to the earliest stored profile.
    prof = np.full((n_h, n_d + lead, 48), np.nan)
    valid = np.zeros((n_h, n_d + lead), dtype=bool)
    prof[:, lead:] = halfhours
    valid[:, lead:] = computed
    if ph is not None and len(ph):
        stored = rows["halfhour_active"].list.to_array(48).cast(pl.Array(pl.Float64, 48)).to_numpy()
        prof[ph, pd_ + lead] = stored
        valid[ph, pd_ + lead] = True
    norm_sum, norm_n, norm_days = P.regularity_norm(prof, valid)
    corr = regularity_corr(prof, norm_sum, norm_n, norm_days)[:, lead:]
    return np.where(computed, corr, np.nan)
