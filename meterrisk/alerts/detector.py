"""Same-day inactivity detector: today against the household's own previous 12 weeks.

Works on one household at a time with a (days x 48) matrix of half-hour kWh (NaN = missing),
so it runs the same on the store, on a synthetic cohort and on the London files.

A half hour is *active* when its use rises above the household's floor (a low quantile of its
recent use plus a noise margin) and is not part of a flat line (use that has not moved for
three hours). The second test makes a load that is stuck on (heater, hob) count as inactive
after a while, so a collapse with an appliance left on is still seen as a still home; when the
flat line is well above the floor and very flat (something left on, nothing else happening),
it counts as still from its first half hour once that is known (see :func:`still_known`).

Rules (each fires at most once per household and day, at the half hour it is first met):

- ``no_activity_after_usual_wake``: no sustained activity from 04:00 until the usual wake slot
  plus a margin that grows with how much the wake time varies (1.5-3 h).
- ``long_inactive_run``: by default, since the last activity the still spell has missed more
  *expected* activity (the sum of the usual per-slot activity probabilities) than the
  largest still spell of the previous 12 weeks (``DetectorParams.mass_rule``). With the opt-in
  clock-time rules (``DetectorParams.clock_time()``): the still spell in progress (it may have
  begun yesterday evening) began at clock time c and has lasted longer than any still spell
  of the previous 4 weeks that was in progress around c, by a margin learnt from the home's
  own history. See :func:`usual_still_reach`. They catch collapses sooner on synthetic
  residents but alert more on real London homes, hence opt-in.
- ``stuck_on``: use above the floor and nearly constant for many hours, longer than anything in
  the previous 12 weeks.

Whole-home electricity cannot tell "out" from "collapsed": the messages say so, and known
absences (table ``absences``) suppress alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from meterrisk.alerts.quality import QualityParams, home_norms, quality_events, unreadable

SLOTS = 48
#: Days of the household's own history a day is judged against (DetectorParams.history_days).
#: 12 weeks, not 4: a day that merely sets a 4-week record is a 1-in-29 event for any home,
#: which alone made about 2 false alerts per 100 household-days on the London homes.
HISTORY_DAYS = 84
MIN_HISTORY_DAYS = 14
WAKE_FROM = 8            # 04:00: earlier activity is night-time, not waking up


@dataclass(frozen=True)
class DetectorParams:
    floor_quantile: float = 0.10
    min_delta_kwh: float = 0.03        # smallest rise above the floor that counts as activity
    noise_factor: float = 2.0          # x (20th - 10th percentile): fridge cycling and standby noise
    past_min_slots: int = 6            # a line flat for this many half hours (3 h) is not activity
    wake_margin_min: int = 3           # half hours after the usual wake (1.5 h)
    wake_margin_max: int = 6           # at most 3 h after the usual wake
    wake_quantile: float = 1.0         # deadline = this quantile of past wake slots + 1 h (clamped)
    wake_late_share: float = 0.0       # wake rule only if at most this share of usual days woke later
    history_days: int = HISTORY_DAYS   # days of own history: floor, usual pattern and records
    run_factor: float = 1.5            # current spell must exceed the history's max by this factor (1.25 until issue 13)
    run_extra: float = 0.5             # ... plus this many expected active half hours
    run_min_expected: float = 2.5      # and cover at least this many expected active half hours
    run_min_slots: int = 4             # and last at least 2 h
    run_rank: int = 1                  # compare with the k-th largest daily still spell (1 = max)
    stuck_min_slots: int = 20          # 10 h (8 h until issue 13: most stuck_on alerts were appliances left on)
    stuck_rel_range: float = 0.25      # (max - min) / median within the stuck spell
    floor_day_share: float = 0.05      # history days with less activity are absences: ignored
    mass_rule: bool = True             # long_inactive_run by expected activity missed (the standard rules)
    mass_night: bool = False           # ... with still spells across midnight and mornings without a wake-up
    retro_min_kwh: float = 99.0        # flat lines still from their start only this far above the floor (99: never)
    retro_rel: float = 0.02            # ... and has moved by at most min_delta_kwh + 2% of its level
    retro_flat: bool = False           # a flat line counts as still from its start, once known
    spell_rule: bool = False           # long_inactive_run by the clock-time still-spell model (below)
    spell_tol_slots: int = 2           # history spells still at any time in [c, c + 1 h] count for c
    spell_margin_slots: int = 1        # fire this many half hours after the latest usual end
    spell_min_slots: int = 4           # and only once the spell has lasted 2 h
    spell_factor: float = 2.0          # margin = factor x the largest leave-one-day-out surprise
    spell_extra: float = 3.0           # ... + this many half hours
    spell_rel: float = 0.0             # ... + this share of the usual spell length past c
    spell_unseen_only: bool = False    # clock-time test only at clock times never still in the history

    @classmethod
    def clock_time(cls, **changes) -> DetectorParams:
        """The clock-time rules: ``long_inactive_run`` by the still-spell model and flat lines
        still from their start, against 4 weeks of history (as measured). Against the standard
        rules with the same 4 weeks, on unseen synthetic residents they catch more collapses
        sooner (85.5% vs 82%, 28% vs 25% within 4 h, 0.81 vs 0.87 false alerts per 100
        household-days), but on the London homes they raise false alerts from 2.14 to 3.52 per
        100, so they are opt-in (``meterrisk alerts --rules clock-time``); docs/alerts.md."""
        return cls(**{"mass_rule": False, "retro_min_kwh": 0.06, "retro_flat": True, "spell_rule": True,
                      "history_days": 28, **changes})


#: Named rule sets for the CLI and flows; "standard" is the default.
RULES = {"standard": DetectorParams, "clock-time": DetectorParams.clock_time}


@dataclass
class Alert:
    kind: str
    slot: int                          # half hour of the local day at which it fired
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)


def day_matrices(long: pl.DataFrame, *, start: date | None = None,
                 n_days: int | None = None) -> dict[str, tuple[list[date], np.ndarray]]:
    """household_id, local_date, slot, kwh -> {household: (dates, days x 48 kWh, NaN = gap)}.

    Each household's rows run from ``start`` for ``n_days`` days, or by default over its own
    span (first to last date with a reading); dates without a reading are all-NaN rows. The
    day index is computed once for all rows, then each household is one numpy scatter.
    """
    long = long.filter(pl.col("slot") < SLOTS)
    if long.height == 0:
        return {}
    first = pl.lit(start) if start is not None else pl.col("local_date").min().over("household_id")
    long = (long.with_columns(first=first, di=(pl.col("local_date") - first).dt.total_days())
            .sort("household_id"))
    ids = long["household_id"].to_numpy()
    di, slot, kwh = long["di"].to_numpy(), long["slot"].to_numpy(), long["kwh"].to_numpy()
    starts = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist()]
    out = {}
    for lo, hi, d0 in zip(starts, [*starts[1:], len(ids)], long["first"].gather(starts).to_list()):
        n = n_days if n_days is not None else int(di[lo:hi].max()) + 1
        X = np.full((n, SLOTS), np.nan)
        X[di[lo:hi], slot[lo:hi]] = kwh[lo:hi]
        out[ids[lo]] = ([d0 + timedelta(days=i) for i in range(n)], X)
    return out


def _hhmm(slot: float) -> str:
    m = int(round(slot * 30))
    return f"{(m // 60) % 24:02d}:{m % 60:02d}"


def floor_level(hist: np.ndarray, p: DetectorParams) -> float:
    """kWh per half hour above which a half hour may be active.

    The 10th percentile of recent use plus a noise margin: ``noise_factor`` x the gap between
    the 20th and 10th percentiles (standby and fridge cycling), at least ``min_delta_kwh``.
    Percentiles over all hours, not night hours, so night-time water heating in all-electric
    homes does not lift the floor above the day's activity.
    """
    vals = hist[np.isfinite(hist)]
    base, q20 = (float(v) for v in np.quantile(vals, [p.floor_quantile, 0.2]))
    return base + max(p.min_delta_kwh, p.noise_factor * (q20 - base))


def active_matrix(x: np.ndarray, floor: float, p: DetectorParams, before: np.ndarray | None = None) -> np.ndarray:
    """Active half hours of rows of ``x`` (days x slots); ``before`` = the day(s) preceding each row.

    Active = above the floor and not part of a flat line: over the last ``past_min_slots``
    half hours (3 h) the use has moved by more than ``min_delta_kwh`` (plus 10% of the level).
    A load left on at a steady level therefore turns inactive after 3 h.
    """
    rows, n = x.shape
    k = p.past_min_slots
    prev = np.full((rows, k), np.nan) if before is None else before[:, -k:]
    ext = np.concatenate([prev, x], axis=1)
    lo = x.copy()
    hi = x.copy()
    for j in range(1, k):
        w = ext[:, k - j: k - j + n]
        lo = np.fmin(lo, w)
        hi = np.fmax(hi, w)
        # a gap in the window means we cannot call the line flat
        hi = np.where(np.isnan(w), np.inf, hi)
    flat = (hi - lo) <= p.min_delta_kwh + 0.1 * x
    return (x > floor) & ~flat & np.isfinite(x)


def still_known(x: np.ndarray, floor: float, p: DetectorParams) -> np.ndarray:
    """1-D: index of the half hour at which each half hour is *known* to be still (inf: never).

    A half hour at or below the floor is still at once. One above it is still at the end of
    a flat window: ``past_min_slots`` half hours (3 h) that have moved by at most
    ``min_delta_kwh`` + 10% of the level (as in :func:`active_matrix`). When the whole window is
    well above the floor (``retro_min_kwh``) and flatter still (``retro_rel``), i.e. something
    left on and nothing else happening, every half hour of it counts as still from the start:
    a heater left on from 10:00 is seen at 13:00 as still *since 10:00* (a live system knows
    this at 13:00, not earlier). Missing half hours are never still.
    """
    n, k = len(x), p.past_min_slots
    idx = np.arange(n)
    known = np.full(n, np.inf)
    if n >= k:
        w = np.lib.stride_tricks.sliding_window_view(x, k)
        lo, hi, now = w.min(axis=1), w.max(axis=1), x[k - 1:]
        with np.errstate(invalid="ignore"):
            flat = (hi - lo) <= p.min_delta_kwh + 0.1 * now          # NaN in a window: False
            retro = flat & (lo > floor + p.retro_min_kwh) & ((hi - lo) <= p.min_delta_kwh + p.retro_rel * now)
        ends = idx[k - 1:]
        known[ends[flat]] = ends[flat]
        for j in range(k):                    # each half hour of a retro window: known at its end
            known[ends[retro] - j] = np.minimum(known[ends[retro] - j], ends[retro])
    with np.errstate(invalid="ignore"):
        low = np.isfinite(x) & (x <= floor)
    known[low] = idx[low]
    return known


def usual_still_reach(hist: np.ndarray, floor: float, p: DetectorParams) -> tuple[np.ndarray, float]:
    """How long still spells usually last by clock time, and how surprising this home's spells are.

    ``hist`` is days x 48 in date order, with days to ignore set to NaN (they break spells).
    Spells run across midnight (a night's sleep is one spell).

    Returns ``reach`` (48,): for each clock half hour c, how many half hours past c the
    longest still spell of the history lasted, among spells still at some time in
    [c, c + ``spell_tol_slots``] (-inf where the history has no stillness then, e.g. the
    evening of a home always busy after dinner); and ``surprise``: the largest excess, in
    half hours, of any history spell (at least ``spell_min_slots`` long) over the same reach
    computed without its own day. A home whose still spells are irregular (long naps, outings
    at any hour) has a large surprise and so a large margin: the rule adapts to it.
    """
    x = hist.ravel()
    n = len(x)
    still = np.isfinite(still_known(x, floor, p))
    idx = np.arange(n)
    nxt = np.minimum.accumulate(np.where(still, n, idx)[::-1])[::-1]   # next non-still index
    end = np.where(still, nxt - 1, -np.inf)                            # last slot of the spell
    best = end.copy()
    for j in range(1, p.spell_tol_slots + 1):
        best[: n - j] = np.maximum(best[: n - j], end[j:])
    R = (best - idx).reshape(-1, SLOTS)
    order = np.argsort(R, axis=0)
    top1_row = order[-1]
    top1 = R[top1_row, np.arange(SLOTS)]
    top2 = R[order[-2], np.arange(SLOTS)] if len(R) > 1 else np.full(SLOTS, -np.inf)
    prev = np.concatenate([[False], still[:-1]])
    starts = np.flatnonzero(still & ~prev)
    if not starts.size:
        return top1, 0.0
    ext = end[starts] - starts
    row, col = starts // SLOTS, starts % SLOTS
    loo = np.where(top1_row[col] == row, top2[col], top1[col])
    excess = ext - np.maximum(loo, -1)
    long_enough = ext + 1 >= p.spell_min_slots
    surprise = float(excess[long_enough].max()) if long_enough.any() else 0.0
    return top1, max(surprise, 0.0)


def current_spells(x: np.ndarray, floor: float, p: DetectorParams, n_today: int = SLOTS) -> np.ndarray:
    """Start index (into ``x``) of the still spell in progress at each of the last ``n_today``
    half hours of ``x``, as known at that half hour; -1 where that half hour is not still.

    ``x`` is the days before today and today, concatenated (1-D), so a spell can have begun
    yesterday evening.
    """
    n = len(x)
    known = still_known(x, floor, p)
    now = np.arange(n - n_today, n)
    idx = np.arange(n)
    breaks = (known[None, :] > now[:, None]) & (idx[None, :] <= now[:, None])   # not still as of `now`
    last_break = np.where(breaks, idx[None, :], -1).max(axis=1)
    start = last_break + 1
    return np.where(known[now] <= now, start, -1)


def wake_slots(active: np.ndarray) -> np.ndarray:
    """First slot >= 04:00 starting two active half hours out of three; NaN if none."""
    a = active.astype(int)
    nxt = np.zeros_like(a)
    nxt[:, :-1] += a[:, 1:]
    nxt[:, :-2] += a[:, 2:]
    start = (a == 1) & (nxt >= 1)
    start[:, :WAKE_FROM] = False
    out = np.full(active.shape[0], np.nan)
    has = start.any(axis=1)
    out[has] = np.argmax(start[has], axis=1)
    return out


def _run_mass(active: np.ndarray, prob: np.ndarray, window: np.ndarray, gap: np.ndarray | None = None) -> np.ndarray:
    """Expected activity covered by the still spell ending at each slot (reset at activity and
    at a gap: a half hour without a reading is never stillness)."""
    reset = active if gap is None else (active | gap)
    w = prob * window * (~reset)
    c = np.cumsum(w, axis=1)
    at_active = np.where(reset, c, 0.0)
    last = np.maximum.accumulate(at_active, axis=1)
    return c - last


def _stuck_runs(x: np.ndarray, floor: float, p: DetectorParams) -> np.ndarray:
    """Length (half hours) of the near-constant elevated spell ending at each slot (rows = days).

    A half hour continues a spell when its use is above the floor and within
    ``stuck_rel_range`` (relative) of the previous half hour's.
    """
    x = np.atleast_2d(x)
    prev = np.concatenate([np.full((x.shape[0], 1), np.nan), x[:, :-1]], axis=1)
    elevated = np.isfinite(x) & (x > floor + p.min_delta_kwh)
    steady = elevated & (np.abs(x - prev) <= p.stuck_rel_range * np.fmax(prev, 1e-9) / 2 + 0.005)
    return _run_lengths(elevated, steady)


def _run_lengths(member: np.ndarray, continues: np.ndarray) -> np.ndarray:
    """Length of the spell ending at each slot: a slot in ``member`` starts a spell unless it
    ``continues`` the previous one (rows are independent)."""
    t = np.arange(member.shape[1])
    idx = np.where(continues & member, -1, t)
    last = np.maximum.accumulate(idx, axis=1)
    return np.where(member, t - last + 1, 0)


def detect_day(hist: np.ndarray, today: np.ndarray, p: DetectorParams | None = None, *,
               upto: int | None = None, quality: QualityParams | None = None) -> list[Alert]:
    """Alerts for ``today`` (48 kWh values, NaN = missing) given ``hist`` (days x 48, oldest first).

    ``upto``: the last half hour of today received so far (intraday runs; default: the whole
    day). Every rule is causal: an alert at half hour t depends only on half hours up to t, so
    a run with ``upto = s`` returns exactly the whole day's alerts at slots <= s.

    Data-quality events (``meter_outage``, ``no_data``: severity ``data``, see
    :mod:`meterrisk.alerts.quality`) come first; their half hours are gaps for the inactivity
    rules. Returns [] when there is too little history. A gap in the data is never read as
    inactivity.
    """
    p = p or DetectorParams()
    q = quality or QualityParams()
    hist = hist[-p.history_days:, :SLOTS]
    today = np.array(today[:SLOTS], dtype=float)
    upto = SLOTS - 1 if upto is None else min(int(upto), SLOTS - 1)
    if upto < 0:
        return []
    today[upto + 1:] = np.nan
    good = np.isfinite(hist).sum(axis=1) >= 40
    if good.sum() < MIN_HISTORY_DAYS:
        return []
    norms = home_norms(hist, q)
    bad_today, events = quality_events(hist[-1], today, norms, q, upto)
    alerts: list[Alert] = [Alert(e.kind, e.slot, "data", e.message, {"since_slot": e.since, "run_slots": e.slot - e.since + 1})
                           for e in events]
    # outage half hours are gaps, in the history (past outages are not the home's usual day) and today
    hist = np.where(unreadable(hist.ravel(), norms, q).reshape(hist.shape), np.nan, hist)
    today = np.where(bad_today, np.nan, today)
    good = np.isfinite(hist).sum(axis=1) >= 40
    if good.sum() < MIN_HISTORY_DAYS or not np.isfinite(today).any():
        return alerts
    alerts.extend(_inactivity(hist, today, good, p))
    return alerts


def _inactivity(hist: np.ndarray, today: np.ndarray, good: np.ndarray, p: DetectorParams) -> list[Alert]:
    floor = floor_level(hist[good], p)
    before = np.vstack([np.full((1, SLOTS), np.nan), hist[:-1]])
    if p.retro_flat:      # full hindsight for past days: a flat line is still from its start
        act_h = ~np.isfinite(still_known(hist.ravel(), floor, p)).reshape(hist.shape) & np.isfinite(hist)
    else:
        act_h = active_matrix(hist, floor, p, before)
    usual = good & (act_h.mean(axis=1) >= p.floor_day_share)     # drop away / floor days
    if usual.sum() < MIN_HISTORY_DAYS:
        return []
    act_all = act_h & usual[:, None]
    act_h, hist_u = act_h[usual], hist[usual]
    prob = act_h.mean(axis=0)
    wakes = wake_slots(act_h)
    if np.isnan(wakes).mean() > 0.5:
        return []
    w_med = float(np.nanmedian(wakes))
    w_q90 = float(np.nanquantile(wakes, p.wake_quantile))
    any_act = act_h.any(axis=1)
    last_active = np.where(any_act, SLOTS - 1 - np.argmax(act_h[:, ::-1], axis=1), np.nan)
    bed = float(np.nanmedian(last_active))
    act_d = active_matrix(today[None, :], floor, p, hist[-1:])[0]
    gap_d = ~np.isfinite(today)
    alerts: list[Alert] = []

    # -- no activity after the usual wake
    deadline = int(np.clip(np.ceil(w_q90) + 2, w_med + p.wake_margin_min, w_med + p.wake_margin_max))
    wake_today = wake_slots(act_d[None, :])[0]
    look_from = int(max(WAKE_FROM, w_med - 4))
    # Only for homes whose mornings are regular: on every usual day of the history something
    # happened by the deadline. Irregular homes (late weekends, shift work) get no wake alert.
    late_days = float(np.mean(np.isnan(wakes) | (wakes > deadline)))
    regular = late_days <= p.wake_late_share
    if regular and deadline < SLOTS and np.isfinite(today[look_from:deadline + 1]).all():
        if not act_d[look_from:deadline + 1].any():
            alerts.append(Alert(
                "no_activity_after_usual_wake", deadline, "high",
                f"no activity above standby by {_hhmm(deadline + 1)}; usually up by {_hhmm(w_med)} "
                "(out early, away, or unwell: electricity alone cannot tell)",
                {"usual_wake": _hhmm(w_med), "usual_wake_slot": w_med, "deadline_slot": deadline,
                 "floor_kwh": round(floor, 4)},
            ))

    # -- long still spell: the earlier of two tests (expected activity missed; clock time)
    runs: list[Alert] = []
    if p.mass_rule and p.mass_night:
        runs.extend(_night_mass_alert(hist, today, usual, act_all, act_d, prob, w_med, bed, floor, p))
    elif p.mass_rule:
        slots = np.arange(SLOTS)
        win_h = np.zeros_like(act_h, dtype=float)
        for i, w in enumerate(wakes):
            start = WAKE_FROM if np.isnan(w) else int(w)
            win_h[i, start: int(bed) + 1] = 1.0
        mass_h = _run_mass(act_h, prob, win_h, ~np.isfinite(hist_u))
        daily = np.sort(mass_h.max(axis=1))[::-1] if mass_h.size else np.zeros(1)
        hist_max = float(daily[min(p.run_rank, len(daily)) - 1])
        threshold = max(p.run_min_expected, p.run_factor * hist_max + p.run_extra)
        if not np.isnan(wake_today) and wake_today <= deadline:
            win_d = ((slots >= wake_today) & (slots <= bed)).astype(float)
            if p.retro_flat:
                # a flat line is still from its first half hour once it is known to be flat
                start = current_spells(np.concatenate([hist[-1], today]), floor, p) - SLOTS
                run_start = np.maximum(start, 0)
                run_len = np.where(start >= -SLOTS, slots - run_start + 1, 0)
                cum = np.concatenate([[0.0], np.cumsum(prob * win_d)])
                mass_d = np.where(run_len > 0, cum[slots + 1] - cum[run_start], 0.0)
            else:
                mass_d = _run_mass(act_d[None, :], prob, win_d[None, :], gap_d[None, :])[0]
                still = (~act_d & ~gap_d)[None, :]
                prev_still = np.concatenate([[False], still[0, :-1]])[None, :]
                run_len = _run_lengths(still, prev_still)[0]
            hit = np.flatnonzero((mass_d >= threshold) & (run_len >= p.run_min_slots) & np.isfinite(today))
            if hit.size:
                runs.append(_mass_alert(int(hit[0]), run_len, mass_d, threshold, w_med, floor))
    if p.spell_rule:
        runs.extend(_spell_alert(hist, today, usual, floor, w_med, p))
    if runs:
        alerts.append(min(runs, key=lambda r: r.slot))

    # -- stuck-on load
    hist_stuck = int(_stuck_runs(hist_u, floor, p).max()) if len(hist_u) else 0
    stuck = _stuck_runs(today, floor, p)[0]
    need = max(p.stuck_min_slots, hist_stuck + 2)
    hit = np.flatnonzero(stuck >= need)
    if hit.size:
        t = int(hit[0])
        since = t - stuck[t] + 1
        level = float(np.median(today[since: t + 1]))
        alerts.append(Alert(
            "stuck_on", t, "medium",
            f"use stuck at {level:.2f} kWh per half hour for {stuck[t] / 2:.1f} h since {_hhmm(since)} "
            "(appliance left on, possibly with nobody able to switch it off)",
            {"since_slot": since, "run_slots": int(stuck[t]), "level_kwh": round(level, 3),
             "longest_in_history_slots": hist_stuck, "history_days": p.history_days,
             "usual_wake": _hhmm(w_med), "usual_wake_slot": w_med},
        ))
    return alerts


def _night_mass_alert(hist, today, usual, act_all, act_d, prob, w_med, bed, floor, p: DetectorParams) -> list[Alert]:
    """``long_inactive_run`` by expected activity missed, with still spells that run across
    midnight (``DetectorParams.mass_night``): a still evening that runs on into a morning
    without a wake-up is one spell, and a morning without a wake-up counts from the usual wake.

    The expected activity of a day runs from the earlier of its wake-up and the usual wake
    to the usual bedtime; the history's largest spell (its late mornings included, so a home
    that often sleeps in has a high threshold) sets the bar, as in the daily rule."""
    n = len(hist)
    slots = np.arange(SLOTS)
    wakes_all = wake_slots(act_all)
    start = np.where(np.isnan(wakes_all), w_med, np.fmin(wakes_all, w_med)).astype(int)
    win_h = ((slots[None, :] >= start[:, None]) & (slots[None, :] <= bed)).astype(float)
    gap_h = ~np.isfinite(hist) | ~usual[:, None]
    mass_h = _run_mass(act_all.reshape(1, -1), np.tile(prob, n), win_h.reshape(1, -1), gap_h.reshape(1, -1))[0]
    hist_max = float(mass_h.max()) if mass_h.size else 0.0
    threshold = max(p.run_min_expected, p.run_factor * hist_max + p.run_extra)
    wake_today = wake_slots(act_d[None, :])[0]
    t0 = int(w_med if np.isnan(wake_today) else min(wake_today, w_med))
    win_d = ((slots >= t0) & (slots <= bed)).astype(float)
    gap_d = ~np.isfinite(today)
    act2 = np.concatenate([act_all[-1], act_d])[None, :]
    gap2 = np.concatenate([gap_h[-1], gap_d])[None, :]
    mass_d = _run_mass(act2, np.tile(prob, 2), np.concatenate([win_h[-1], win_d])[None, :], gap2)[0][SLOTS:]
    still = ~act2 & ~gap2
    run_len = _run_lengths(still, np.concatenate([[[False]], still[:, :-1]], axis=1))[0][SLOTS:]
    hit = np.flatnonzero((mass_d >= threshold) & (run_len >= p.run_min_slots) & np.isfinite(today))
    return [_mass_alert(int(hit[0]), run_len, mass_d, threshold, w_med, floor)] if hit.size else []


def _mass_alert(t: int, run_len, mass_d, threshold: float, w_med: float, floor: float) -> Alert:
    """The ``long_inactive_run`` alert of the expected-activity test, fired at half hour ``t``."""
    since = t - int(run_len[t]) + 1
    day_note = "" if since >= 0 else " yesterday"
    return Alert(
        "long_inactive_run", t, "high",
        f"no activity for {run_len[t] / 2:.1f} h since {_hhmm(since)}{day_note}, at times this home is "
        "usually active (out, or unwell: electricity alone cannot tell)",
        {"since_slot": since, "run_slots": int(run_len[t]), "expected_active_slots": round(float(mass_d[t]), 2),
         "threshold": round(threshold, 2), "usual_wake": _hhmm(w_med), "usual_wake_slot": w_med,
         "floor_kwh": round(floor, 4)},
    )


def _spell_alert(hist, today, usual, floor, w_med, p: DetectorParams) -> list[Alert]:
    """``long_inactive_run`` by clock time: the still spell in progress began at clock time c
    and has now lasted longer than any still spell of the history that was in progress
    around c (within ``spell_tol_slots``), by a margin of ``spell_factor`` x the home's own
    surprise (see :func:`usual_still_reach`) + ``spell_extra`` half hours; at least
    ``spell_min_slots`` long. A home that is often out from 10:00 to 14:00 is only flagged
    well after 14:00; one never still after dinner is flagged about 2 h into a still evening.
    ``usual_latest_end_slot`` in the evidence counts from midnight of the day the spell began.
    """
    h = np.where(usual[:, None], hist, np.nan)
    reach, surprise = usual_still_reach(h, floor, p)
    margin = max(p.spell_margin_slots, p.spell_factor * surprise + p.spell_extra)
    x = np.concatenate([hist[-2:].ravel(), today])
    n0 = len(x) - SLOTS
    start = current_spells(x, floor, p)
    t = np.arange(SLOTS)
    ok = start >= 0
    c = np.where(ok, (start - n0) % SLOTS, 0)
    ext = n0 + t - start                               # half hours past the spell's first one
    hit = np.flatnonzero(ok & (ext > np.maximum(reach[c], -1) * (1 + p.spell_rel) + margin)
                      & (np.isneginf(reach[c]) | (not p.spell_unseen_only)) & (ext + 1 >= p.spell_min_slots))
    if not hit.size:
        return []
    t0 = int(hit[0])
    since, c0, length = int(start[t0]) - n0, int(c[t0]), int(ext[t0]) + 1
    usual_end = reach[c0]
    weeks = round(len(hist) / 7)
    if np.isfinite(usual_end):
        norm = (f"in the last {weeks} weeks a still spell around {_hhmm(c0)} ended by "
                f"{_hhmm(c0 + usual_end + 1)} at the latest")
    else:
        norm = f"in the last {weeks} weeks this home was never still around {_hhmm(c0)}"
    day_note = "" if since >= 0 else " yesterday" if since >= -SLOTS else " the day before yesterday"
    return [Alert(
        "long_inactive_run", t0, "high",
        f"no activity for {length / 2:.1f} h since {_hhmm(since)}{day_note}; {norm} "
        "(out, or unwell: electricity alone cannot tell)",
        {"since_slot": since, "run_slots": length,
         "usual_latest_end_slot": None if not np.isfinite(usual_end) else int(c0 + usual_end),
         "margin_slots": round(float(margin), 1),
         "usual_wake": _hhmm(w_med), "usual_wake_slot": w_med, "floor_kwh": round(floor, 4)},
    )]
