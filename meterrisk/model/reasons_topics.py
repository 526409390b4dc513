"""What a reason can say: behaviour topics over the model's features, and their wording.

A topic is a group of feature columns about one behaviour (night activity, wake-up time,
cooking, ...). The attribution (meterrisk.model.reasons) credits each topic with its share of
the household's risk; the topic's ``text`` then says, with units and against most residents,
where the household stands on it. ``text`` returns None when the household is not on the
concerning side of most residents (or not visibly apart from them), so a reason never
reads as a concern the numbers do not show.

"Most residents" is the training median of each column (the model's imputer statistics:
the assessed residents it was trained on), the same values the attribution starts from.

Topics with ``text=None`` (age, data coverage and weather, daily rhythm indices) take part
in the attribution, so no other topic is credited with their share, but never become a
reason: age is personal data the list does not carry, and the others are not something care
staff can act on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: A household's value and most residents' value of one column; None when missing.
Row = dict


@dataclass(frozen=True)
class Topic:
    name: str
    pattern: str                                   # regex on feature names
    text: Callable[[Row], str | None] | None       # None: attributed, never shown


def value(row: Row, key: str) -> float | None:
    v = row.get(key)
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def typical(row: Row, key: str) -> float | None:
    """Most residents' value of ``key`` (the training median carried in the row)."""
    return value(row, f"{key}__median")


# ---- numbers with units ------------------------------------------------------------------

def clock(h: float) -> str:
    """Local clock time to the nearest 5 minutes; hours past midnight wrap (24.5 -> 00:30)."""
    m = int(round(h * 12)) * 5
    return f"{(m // 60) % 24:02d}:{m % 60:02d}"


def hours(h: float) -> str:
    """'5.5 h' (one decimal below 10 h, whole hours above)."""
    return f"{h:.1f} h" if abs(h) < 10 else f"{h:.0f} h"


def per_week(x: float, typical_x: float) -> tuple[str, str]:
    """Weekly counts of a per-night mean, whole numbers unless that hides the difference."""
    a, b = x * 7, typical_x * 7
    if round(a) != round(b):
        return f"{a:.0f}", f"{b:.0f}"
    return f"{a:.1f}", f"{b:.1f}"


def kwh(x: float, typical_x: float) -> tuple[str, str]:
    """kWh to one decimal, two when one would show the same number for both."""
    return (f"{x:.1f}", f"{typical_x:.1f}") if round(x, 1) != round(typical_x, 1) else (f"{x:.2f}", f"{typical_x:.2f}")


def percent_apart(x: float, typical_x: float) -> str:
    """'35% less' / '20% more' than the typical value."""
    d = (x / typical_x - 1) * 100
    return f"{abs(d):.0f}% {'less' if d < 0 else 'more'}"


def _join(head: str, clauses: list[str]) -> str:
    # Never "; " inside a reason: the CSV export joins a row's reasons with it.
    extra = [c for c in clauses if c]
    return f"{head} ({', '.join(extra)})" if extra else head


# ---- optional clauses: the household's own change and day counts -------------------------

def _later_than_usual(row: Row, key: str, min_h: float, *, earlier: bool = False) -> str:
    d = value(row, f"{key}_delta")
    z = value(row, f"{key}_z")
    if d is None:
        return ""
    d = -d if earlier else d
    if d < min_h or (z is not None and (-z if earlier else z) < 1.5):
        return ""
    return f"{hours(d)} {'earlier' if earlier else 'later'} than in their usual weeks"


def _down_over_8w(row: Row, key: str, at_most: float) -> str:
    r = value(row, f"{key}_ratio_8w")
    return f"down {(1 - r) * 100:.0f}% over 8 weeks" if r is not None and r <= at_most else ""


def _days(row: Row, key: str, at_least: int, what: str) -> str:
    n = value(row, key)
    return what.format(n=int(n)) if n is not None and n >= at_least else ""


# ---- topic wordings ------------------------------------------------------------------------

def _night_blips(row: Row) -> str | None:
    for key in ("night_blips_mean_84d", "night_blips_mean_28d"):
        x, m = value(row, key), typical(row, key)
        if x is not None and m is not None:
            break
    else:
        return None
    a, b = per_week(x, m)
    if (x - m) * 7 < 0.5:  # half a time a week: not something to act on
        return None
    span = "over 12 weeks" if key.endswith("84d") else "over 4 weeks"
    return f"brief activity in the night (00:00-04:30) about {a} times a week {span}, most residents about {b} a week"


def _night_unrest(row: Row) -> str | None:
    x, m = value(row, "night_activity_share_mean_28d"), typical(row, "night_activity_share_mean_28d")
    # "In use", not "awake": night heating or cooling also keeps a home above standby.
    restless = _days(row, "restless_nights_28d", 7, "over a fifth of the night on {n} of the last 28 nights")
    if x is None or m is None or x - m < 0.02:
        return f"electricity in use {restless}" if restless else None
    return _join(f"electricity in use in {x:.0%} of the night (00:00-05:00), most residents {m:.0%}", [restless])


def _wake(row: Row) -> str | None:
    x, m = value(row, "wake_time_h_mean_28d"), typical(row, "wake_time_h_mean_28d")
    change = _later_than_usual(row, "wake_time_h", 0.5)
    late = _days(row, "late_wake_days_28d", 5, "no activity before 10:00 on {n} of the last 28 days")
    if x is None or m is None or x - m < 0.25:
        return f"gets up {change}" if change else (late or None)
    return _join(f"gets up about {clock(x)}, most residents about {clock(m)}", [change or late])


def _bed(row: Row) -> str | None:
    x, m = value(row, "bed_time_h_mean_28d"), typical(row, "bed_time_h_mean_28d")
    change = _later_than_usual(row, "bed_time_h", 0.75, earlier=True)
    if x is None or m is None or m - x < 0.25:
        return f"goes to bed {change}" if change else None
    return _join(f"goes to bed about {clock(x)}, most residents about {clock(m)}", [change])


def _cooking(row: Row) -> str | None:
    x, m = value(row, "meal_kwh_mean_28d"), typical(row, "meal_kwh_mean_28d")
    down = _down_over_8w(row, "meal_kwh", 0.8)
    no_meal = _days(row, "no_meal_days_28d", 5, "no cooking at usual meal times on {n} of the last 28 days")
    if x is None or m is None or m <= 0 or x > 0.9 * m:
        return f"cooking activity {down}" if down else (no_meal or None)
    a, b = kwh(x, m)
    return _join(f"cooking energy at meal times about {a} kWh a day, most residents about {b} kWh",
                 [percent_apart(x, m), down or no_meal])


def _activity(row: Row) -> str | None:
    x, m = value(row, "active_share_mean_28d"), typical(row, "active_share_mean_28d")
    floor = _days(row, "floor_days_28d", 3, "{n} whole days at standby in the last 4 weeks: away or unwell, "
                                            "electricity cannot tell")
    r = value(row, "active_share_ratio_8w")
    less = f"{(1 - r) * 100:.0f}% less than in their usual weeks" if r is not None and r <= 0.8 else ""
    if x is None or m is None or x > 0.9 * m:
        return f"electricity in use {less}" if less else (floor or None)
    return _join(f"electricity in use (above standby) for about {hours(x * 24)} a day, most residents about "
                 f"{hours(m * 24)}", [less or floor])


def _daytime_gaps(row: Row) -> str | None:
    # Breaks in use while awake read both ways (docs/model.md): longer ones are outings or not
    # moving, shorter ones fewer outings (DOMAIN.md) or something on all day. Electricity
    # cannot tell which, so the wording names both.
    parts = []
    for key, what in (("longest_inactive_run_h_mean_28d", "longest break in electricity use while awake about {x}"),
                      ("daytime_floor_h_mean_28d", "about {x} without electricity use between 09:00 and 17:00")):
        x, m = value(row, key), typical(row, key)
        if x is not None and m is not None and abs(x - m) >= 0.25:
            parts.append((abs(x / m - 1) if m > 0 else 1.0, x > m, what, x, m))
    if not parts:
        d = value(row, "longest_inactive_run_h_delta")
        return f"longest break in electricity use while awake {hours(d)} longer than in their usual weeks" \
            if d is not None and d >= 1.0 else None
    longer = max(parts)[1]
    parts = [p for p in parts if p[1] == longer]
    why = ("out, or not moving" if longer else "fewer or shorter outings, or something on all day")
    said = ", and ".join(f"{what.format(x=hours(x))}, most residents about {hours(m)}" for _, _, what, x, m in parts)
    return f"{said} ({why}: electricity cannot tell)"


def _regularity(row: Row) -> str | None:
    # Either side: a routine coming apart, or the shrinking variety seen in frail people (DOMAIN.md).
    x, m = value(row, "regularity_corr_mean_28d"), typical(row, "regularity_corr_mean_28d")
    if x is None or m is None or abs(x - m) < 0.05:
        return None
    how = "less" if x < m else "more"
    return (f"days follow their usual pattern {how} closely than most residents' "
            f"(match {x:.2f} on a 0-1 scale, most residents {m:.2f})")


def _energy(row: Row) -> str | None:
    x, m = value(row, "excess_kwh_mean_28d"), typical(row, "excess_kwh_mean_28d")
    down = _down_over_8w(row, "excess_kwh", 0.75)
    if x is None or m is None or m <= 0 or x > 0.9 * m:
        return f"electricity use above standby {down}" if down else None
    a, b = kwh(x, m)
    return _join(f"electricity use above standby about {a} kWh a day, most residents about {b} kWh",
                 [percent_apart(x, m), down])


def _stuck_on(row: Row) -> str | None:
    x, m = value(row, "stuck_on_days_28d"), typical(row, "stuck_on_days_28d")
    if x is None or m is None or round(x) <= round(m):
        return None
    return (f"something left on for 6 h or more on {x:.0f} of the last 28 days (an appliance, or long heating), "
            f"most residents {m:.0f}")


#: Every model column falls in the first topic whose pattern matches, else in "other".
TOPICS: list[Topic] = [
    Topic("night_blips", r"^night_blips", _night_blips),
    Topic("night_unrest", r"^(night_activity_share|inactive_night_h|restless_nights)", _night_unrest),
    Topic("wake", r"^(wake_time_h|late_wake_days)", _wake),
    Topic("bed", r"^bed_time_h", _bed),
    Topic("cooking", r"^(meal_kwh|breakfast_kwh|lunch_kwh|dinner_kwh|meal_windows_active|no_meal_days)", _cooking),
    Topic("activity", r"^(active_share|floor_days)", _activity),
    Topic("daytime_gaps", r"^(longest_inactive_run_h|daytime_floor_h|longest_daytime_floor_h)", _daytime_gaps),
    Topic("regularity", r"^regularity_corr", _regularity),
    Topic("energy", r"^(daily_kwh|excess_kwh|peak_kwh)", _energy),
    Topic("stuck_on", r"^stuck_on", _stuck_on),
    Topic("rhythm", r"^(activity_entropy|relative_amplitude|interdaily|intradaily|l5_|m10_|peak_time)", None),
    Topic("age", r"^age$", None),
    Topic("context", r"^(valid_days|days_with_readings|days_since|heating_degree|mean_temp|baseload|kwh_per_)", None),
]
OTHER = Topic("other", r"", None)


def topic_columns(features: list[str]) -> list[tuple[Topic, list[int]]]:
    """(topic, column indices) for the topics present in ``features``; leftovers go to "other"."""
    out: dict[str, tuple[Topic, list[int]]] = {}
    for i, f in enumerate(features):
        topic = next((t for t in TOPICS if re.match(t.pattern, f)), OTHER)
        out.setdefault(topic.name, (topic, []))[1].append(i)
    return list(out.values())
