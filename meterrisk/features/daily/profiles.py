"""Per-day clock profiles: active half hours on the 48 clock half hours (regularity), and
energy above baseload and active half hours per clock hour (circadian metrics).

Profiles are by *clock* time, so on a 50-slot day the repeated hour's readings share their
clock bins, and on a 46-slot day the skipped bins have no reading (null).
"""

from __future__ import annotations

import polars as pl

from meterrisk.features.halfhours import HalfHours


def _bins(h: HalfHours, minutes: int) -> list[list[pl.Expr]]:
    out: list[list[pl.Expr]] = [[] for _ in range(1440 // minutes)]
    for e, c in zip(h.exprs, h.clock_h):
        out[int(round(c * 60)) // minutes].append(e)
    return out


def halfhour_active(present: HalfHours, active: HalfHours) -> list[pl.Expr]:
    """48 expressions: 1 when any reading in the clock half hour is active, 0 when none is,
    null when the half hour has no reading."""
    out = []
    for seen, act in zip(_bins(present, 30), _bins(active, 30)):
        if not seen:
            out.append(pl.lit(None, dtype=pl.Int8))
            continue
        out.append(pl.when(pl.any_horizontal(seen)).then(pl.any_horizontal(act).cast(pl.Int8)))
    return out


def hourly(present: HalfHours, active: HalfHours, excess: HalfHours) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """24 + 24 expressions: energy above baseload and active half hours per clock hour, null
    for an hour without a reading."""
    excess_by_hour, active_by_hour = [], []
    for seen, act, ex in zip(_bins(present, 60), _bins(active, 60), _bins(excess, 60)):
        if not seen:
            excess_by_hour.append(pl.lit(None, dtype=pl.Float64))
            active_by_hour.append(pl.lit(None, dtype=pl.Int32))
            continue
        any_seen = pl.any_horizontal(seen)
        excess_by_hour.append(pl.when(any_seen).then(pl.sum_horizontal(ex)))
        active_by_hour.append(pl.when(any_seen).then(pl.sum_horizontal(a.cast(pl.Int32) for a in act).cast(pl.Int32)))
    return excess_by_hour, active_by_hour
