"""Energy: how much electricity the day used, its standby floor and its peak."""

from __future__ import annotations

import polars as pl

from meterrisk.features.halfhours import HalfHours


def daily_kwh(kwh: HalfHours) -> pl.Expr:
    """Energy used on the local day (sum of present half hours; null on low-coverage days).

    Unit: kWh
    """
    return kwh.map(lambda e: e.fill_null(0.0)).total()


def baseload_kwh(baseload: pl.Expr) -> pl.Expr:
    """Standby floor: 10th percentile of 00:00-05:00 half hours over the last 7 days incl. today.

    Unit: kWh per half hour
    Edge cases: null when fewer than 10 night readings fall in the 7-day window. When a night
    load (storage heating, air conditioning) lifts that night floor at least 0.1 kWh above the
    10th percentile of the same days' 05:00-24:00 half hours (readings >= 0: exports of solar
    homes are not a floor; and above its active threshold),
    the baseload is that day floor.
    """
    return baseload


def excess_kwh(excess: HalfHours) -> pl.Expr:
    """Energy above the baseload summed over the day (use attributable to people).

    Unit: kWh
    """
    return excess.total()


def peak_kwh(kwh: HalfHours) -> pl.Expr:
    """Largest half-hour reading of the day.

    Unit: kWh per half hour
    """
    return kwh.maximum()


def peak_time_h(kwh: HalfHours, peak_kwh: pl.Expr) -> pl.Expr:
    """Local clock time of the day's largest half hour (earliest if tied).

    Unit: hours (local clock, 0-24)
    """
    return kwh.map(lambda e: (e == peak_kwh).fill_null(False)).first_clock()
