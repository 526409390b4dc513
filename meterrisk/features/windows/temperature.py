"""Temperature context and sensitivity over the last 28 days (needs a ``temperature`` table).

The outdoor temperature counts on valid days only. Each function takes the
:class:`~meterrisk.features.windows.sums.Window` and returns one expression.
"""

from __future__ import annotations

import polars as pl

from meterrisk.features.windows.spans import RECENT
from meterrisk.features.windows.sums import VALID, Window

HDD_BASE_C, CDD_BASE_C = 15.5, 22.0

_TEMP = pl.when(VALID).then(pl.col("temp_c"))
_HDD = (HDD_BASE_C - _TEMP).clip(lower_bound=0)
_CDD = (_TEMP - CDD_BASE_C).clip(lower_bound=0)
_KWH = pl.when(VALID).then(pl.col("daily_kwh"))


def _mean(w: Window, x: pl.Expr) -> pl.Expr:
    n = w.total(x.is_not_null(), RECENT)
    return pl.when(n > 0).then(w.total(x, RECENT) / n)


def _regress(w: Window, y: pl.Expr, x: pl.Expr) -> pl.Expr:
    """Slope of y on x over the recent valid days where x is known: the x moments use every
    such day, the y moments the days where y is known too (as the definition always has);
    needs 14 y values and var(x) >= 1. Raw sums, not centred: the mixed day sets make a
    centring constant not cancel."""
    both = x.is_not_null() & y.is_not_null()
    n = w.total(both, RECENT)
    mx = _mean(w, x)
    var = _mean(w, x * x) - mx * mx
    mxy = w.total(pl.when(both).then(x * y), RECENT) / n
    my = w.total(pl.when(both).then(y), RECENT) / n
    return pl.when((n >= 14) & (var >= 1.0)).then((mxy - mx * my) / var)


def kwh_per_hdd_28d(w: Window) -> pl.Expr:
    """Heating sensitivity: slope of daily_kwh on heating degree-days (base 15.5 C) over the last
    28 valid days.

    Unit: kWh per degree-day
    Edge cases: null without a `temperature` table, with fewer than 14 days, or when the
    degree-days barely vary (variance < 1).
    """
    return _regress(w, _KWH, _HDD)


def kwh_per_cdd_28d(w: Window) -> pl.Expr:
    """Cooling sensitivity: slope of daily_kwh on cooling degree-days (base 22 C), last 28 days.

    Unit: kWh per degree-day
    Edge cases: as kwh_per_hdd_28d.
    """
    return _regress(w, _KWH, _CDD)


def mean_temp_c_28d(w: Window) -> pl.Expr:
    """Mean outdoor temperature over the valid days of the last 28 (context for heating use).

    Unit: degrees C
    """
    return _mean(w, _TEMP)


def heating_degree_days_28d(w: Window) -> pl.Expr:
    """Mean heating degree-days (base 15.5 C) over the valid days of the last 28.

    Unit: degree-days per day
    """
    return _mean(w, _HDD)
