"""Same-day inactivity detector: today against the household's own previous 28 days.

Works on one household at a time with a (days x 48) matrix of half-hour kWh (NaN = missing),
so it runs the same on the store, on a synthetic cohort and on the London files.

A half hour is *active* when its use rises above the household's floor (a low quantile of its
recent use plus a noise margin) and is not part of a flat line (use that has not moved for
three hours). The second test makes a load that is stuck on (heater, hob) count as inactive
after a while, so a collapse with an appliance left on is still seen as a still home.

Rules (each fires at most once per household and day, at the half hour it is first met):

- ``no_activity_after_usual_wake``: no sustained activity from 04:00 until the usual wake slot
  plus a margin that grows with how much the wake time varies (1.5-3 h).
- ``long_inactive_run``: since the last activity today (after waking), the still spell has
  covered more *expected activity* (sum over its half hours of the household's probability of
  being active then) than any still spell of the previous 28 days, by a margin.
- ``stuck_on``: use above the floor and nearly constant for many hours, longer than anything in
  the previous 28 days.

Whole-home electricity cannot tell "out" from "collapsed": the messages say so, and known
absences (table ``absences``) suppress alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SLOTS = 48
HISTORY_DAYS = 28
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
    run_factor: float = 1.25           # current spell must exceed the 28-day max by this factor
    run_extra: float = 0.5             # ... plus this many expected active half hours
    run_min_expected: float = 2.5      # and cover at least this many expected active half hours
    run_min_slots: int = 4             # and last at least 2 h
    run_rank: int = 1                  # compare with the k-th largest daily still spell (1 = max)
    stuck_min_slots: int = 16          # 8 h
    stuck_rel_range: float = 0.25      # (max - min) / median within the stuck spell
    floor_day_share: float = 0.05      # history days with less activity are absences: ignored


@dataclass
class Alert:
    kind: str
    slot: int                          # half hour of the local day at which it fired
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)


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


def _run_mass(active: np.ndarray, prob: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Expected activity covered by the still spell ending at each slot (reset at activity)."""
    w = prob * window * (~active)
    c = np.cumsum(w, axis=1)
    at_active = np.where(active, c, 0.0)
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


def detect_day(hist: np.ndarray, today: np.ndarray, p: DetectorParams | None = None) -> list[Alert]:
    """Alerts for ``today`` (48 kWh values, NaN = missing) given ``hist`` (days x 48, oldest first).

    Returns [] when there is too little history. Only half hours that are present are used:
    a gap in the data is never read as inactivity.
    """
    p = p or DetectorParams()
    hist = hist[-HISTORY_DAYS:, :SLOTS]
    today = today[:SLOTS]
    good = np.isfinite(hist).sum(axis=1) >= 40
    if good.sum() < MIN_HISTORY_DAYS or not np.isfinite(today).any():
        return []
    floor = floor_level(hist[good], p)
    before = np.vstack([np.full((1, SLOTS), np.nan), hist[:-1]])
    act_h = active_matrix(hist, floor, p, before)
    usual = good & (act_h.mean(axis=1) >= p.floor_day_share)     # drop away / floor days
    if usual.sum() < MIN_HISTORY_DAYS:
        return []
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
    alerts: list[Alert] = []

    # -- no activity after the usual wake
    deadline = int(np.clip(np.ceil(w_q90) + 2, w_med + p.wake_margin_min, w_med + p.wake_margin_max))
    wake_today = wake_slots(act_d[None, :])[0]
    look_from = int(max(WAKE_FROM, w_med - 4))
    # Only for homes whose mornings are regular: on every usual day of the last 28 something
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

    # -- long still spell in waking hours
    slots = np.arange(SLOTS)
    win_h = np.zeros_like(act_h, dtype=float)
    for i, w in enumerate(wakes):
        start = WAKE_FROM if np.isnan(w) else int(w)
        win_h[i, start: int(bed) + 1] = 1.0
    mass_h = _run_mass(act_h, prob, win_h)
    daily = np.sort(mass_h.max(axis=1))[::-1] if mass_h.size else np.zeros(1)
    hist_max = float(daily[min(p.run_rank, len(daily)) - 1])
    threshold = max(p.run_min_expected, p.run_factor * hist_max + p.run_extra)
    if not np.isnan(wake_today) and wake_today <= deadline:
        win_d = ((slots >= wake_today) & (slots <= bed)).astype(float)
        mass_d = _run_mass(act_d[None, :], prob, win_d[None, :])[0]
        still = ~act_d[None, :]
        prev_still = np.concatenate([[False], still[0, :-1]])[None, :]
        run_len = _run_lengths(still, prev_still)[0]
        hit = np.flatnonzero((mass_d >= threshold) & (run_len >= p.run_min_slots) & np.isfinite(today))
        if hit.size:
            t = int(hit[0])
            since = t - run_len[t] + 1
            alerts.append(Alert(
                "long_inactive_run", t, "high",
                f"no activity for {run_len[t] / 2:.1f} h since {_hhmm(since)}, at times this home is "
                "usually active (out, or unwell: electricity alone cannot tell)",
                {"since_slot": since, "run_slots": int(run_len[t]), "expected_active_slots": round(float(mass_d[t]), 2),
                 "threshold": round(threshold, 2), "usual_wake": _hhmm(w_med), "usual_wake_slot": w_med,
                 "floor_kwh": round(floor, 4)},
            ))

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
             "longest_in_28_days_slots": hist_stuck},
        ))
    return alerts
