"""The local clock of every half hour of a local date, in the store's zone.

A day row holds its half hours in elapsed-time order (``reading_days.kwh``, slot 0 = the half
hour starting at local midnight). What a slot means on the wall clock depends on the date:
slot i is 00:00 + 30 i minutes on an ordinary day, but a 50-slot autumn day repeats 01:00-02:00
and a 46-slot spring day skips it. Features ask for clock windows ("06:00-09:00"), so each
date's slot clocks are computed once here and the feature expressions are built per distinct
layout with the clocks as constants (a Tokyo store has one layout; London about seven a year).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import polars as pl

HALF_HOUR = timedelta(minutes=30)
ORDINARY: tuple[int, ...] = tuple(range(0, 1440, 30))


@lru_cache(maxsize=4096)
def slot_clocks(day: date, zone: str) -> tuple[int, ...]:
    """Local wall-clock minutes after midnight at the start of each half hour of ``day``."""
    tz = ZoneInfo(zone)
    start = day_start_utc(day, tz)
    end = day_start_utc(day + timedelta(days=1), tz)
    n = int((end - start) / HALF_HOUR)
    out = []
    for i in range(n):
        local = (start + i * HALF_HOUR).astimezone(tz)
        out.append(local.hour * 60 + local.minute)
    return tuple(out)


def day_start_utc(day: date, tz: ZoneInfo | str) -> datetime:
    """The UTC instant the local date starts: midnight, or the first wall-clock time after a
    gap when the zone skips midnight itself (a few zones change clocks at 00:00)."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    naive = datetime(day.year, day.month, day.day)
    for minutes in range(0, 180, 30):
        local = (naive + timedelta(minutes=minutes)).replace(tzinfo=tz)
        # A wall-clock time inside a gap does not survive the round trip through UTC.
        back = local.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
        if back == naive + timedelta(minutes=minutes):
            return local.astimezone(timezone.utc)
    raise ValueError(f"cannot find the start of {day} in {tz.key}")


def layout_table(first: date, last: date, zone: str) -> pl.DataFrame:
    """One row per date first..last: local_date, layout (a small integer, 0 = ordinary 48-slot
    day) and slots. ``layouts(...)`` maps a layout number back to its clocks."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ids, slots = [], []
    for d in days:
        clocks = slot_clocks(d, zone)
        ids.append(_layout_id(clocks))
        slots.append(len(clocks))
    return pl.DataFrame({"local_date": days, "layout": ids, "slots": slots},
                        schema={"local_date": pl.Date, "layout": pl.Int32, "slots": pl.Int16})


_LAYOUTS: dict[tuple[int, ...], int] = {ORDINARY: 0}
_BY_ID: list[tuple[int, ...]] = [ORDINARY]


def _layout_id(clocks: tuple[int, ...]) -> int:
    if clocks not in _LAYOUTS:
        _LAYOUTS[clocks] = len(_BY_ID)
        _BY_ID.append(clocks)
    return _LAYOUTS[clocks]


def clocks_of(layout: int) -> tuple[int, ...]:
    """The slot clocks (minutes) of a layout number from :func:`layout_table`."""
    return _BY_ID[layout]
