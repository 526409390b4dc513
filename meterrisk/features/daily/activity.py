"""Activity: half hours above the baseload plus a noise margin (see meterrisk.features.activity)."""

from __future__ import annotations

import polars as pl

from meterrisk.features import activity as A
from meterrisk.features.halfhours import HalfHours


def _share(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    return pl.when(whole > 0).then(part.cast(pl.Float64) / whole.cast(pl.Float64))


def active_slots(active: HalfHours) -> pl.Expr:
    """Half hours above baseload + noise margin (max(0.03 kWh, 0.5 x baseload)).

    Unit: slots
    """
    return active.count()


def active_share(active: HalfHours, counted: HalfHours) -> pl.Expr:
    """Share of present half hours that are active (the daily active score).

    Unit: fraction (0-1)
    """
    return _share(active.count(), counted.count())


def night_activity_share(active: HalfHours, counted: HalfHours, night_unreadable: pl.Expr) -> pl.Expr:
    """Share of present half hours between 00:00 and 05:00 that are active (night unrest).

    Unit: fraction (0-1)
    Edge cases: null when no night half hour is present, or on a night_unreadable night (a
    night load, not the resident, would be active).
    """
    share = _share(active.before(A.NIGHT_END_H).count(), counted.before(A.NIGHT_END_H).count())
    return pl.when(night_unreadable == 0).then(share)
