"""Outages are not inactivity: exact-zero runs, implausible flat lines and gaps.

A meter that reports exactly 0 kWh for a day, one that repeats the same value to the last
digit for many hours, and one that reports nothing are data-quality events for the household
(``meter_outage`` / ``no_data``, severity ``data``), not a still home. Their half hours are
*unreadable*: the inactivity rules see them as gaps (never as stillness), so an outage cannot
raise ``no_activity_after_usual_wake`` or ``long_inactive_run``.

What is unusual is judged against the home's own history, because some real homes read
exactly 0 kWh in normal use (one London home reads 0 in 77% of its half hours; others at
night only, when nothing is on): a zero run is unreadable only once it is longer than the
home's ordinary days have (at once in a home that never reads 0).

Every test here is causal: whether half hour t is unreadable, and whether an event fires at
t, depend only on half hours up to t (and the history), so an intraday run sees exactly what
the day's batch would have seen up to its last half hour (see tests/test_alert_intraday.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SLOTS = 48


@dataclass(frozen=True)
class QualityParams:
    zero_run_quantile: float = 0.95    # an ordinary day's longest zero run: this quantile over the history
    outage_slots: int = 12             # an unreadable run of 6 h is reported as a meter_outage
    repeat_ordinary_slots: int = 3     # a value repeated exactly beyond this and the history's longest: unreadable
    repeat_min_slots: int = 12         # the same non-zero value 6 h on end ...
    repeat_extra: int = 4              # ... and 2 h longer than any repeat of the history: a stuck meter
    gap_slots: int = 12                # 6 h without readings (before the last half hour received): no_data


@dataclass
class QualityEvent:
    kind: str
    slot: int
    since: int
    message: str


def _runs(member: np.ndarray) -> np.ndarray:
    """1-D: length of the run of ``member`` ending at each index (0 where not a member)."""
    idx = np.arange(len(member))
    last = np.maximum.accumulate(np.where(member, -1, idx))
    return np.where(member, idx - last, 0)


def _repeat_runs(x: np.ndarray) -> np.ndarray:
    """1-D: how many half hours on end the value at each index has been exactly the same (>= 1)."""
    same = np.zeros(len(x), dtype=bool)
    with np.errstate(invalid="ignore"):
        same[1:] = np.isfinite(x[1:]) & (x[1:] == x[:-1])
    idx = np.arange(len(x))
    last = np.maximum.accumulate(np.where(same, -1, idx))
    return np.where(np.isfinite(x), idx - last + 1, 0)


@dataclass(frozen=True)
class HomeNorms:
    """What this home's own history says is ordinary for zeros and exact repeats."""
    longest_zero_run: int       # an ordinary day's longest zero run (95th percentile over the history)
    longest_repeat_run: int     # longest exact repeat of a non-zero value shorter than twice the stuck threshold


def home_norms(hist: np.ndarray, q: QualityParams) -> HomeNorms:
    good = np.isfinite(hist).sum(axis=1) >= 40
    # near all-zero days are left out, and a high quantile rather than the maximum is taken:
    # past outages are not what the home does
    ordinary = good & ((hist == 0).sum(axis=1) <= SLOTS - 8)
    if ordinary.any():
        # a day's own longest zero run (runs restart at midnight)
        per_day = np.array([_runs(row == 0).max() for row in hist[ordinary]])
        longest_zero = int(np.quantile(per_day, q.zero_run_quantile))
    else:
        longest_zero = 0
    x = hist.ravel()
    rr = np.where(x != 0, _repeat_runs(x), 0)
    rr = rr[rr < q.repeat_min_slots * 2]        # a past stuck meter does not make the next one ordinary
    return HomeNorms(longest_zero, int(rr.max()) if rr.size else 0)


def unreadable(x: np.ndarray, norms: HomeNorms, q: QualityParams) -> np.ndarray:
    """1-D boolean: half hours of ``x`` (days concatenated, oldest first) that are not a reading
    of the home's use: a zero run longer than this home's ordinary days have (from the half
    hour it becomes so; in a home that never reads 0, from its first zero), and a non-zero value
    repeated exactly for longer than the home's history ever did (from the half hour it becomes
    so: a live meter's readings move in the last digit, a stuck one's do not)."""
    zero_bad = _runs(np.isfinite(x) & (x == 0)) > norms.longest_zero_run
    return zero_bad | (_repeats(x) > max(q.repeat_ordinary_slots, norms.longest_repeat_run + 1))


def _repeats(x: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(x) & (x != 0), _repeat_runs(x), 0)


def stuck_meter(x: np.ndarray, norms: HomeNorms, q: QualityParams) -> np.ndarray:
    """1-D: the run length where a non-zero value has repeated exactly long enough to call the
    meter stuck (``repeat_min_slots``, and ``repeat_extra`` past the history's longest), else 0."""
    rep = _repeats(x)
    return np.where(rep >= max(q.repeat_min_slots, norms.longest_repeat_run + q.repeat_extra), rep, 0)


def quality_events(yesterday: np.ndarray, today: np.ndarray, norms: HomeNorms, q: QualityParams,
                   upto: int) -> tuple[np.ndarray, list[QualityEvent]]:
    """(unreadable half hours of ``today``, data-quality events of today up to half hour ``upto``).

    ``yesterday`` lets a run that began last evening count (an outage is one run across
    midnight). Events fire at the half hour they become true: ``meter_outage`` when an
    unreadable run reaches ``outage_slots``, ``no_data`` when readings have been missing for
    ``gap_slots`` (only half hours up to ``upto``, the last one received, can be missing).
    """
    n = len(today)
    t = today.copy()
    t[upto + 1:] = np.nan
    x = np.concatenate([yesterday, t])
    bad = unreadable(x, norms, q)
    # a stuck value counts from its first half hour once it is known to be stuck
    bad_run = np.maximum(_runs(bad), stuck_meter(x, norms, q))[-n:]
    missing = ~np.isfinite(x)
    missing[len(yesterday) + upto + 1:] = False          # not received yet is not missing
    gap_run = _runs(missing)[-n:]
    events = []
    for kind, run, need, what in (("meter_outage", bad_run, q.outage_slots, "readings of exactly 0 kWh or one value "
                                   "repeated to the last digit, unlike this home's own history"),
                                  ("no_data", gap_run, q.gap_slots, "no readings received")):
        hit = np.flatnonzero(run[: upto + 1] >= need)
        if hit.size:
            s = int(hit[0])
            since = s - int(run[s]) + 1
            events.append(QualityEvent(kind, s, since, f"{what} for {run[s] / 2:.1f} h "
                                       "(a meter or data problem, not a sign of inactivity; check the meter feed)"))
    return bad[-n:], events
