"""The one place feature families register: which modules hold features, in catalogue order.

A feature is a public function (its name does not start with ``_``) defined in one of the
modules below; the catalogue, the column order of daily_features / household_features and the
engines all read them from here, in module order then source order. To add a feature, write
the function in the right module; nothing else. Its docstring documents it (text =
description, a ``Unit:`` line = unit).

Window features take the :class:`meterrisk.features.windows.sums.Window` and return a
``pl.Expr`` (one column, named after the function) or a ``{column: pl.Expr}`` dict (a family:
one column per daily feature, ``{f}`` in its docstring). A window module with a ``WINDOWS``
dict (circadian) holds metrics of one span each: every metric gets a column per window
(``{metric}_{suffix}``), plus ``{metric}_delta`` for the metrics in its ``DELTAS``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import polars as pl

#: Daily features: functions returning a pl.Expr over the day frame (meterrisk.features.daily).
DAILY_MODULES = (
    "meterrisk.features.daily.accounting",
    "meterrisk.features.daily.energy",
    "meterrisk.features.daily.activity",
    "meterrisk.features.daily.sleep",
    "meterrisk.features.daily.meals",
    "meterrisk.features.daily.outings",
    "meterrisk.features.daily.regularity",
    "meterrisk.features.daily.night",
)
WINDOW_MODULES = (
    "meterrisk.features.windows.summaries",
    "meterrisk.features.windows.deviation",
    "meterrisk.features.windows.counts",
    "meterrisk.features.windows.temperature",
    "meterrisk.features.windows.routine",
    "meterrisk.features.windows.circadian",
)


def public_functions(module: ModuleType) -> list[Callable]:
    """Functions defined in ``module`` (not imported into it) without a leading ``_``, in
    source order."""
    fns = [f for name, f in vars(module).items()
           if inspect.isfunction(f) and f.__module__ == module.__name__ and not name.startswith("_")]
    return sorted(fns, key=lambda f: f.__code__.co_firstlineno)


def modules(names: tuple[str, ...]) -> list[ModuleType]:
    return [importlib.import_module(n) for n in names]


def daily_functions() -> dict[str, Callable]:
    """Every daily feature function by name."""
    return {f.__name__: f for m in modules(DAILY_MODULES) for f in public_functions(m)}


def daily_columns() -> list[str]:
    """daily_features' columns in table order (after household_id, local_date): the features
    and the coverage rule's accounting columns, as the table was created."""
    from meterrisk.features.daily import COLUMNS

    return list(COLUMNS[2:])


@dataclass(frozen=True)
class WindowColumn:
    name: str
    expr: pl.Expr
    fn: Callable  # the function whose docstring documents the column
    family: bool = False  # one of a {f} family
    window: str | None = None  # circadian: the WINDOWS suffix, or "delta"
    dtype: pl.DataType = pl.Float64  # a module's DTYPE (counts: Int32)


def window_columns(w) -> list[WindowColumn]:
    """Every household_features column with its expression over ``w`` (a Window), in table
    order (after household_id, as_of; dq_flag, set by the engine, comes last)."""
    out = []
    for m in modules(WINDOW_MODULES):
        fns = public_functions(m)
        if hasattr(m, "WINDOWS"):
            out += _windowed(m, fns, w)
            continue
        dtype = getattr(m, "DTYPE", pl.Float64)
        for fn in fns:
            got = fn(w)
            if isinstance(got, dict):
                out += [WindowColumn(k, e.alias(k), fn, family=True, dtype=dtype) for k, e in got.items()]
            else:
                out.append(WindowColumn(fn.__name__, got.alias(fn.__name__), fn, dtype=dtype))
    return out


def _windowed(m: ModuleType, fns: list[Callable], w) -> list[WindowColumn]:
    out, by_name = [], {}
    for suffix, (span, _) in m.WINDOWS.items():
        hours = m.Hours(w, span)
        for fn in fns:
            name = f"{fn.__name__}_{suffix}"
            by_name[name] = fn(hours)
            out.append(WindowColumn(name, by_name[name].alias(name), fn, window=suffix))
    first, second = list(m.WINDOWS)[:2]
    for metric in m.DELTAS:
        name = f"{metric}_delta"
        expr = by_name[f"{metric}_{first}"] - by_name[f"{metric}_{second}"]
        out.append(WindowColumn(name, expr.alias(name), getattr(m, metric), window="delta"))
    return out
