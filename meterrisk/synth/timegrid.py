"""The half-hour grid of the period, in absolute time with its local wall-clock view.

Loads are generated per absolute half hour (UTC) but shaped by the local wall clock, so a zone
with daylight saving gets 46/50-slot days for free and Asia/Tokyo always has 48.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

HALF_HOUR_US = 30 * 60 * 1_000_000


@dataclass(frozen=True)
class Grid:
    """Slots from local midnight of ``start`` to local midnight ``days`` later."""

    start: date
    days: int
    tz: str

    @cached_property
    def _instants(self) -> list[datetime]:
        zone = ZoneInfo(self.tz)
        first = datetime.combine(self.start, time(0), zone).astimezone(timezone.utc)
        last = datetime.combine(self.start + timedelta(days=self.days), time(0), zone)
        last = last.astimezone(timezone.utc)
        n = int((last - first) / timedelta(minutes=30))
        return [first + timedelta(minutes=30 * i) for i in range(n)]

    @property
    def n_slots(self) -> int:
        return len(self._instants)

    @cached_property
    def utc_us(self) -> np.ndarray:
        """Start of each half hour, microseconds since the Unix epoch (UTC), shape (T,)."""
        first = int(self._instants[0].timestamp()) * 1_000_000
        return first + HALF_HOUR_US * np.arange(self.n_slots, dtype=np.int64)

    @cached_property
    def _local(self) -> list[datetime]:
        zone = ZoneInfo(self.tz)
        return [t.astimezone(zone) for t in self._instants]

    @cached_property
    def day(self) -> np.ndarray:
        """Local date index (0 = start) of each slot, shape (T,)."""
        return np.array([(t.date() - self.start).days for t in self._local], dtype=np.int32)

    @cached_property
    def hour(self) -> np.ndarray:
        """Local wall-clock hour of the slot start (0.0, 0.5, ..., 23.5), shape (T,)."""
        return np.array([t.hour + t.minute / 60 for t in self._local], dtype=np.float64)

    @cached_property
    def slot_of_day(self) -> np.ndarray:
        """0-based elapsed half hour since local midnight, shape (T,)."""
        first_of_day = np.searchsorted(self.day, np.arange(self.days))
        return (np.arange(self.n_slots) - first_of_day[self.day]).astype(np.int16)

    @cached_property
    def day_first(self) -> np.ndarray:
        """Index of each local day's first slot, plus ``n_slots`` at the end, shape (days+1,)."""
        return np.concatenate([np.searchsorted(self.day, np.arange(self.days)), [self.n_slots]])

    @cached_property
    def slots_per_day(self) -> np.ndarray:
        return np.bincount(self.day, minlength=self.days)

    @cached_property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @cached_property
    def day_of_year(self) -> np.ndarray:
        """Day of year (1..366) of each local date, shape (days,)."""
        return np.array([d.timetuple().tm_yday for d in self.dates], dtype=np.float64)

    @cached_property
    def iso(self) -> np.ndarray:
        """Local ISO 8601 timestamp with offset per slot, e.g. 2025-04-01T00:30:00+09:00."""
        return np.array([t.isoformat() for t in self._local], dtype=object)

    def iso_at(self, utc_us: int) -> str:
        zone = ZoneInfo(self.tz)
        t = datetime.fromtimestamp(utc_us / 1e6, timezone.utc).astimezone(zone)
        return t.isoformat()
