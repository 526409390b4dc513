"""Daytime: hours at the standby floor (out, or not moving) and load left on."""

from __future__ import annotations

import polars as pl

from meterrisk.features.halfhours import HalfHours

DAYTIME = (9.0, 17.0)
#: "Stuck on": load at least this far above the baseload without a break. Ordinary use
#: returns towards standby between activities; a flatness rule (|change| small) missed
#: appliances left on under other use, this floor rule separates them far better.
STUCK_MIN_LEVEL_KWH = 0.25


def daytime_floor_h(counted: HalfHours, active: HalfHours) -> pl.Expr:
    """Hours between 09:00 and 17:00 at the floor (not active): outing proxy.

    Unit: hours
    Edge cases: counts present half hours only; cannot tell "out" from "collapsed".
    """
    return (counted & ~active).between(*DAYTIME).count() * 0.5


def longest_daytime_floor_h(counted: HalfHours, active: HalfHours) -> pl.Expr:
    """Longest run of consecutive floor (inactive) half hours between 09:00 and 17:00: outing length.

    Unit: hours
    """
    return (counted & ~active).between(*DAYTIME).longest_run() * 0.5


def stuck_on_h(kwh: HalfHours, baseload: pl.Expr) -> pl.Expr:
    """Longest run of consecutive half hours whose load stays at least 0.25 kWh (0.5 kW) above
    the baseload: an elevated floor that never drops back towards standby (a heater, hob or
    iron left on; also long continuous heating).

    Unit: hours
    Edge cases: 0 when no half hour is that high; a gap ends a run. On synthetic data,
    days with an appliance left on average 8 h, other days 2 h.
    """
    return kwh.map(lambda e: (e >= baseload + STUCK_MIN_LEVEL_KWH).fill_null(False)).longest_run() * 0.5
