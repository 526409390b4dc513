"""When an intraday run sees a half hour: delivery latency and the run schedule.

A run at clock time T judges the half hours that end at or before T - the delivery latency
(a half hour's readings reach the store after it ends). Runs are every ``RUN_EVERY_MIN``
minutes on the clock (:00 and :30), as the ``alerts-intraday`` deployment schedules them.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

#: Readings of a half hour reach the store this long after it ends (the utility's feed).
DELIVERY_LATENCY_MIN = 30
#: The intraday alerts run every this many minutes, on the clock (:00 and :30).
RUN_EVERY_MIN = 30


def slot_end(d: date, slot: float) -> datetime:
    """Local wall-clock end of half hour ``slot`` of ``d``."""
    return datetime(d.year, d.month, d.day) + timedelta(minutes=30 * (slot + 1))


def raised_at(d: date, slot: int, *, latency_min: int = DELIVERY_LATENCY_MIN, every_min: int = RUN_EVERY_MIN) -> datetime:
    """Clock time of the first intraday run that sees half hour ``slot`` of ``d``: the first
    run time on the ``every_min`` grid at or after the half hour's end + the delivery latency."""
    t = slot_end(d, slot) + timedelta(minutes=latency_min)
    midnight = datetime(t.year, t.month, t.day)
    m = math.ceil((t - midnight).total_seconds() / 60 / every_min) * every_min
    return midnight + timedelta(minutes=m)


def last_seen_slot(at: datetime, *, latency_min: int = DELIVERY_LATENCY_MIN) -> int:
    """The last half hour of ``at``'s date that a run at ``at`` can see (-1: none yet)."""
    seen = at - timedelta(minutes=latency_min)
    if seen.date() < at.date():
        return -1
    return int((seen - datetime(at.year, at.month, at.day)).total_seconds() // 1800) - 1
