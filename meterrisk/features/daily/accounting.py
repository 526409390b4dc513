"""Accounting columns: what the day's readings are, before any behaviour is read into them.
Always set, whatever the coverage."""

from __future__ import annotations

import polars as pl

from meterrisk.features.halfhours import HalfHours


def present_slots(present: HalfHours) -> pl.Expr:
    """Half-hour readings present on the local day (zeros count as readings).

    Unit: slots
    """
    return present.count()


def zero_slots(kwh: HalfHours) -> pl.Expr:
    """Half-hour readings that are exactly 0 kWh (kept as readings, never treated as gaps).

    Unit: slots
    """
    return kwh.map(lambda e: (e == 0).fill_null(False)).count()
