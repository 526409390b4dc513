"""The feature catalogue, built from the registered feature functions' docstrings.

A docstring's text is the description; a line ``Unit: ...`` gives the unit. Window families
(one function producing a column per daily feature) use ``{f}`` in their docstring and are
expanded to one entry per column they produce; their unit may say "as the daily feature"
(the daily feature's unit), "as the daily feature's amount" (its unit without the clock note:
a spread or change of a clock time is a duration) or "daily feature amount per week".
Circadian metrics get an entry per window and their deltas one each (see the registry).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

import polars as pl

from meterrisk.features import registry

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
    fns = registry.daily_functions()
    extra = {name: (unit, desc) for name, unit, desc in _ACCOUNTING}
    out = []
    for name in registry.daily_columns():
        unit, desc = _parse(fns[name]) if name in fns else extra[name]
        out.append((name, "daily", unit, desc))
    return out


def _daily_units() -> dict[str, str]:
    return {name: unit for name, _, unit, _ in daily_entries()}


def _family_entry(col: registry.WindowColumn, units: dict[str, str]) -> tuple[str, str, str, str]:
    unit_t, desc_t = _parse(col.fn)
    desc_t = re.sub(r"^\{f\}\w*:\s*", "", desc_t)
    base = max((f for f in units if col.name.startswith(f + "_")), key=len)
    amount = units[base].split(" (")[0]
    unit = (unit_t.replace("as the daily feature's amount", amount)
            .replace("daily feature amount per week", f"{amount} per week")
            .replace("as the daily feature", units[base]))
    return col.name, "household_window", unit, desc_t.replace("{f}", base)


def window_entries() -> list[tuple[str, str, str, str]]:
    from meterrisk.features.windows import circadian
    from meterrisk.features.windows.sums import Window

    units = _daily_units()
    out = []
    for col in registry.window_columns(Window()):  # expressions are built, never evaluated
        unit, desc = _parse(col.fn)
        if col.family:
            out.append(_family_entry(col, units))
        elif col.window == "delta":
            m = col.fn.__name__
            out.append((col.name, "household_window", unit,
                        f"{m}_28d minus {m}_baseline: change of the rhythm against the household's own weeks 5-12."))
        elif col.window is not None:
            span = circadian.WINDOWS[col.window][1]
            out.append((col.name, "household_window", unit, f"{desc} Over valid days in {span}."))
        else:
            out.append((col.name, "household_window", unit, desc))
    out.append((*_WINDOW_DQ[:1], "household_window", *_WINDOW_DQ[1:]))
    return out


def window_columns() -> list[str]:
    """Feature columns of household_features, in table order (after household_id, as_of)."""
    return [name for name, *_ in window_entries()]


def catalog() -> pl.DataFrame:
    """Every feature: name, level ('daily' or 'household_window'), unit, description."""
    rows = daily_entries() + window_entries()
    return pl.DataFrame(rows, schema=["name", "level", "unit", "description"], orient="row")
