"""Readings of a batch of households on a dense household x half-hour grid, and reductions
over its local days.

Columns are consecutive UTC half hours, so "the next half hour" is the next column for every
household, and the local calendar of a column (its date, wall-clock time, behavioural day)
is the same for all households: it is kept once, as 1-D arrays, not per reading. A missing
reading is NaN; zero kWh is a reading. Days are contiguous column ranges (46, 48 or 50
columns), so per-day aggregates are ``reduceat`` calls over the whole batch at once.

Conventions (as before the grid):
- ``clock_min``: local wall-clock minutes after midnight of the half hour's start, from the
  readings' own ``local_ts`` (46/50-slot days keep true clock times).
- behavioural day: readings before 03:00 belong to the previous day, with minutes
  1440.. (a bedtime of 00:30 reads as 24.5 h on the evening it belongs to).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import polars as pl

BDAY_SHIFT_MIN = 3 * 60
HALF_HOUR_MIN = 30


class Segments:
    """Contiguous column ranges labelled by a non-decreasing id per column (a local date or
    behavioural date, as days since the timeline's first date), and reductions over them.

    Every reduction returns an (households, n_days) array aligned with days 0..n_days-1; a
    day without columns (only possible for behavioural days at the edges) gets the empty value.
    """

    def __init__(self, ids: np.ndarray, n_days: int):
        if len(ids) and np.any(np.diff(ids) < 0):
            raise ValueError("timeline columns are not in local-date order")
        self.ids = ids
        self.n_days = n_days
        self.starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, int)
        self.labels = ids[self.starts]
        self.keep = (self.labels >= 0) & (self.labels < n_days)
        # First column of each column's segment, minus one: runs restart there.
        self.run_floor = np.repeat(self.starts, np.diff(np.r_[self.starts, len(ids)])) - 1

    def _place(self, per_segment: np.ndarray, empty) -> np.ndarray:
        out = np.full((per_segment.shape[0], self.n_days), empty, dtype=per_segment.dtype)
        out[:, self.labels[self.keep]] = per_segment[:, self.keep]
        return out

    def sum(self, a: np.ndarray) -> np.ndarray:
        """Per-day sums of (H, T) values (use 0 for cells to leave out)."""
        if a.dtype == bool:
            a = a.astype(np.int32)
        return self._place(np.add.reduceat(a, self.starts, axis=1), 0)

    def min_where(self, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per-day minimum of ``values`` (1-D per column, or (H, T)) where ``mask``; NaN if none."""
        got = np.minimum.reduceat(np.where(mask, values, np.inf), self.starts, axis=1)
        return self._place(np.where(np.isinf(got), np.nan, got), np.nan)

    def max_where(self, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per-day maximum of ``values`` where ``mask``; NaN if none."""
        got = np.maximum.reduceat(np.where(mask, values, -np.inf), self.starts, axis=1)
        return self._place(np.where(np.isinf(got), np.nan, got), np.nan)

    def longest_run(self, cond: np.ndarray) -> np.ndarray:
        """Longest run of consecutive True cells within each day (runs end at day boundaries;
        a missing reading is False, so gaps end runs too). 0 when cond never holds."""
        pos = np.arange(cond.shape[1], dtype=np.int32)
        last_break = np.maximum.accumulate(
            np.maximum(np.where(cond, -1, pos), self.run_floor.astype(np.int32)), axis=1)
        return self._place(np.maximum.reduceat(pos - last_break, self.starts, axis=1), 0)

    def spread(self, per_day: np.ndarray) -> np.ndarray:
        """(H, n_days) values repeated onto each day's columns, (H, T); NaN outside 0..n_days-1."""
        ext = np.concatenate([per_day, np.full((per_day.shape[0], 1), np.nan)], axis=1)
        idx = np.where((self.ids >= 0) & (self.ids < self.n_days), self.ids, self.n_days)
        return ext[:, idx]


@dataclass
class Timeline:
    """kwh (households x columns, NaN = no reading) with each column's local calendar."""

    households: list[str]
    kwh: np.ndarray
    first_day: int      # local date of day 0, days since 1970-01-01
    n_days: int
    local_min: np.ndarray  # (T,) local wall-clock minutes since 1970 at each column's start
    day: np.ndarray = field(init=False)
    clock_min: np.ndarray = field(init=False)
    bday_min: np.ndarray = field(init=False)
    days: Segments = field(init=False)
    bdays: Segments = field(init=False)
    _clock_bins: dict = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self):
        self.day = self.local_min // 1440 - self.first_day
        self.clock_min = self.local_min % 1440
        bday = (self.local_min - BDAY_SHIFT_MIN) // 1440
        self.bday_min = self.local_min - bday * 1440
        self.days = Segments(self.day, self.n_days)
        self.bdays = Segments(bday - self.first_day, self.n_days)

    @cached_property
    def clock_h(self) -> np.ndarray:
        return self.clock_min / 60.0

    @cached_property
    def present(self) -> np.ndarray:
        """(H, T): a reading is there (zero kWh included). Computed once per batch."""
        return ~np.isnan(self.kwh)

    def clock_bins(self, minutes: int) -> np.ndarray:
        """:meth:`columns_by_bin` for clock bins of ``minutes`` (30: half hours, 60: hours),
        built once per batch: the profiles ask for each several times."""
        if minutes not in self._clock_bins:
            self._clock_bins[minutes] = self.columns_by_bin(self.clock_min // minutes, 1440 // minutes)
        return self._clock_bins[minutes]

    def dates(self) -> np.ndarray:
        return np.arange(self.first_day, self.first_day + self.n_days).astype("datetime64[D]")

    def columns_by_bin(self, bins: np.ndarray, n_bins: int, mask: np.ndarray | None = None) -> np.ndarray:
        """(n_days, n_bins, k) column indices of each day's columns in each bin (e.g. clock
        half hour), padded with T (an extra empty column): k is 1 on ordinary days and larger
        where a clock-change day repeats an hour. ``mask`` limits the columns considered."""
        cols = np.arange(len(self.day)) if mask is None else np.flatnonzero(mask)
        cols = cols[(self.day[cols] >= 0) & (self.day[cols] < self.n_days)]
        key = self.day[cols] * n_bins + bins[cols]
        order = np.argsort(key, kind="stable")
        key, cols = key[order], cols[order]
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, int)
        rank = np.arange(len(key)) - np.repeat(first, np.diff(np.r_[first, len(key)]))
        k = int(rank.max()) + 1 if len(rank) else 1
        table = np.full((self.n_days * n_bins, k), len(self.day), dtype=np.int64)
        table[key, rank] = cols
        return table.reshape(self.n_days, n_bins, k)

    @staticmethod
    def gather(a: np.ndarray, table: np.ndarray, fill) -> np.ndarray:
        """a[:, table] with the padding column T reading ``fill``: (H, *table.shape)."""
        ext = np.concatenate([a, np.full((a.shape[0], 1), fill, dtype=a.dtype)], axis=1)
        return ext[:, table]

    @classmethod
    def from_arrays(cls, households: list[str], hh: np.ndarray, utc_halfhour: np.ndarray,
                    offset_min: np.ndarray, kwh: np.ndarray) -> Timeline:
        """Build from one row per reading: household index, UTC half hours since 1970, the
        reading's local-minus-UTC offset in minutes, and kWh."""
        n_h = len(households)
        if len(hh) == 0:
            return cls(households, np.zeros((n_h, 0)), 0, 0, np.zeros(0, dtype=np.int64))
        utc_halfhour = utc_halfhour.astype(np.int64)
        local = utc_halfhour * HALF_HOUR_MIN + offset_min
        first_day, last_day = int(local.min() // 1440), int(local.max() // 1440)
        # Column 0 is local midnight of the first date (its offset taken from the earliest
        # reading); the last column ends at local midnight after the last date.
        i0 = int(np.argmin(local))
        t0 = int(utc_halfhour[i0] - (local[i0] - first_day * 1440) // HALF_HOUR_MIN)
        i1 = int(np.argmax(local))
        t_end = int(utc_halfhour[i1] + ((last_day + 1) * 1440 - local[i1]) // HALF_HOUR_MIN)
        n_t = t_end - t0
        t = utc_halfhour - t0
        offset = np.full(n_t, np.iinfo(np.int64).min, dtype=np.int64)
        offset[t] = offset_min
        offset = _fill(offset)
        grid = np.full(n_h * n_t, np.nan)
        grid[hh.astype(np.int64) * n_t + t] = kwh  # flat scatter: much faster than grid[hh, t]
        grid = grid.reshape(n_h, n_t)
        local_min = (t0 + np.arange(n_t, dtype=np.int64)) * HALF_HOUR_MIN + offset
        return cls(households, grid, first_day, last_day - first_day + 1, local_min)

    @classmethod
    def from_frame(cls, readings: pl.DataFrame) -> Timeline:
        """From a readings frame (household_id, ts_utc, local_ts, kwh)."""
        codes = readings.select(pl.col("household_id").unique(maintain_order=False).sort())["household_id"]
        households = codes.to_list()
        minutes = pl.col("ts_utc").cast(pl.Datetime("us")).to_physical() // 60_000_000
        local = pl.col("local_ts").cast(pl.Datetime("us")).to_physical() // 60_000_000
        cols = readings.select(
            hh=pl.col("household_id").replace_strict(households, list(range(len(households))),
                                                     return_dtype=pl.Int64),
            utc=minutes // HALF_HOUR_MIN,
            offset=local - minutes + minutes % HALF_HOUR_MIN,
            kwh=pl.col("kwh").cast(pl.Float64),
        )
        return cls.from_arrays(households, cols["hh"].to_numpy(), cols["utc"].to_numpy(),
                               cols["offset"].to_numpy(), cols["kwh"].to_numpy())


def _fill(values: np.ndarray) -> np.ndarray:
    """Forward- then backward-fill the int64-min entries (columns nobody has a reading in)."""
    missing = values == np.iinfo(np.int64).min
    if not missing.any():
        return values
    idx = np.where(~missing, np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = values[idx]
    first = int(np.argmax(~missing))
    out[:first] = values[first]
    return out
