"""The feature catalogue, built from the feature functions' docstrings.

A docstring's text is the description; a line ``Unit: ...`` gives the unit. Window families
(one function producing a column per daily feature) use ``{f}`` in their docstring and are
expanded to one entry per column they produce.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import polars as pl

from meterrisk.features import circadian, daily, deviation, routine, window

_ACCOUNTING = [
    ("expected_slots", "slots", "Half hours the local date has in the store's zone (46/48/50 on clock-change days), from local_calendar; 48 if the calendar lacks the date."),
    ("coverage", "fraction (0-1)", "present_slots / expected_slots. Below 0.8 the day's behavioural features are null."),
    ("dq_flag", "code", "'ok'; 'low_coverage' (coverage < 0.8); 'no_baseload' (fewer than 10 night readings in the last 7 days)."),
]
_WINDOW_DQ = ("dq_flag", "code",
              "'ok'; 'insufficient_data' (fewer than 21 valid days in the 28 up to as_of: every "
              "feature null); 'no_baseline' (fewer than 14 valid days in weeks 5-12: deviation features null).")


def _parse(fn: Callable) -> tuple[str, str]:
    doc = inspect.getdoc(fn) or ""
    unit = ""
    lines = []
    for line in doc.splitlines():
        m = re.match(r"\s*Unit:\s*(.+)", line)
        if m:
            unit = m.group(1).strip()
        else:
            lines.append(line.strip())
    text = " ".join(x for x in lines if x)
    return unit, text


def daily_entries() -> list[tuple[str, str, str, str]]:
    fns = {f.__name__: f for f in daily.CATALOGUED}
    extra = {name: (unit, desc) for name, unit, desc in _ACCOUNTING}
    out = []
    for name in daily.COLUMNS[2:]:
        if name in fns:
            unit, desc = _parse(fns[name])
        else:
            unit, desc = extra[name]
        out.append((name, "daily", unit, desc))
    return out


def _daily_units() -> dict[str, str]:
    return {name: unit for name, _, unit, _ in daily_entries()}


def _family(fn: Callable, names: list[str], units: dict[str, str]) -> list[tuple[str, str, str, str]]:
    unit_t, desc_t = _parse(fn)
    desc_t = re.sub(r"^\{f\}\w*:\s*", "", desc_t)
    out = []
    for name in names:
        base = max((f for f in units if name.startswith(f + "_")), key=len)
        # Spreads, slopes and differences are durations/amounts, not clock readings.
        u = units[base] if fn is window.means_28d else units[base].split(" (")[0]
        unit = (unit_t.replace("as the daily feature", u)
                .replace("daily feature unit per week", f"{u} per week"))
        out.append((name, "household_window", unit, desc_t.replace("{f}", base)))
    return out


def window_entries() -> list[tuple[str, str, str, str]]:
    units = _daily_units()
    empty = window.Days.empty()  # a family's columns are the keys it returns
    out = []
    for fam in (*window.FAMILIES, *deviation.FAMILIES):
        out += _family(fam, list(fam(empty)), units)
    for fn in (*window.COUNTS, *window.TEMPERATURE, *routine.FEATURES):
        unit, desc = _parse(fn)
        out.append((fn.__name__, "household_window", unit, desc))
    for suffix, (lo, hi) in circadian.WINDOWS.items():
        span = "the 28 days up to as_of" if lo == 0 else "weeks 5-12 before as_of"
        for fn in circadian.METRICS:
            unit, desc = _parse(fn)
            out.append((f"{fn.__name__}_{suffix}", "household_window", unit, f"{desc} Over valid days in {span}."))
    for m in circadian.DELTAS:
        unit, _ = _parse(getattr(circadian, m))
        out.append((f"{m}_delta", "household_window", unit,
                    f"{m}_28d minus {m}_baseline: change of the rhythm against the household's own weeks 5-12."))
    out.append((*_WINDOW_DQ[:1], "household_window", *_WINDOW_DQ[1:]))
    return out


def window_columns() -> list[str]:
    """Feature columns of household_features, in table order (after household_id, as_of)."""
    return [name for name, *_ in window_entries()]


def catalog() -> pl.DataFrame:
    """Every feature: name, level ('daily' or 'household_window'), unit, description."""
    rows = daily_entries() + window_entries()
    return pl.DataFrame(rows, schema=["name", "level", "unit", "description"], orient="row")
