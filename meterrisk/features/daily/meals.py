"""Cooking: energy above the baseload and active half hours in the usual meal windows."""

from __future__ import annotations

import polars as pl

from meterrisk.features.halfhours import HalfHours

MORNING = (6.0, 9.0)
NOON = (11.0, 13.5)
EVENING = (17.0, 20.0)


def breakfast_kwh(excess: HalfHours) -> pl.Expr:
    """Energy above baseload in the morning cooking window 06:00-09:00.

    Unit: kWh
    """
    return excess.between(*MORNING).total()


def lunch_kwh(excess: HalfHours) -> pl.Expr:
    """Energy above baseload in the noon cooking window 11:00-13:30.

    Unit: kWh
    """
    return excess.between(*NOON).total()


def dinner_kwh(excess: HalfHours) -> pl.Expr:
    """Energy above baseload in the evening cooking window 17:00-20:00.

    Unit: kWh
    """
    return excess.between(*EVENING).total()


def meal_kwh(excess: HalfHours) -> pl.Expr:
    """Energy above baseload in the three cooking windows together (breakfast+lunch+dinner).

    Unit: kWh
    """
    in_meals = lambda c: any(lo <= c < hi for lo, hi in (MORNING, NOON, EVENING))  # noqa: E731
    return excess.where_clock(in_meals).total()


def meal_windows_active(active: HalfHours) -> pl.Expr:
    """Cooking windows (morning, noon, evening) with at least 2 active half hours.

    Unit: count (0-3)
    """
    return pl.sum_horizontal((active.between(*w).count() >= 2).cast(pl.Int32)
                             for w in (MORNING, NOON, EVENING)).cast(pl.Int32)
