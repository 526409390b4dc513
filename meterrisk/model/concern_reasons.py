"""Reasons for the new-concern list, phrased as change with units and the period compared.

Each reason names what moved, by how much in the resident's own units, and against which
earlier weeks ("gets up about 40 min later than in May to August (07:10 against 06:30)").
Only channels that moved the way frailty moves (a positive contribution to the concern
score) and by at least :data:`MIN_T` of the resident's own noise are phrased, largest
contribution first. Levels against other residents are the level reasons' business
(meterrisk/model/reasons.py), not these.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from meterrisk.model.concern import CHANNELS, EARLIER_DAYS

#: Least own-change statistic (in noise units) for a channel to be given as a reason.
MIN_T = 1.0
MAX_REASONS = 3

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def earlier_period(as_of: date) -> str:
    """The earlier weeks compared, by month: "in May to August" (or "in May")."""
    lo = as_of - timedelta(days=EARLIER_DAYS[1])
    hi = as_of - timedelta(days=EARLIER_DAYS[0])
    a, b = _MONTHS[lo.month - 1], _MONTHS[hi.month - 1]
    return f"in {a}" if a == b else f"in {a} to {b}"


def _clock(h: float) -> str:
    h = h % 24
    m = int(round(h * 60))
    return f"{m // 60 % 24:02d}:{m % 60:02d}"


def _duration(h: float) -> str:
    m = abs(h) * 60
    if m < 55:
        return f"{int(5 * round(m / 5))} min"
    return f"{round(abs(h) * 2) / 2:g} h"


def _phrase(name: str, recent: float, earlier: float, sd_r: float, sd_b: float, period: str) -> str | None:
    if name == "wake_time":
        return (f"gets up about {_duration(recent - earlier)} {'later' if recent > earlier else 'earlier'} "
                f"than {period} ({_clock(recent)} against {_clock(earlier)}, last 4 weeks)")
    if name == "wake_spread":
        return (f"wake-up time less regular than {period}: varies by about {_duration(sd_r)} from day to day "
                f"against {_duration(sd_b)}")
    if name == "meal_energy":
        pct = 100 * (1 - recent / earlier) if earlier > 0 else math.nan
        return (f"uses about {pct:.0f}% less electricity at mealtimes than {period} "
                f"({recent:.1f} against {earlier:.1f} kWh a day)") if math.isfinite(pct) else None
    if name == "meals_cooked":
        return (f"cooks at fewer mealtimes than {period}: about {recent:.1f} of 3 a day against {earlier:.1f}")
    if name == "night_blips":
        return (f"up in the night more often than {period}: brief activity about {7 * recent:.0f} times a week "
                f"against {7 * earlier:.0f} (00:00-04:30)")
    if name == "daytime_floor":  # the learned direction decides which way is a concern
        more = recent > earlier
        return (f"{'more' if more else 'fewer'} quiet daytime hours than {period} "
                f"({'out, or inactive at home' if more else 'often fewer outings'}): {recent:.1f} h a day "
                f"between 09:00 and 17:00 against {earlier:.1f} h")
    if name == "use_spread":
        pct = 100 * (1 - sd_r / sd_b) if sd_b > 0 else math.nan
        return (f"daily use more uniform than {period}: its day-to-day spread is about {pct:.0f}% smaller"
                if math.isfinite(pct) else None)
    if name == "active_share":
        return (f"active at home in fewer half hours than {period}: {100 * recent:.0f}% of the day "
                f"against {100 * earlier:.0f}%")
    return None


def concern_reasons(row: dict, weights: dict[str, float], as_of: date) -> list[str]:
    """Up to :data:`MAX_REASONS` change reasons for one resident's row of concern statistics.

    ``row``: the channel statistics (by channel name) and the window stats
    (``<column>__mean_r`` etc.) of :func:`meterrisk.model.concern.concern_scores`.
    """
    period = earlier_period(as_of)
    found = []
    for ch in CHANNELS:
        t, w = row.get(ch.name), weights.get(ch.name, 0.0)
        if t is None or not w or not math.isfinite(t) or t * math.copysign(1, w) < MIN_T:
            continue
        c = ch.column
        vals = [row.get(f"{c}__{k}") for k in ("mean_r", "mean_b", "sd_r", "sd_b")]
        if any(v is None for v in vals):
            continue
        # The statistic is net of the town's seasonal shift; the sentence quotes the resident's
        # own numbers, so say it only when those moved the same way (never "later" for earlier).
        moved = (vals[0] - vals[1]) if ch.kind == "mean" else (vals[2] - vals[3])
        if moved * w <= 0:
            continue
        text = _phrase(ch.name, *vals, period)
        if text:
            found.append((abs(w) * abs(t), text))
    if not found:  # on the list by several small moves that add up
        return [f"several small changes since {period.removeprefix('in ')}, each in the way frailty moves routines; "
                "none large on its own"]
    return [text for _, text in sorted(found, key=lambda x: -x[0])[:MAX_REASONS]]
