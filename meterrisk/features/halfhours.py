"""A day's half hours as a sequence of Polars expressions with their local clock times.

Daily features are whole-frame expressions over a day table with one column per half hour
(``k0``, ``k1``, ...). :class:`HalfHours` holds such a sequence, one expression per half hour
and its clock (hours, local wall clock, as constants of the day's layout), so a feature reads
like its definition: ``active.between(6, 9).count()``. Every reduction returns one
expression per day row. Missing readings are null; zero kWh is a reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class HalfHours:
    """Expressions, one per half hour, in elapsed-time order, with each one's clock (hours)."""

    exprs: tuple[pl.Expr, ...]
    clock_h: tuple[float, ...]

    # -------------------------------------------------------------- selection

    def where_clock(self, keep: Callable[[float], bool]) -> HalfHours:
        pairs = [(e, c) for e, c in zip(self.exprs, self.clock_h) if keep(c)]
        return HalfHours(tuple(e for e, _ in pairs), tuple(c for _, c in pairs))

    def between(self, start_h: float, end_h: float) -> HalfHours:
        """The half hours whose clock time is in [start_h, end_h)."""
        return self.where_clock(lambda c: start_h <= c < end_h)

    def before(self, end_h: float) -> HalfHours:
        return self.where_clock(lambda c: c < end_h)

    def from_(self, start_h: float) -> HalfHours:
        return self.where_clock(lambda c: c >= start_h)

    # -------------------------------------------------------------- elementwise

    def map(self, fn: Callable[[pl.Expr], pl.Expr]) -> HalfHours:
        return HalfHours(tuple(fn(e) for e in self.exprs), self.clock_h)

    def zip_with(self, other: HalfHours, fn: Callable[[pl.Expr, pl.Expr], pl.Expr]) -> HalfHours:
        if self.clock_h != other.clock_h:
            raise ValueError("half-hour sequences of different layouts cannot be combined")
        return HalfHours(tuple(fn(a, b) for a, b in zip(self.exprs, other.exprs)), self.clock_h)

    def __and__(self, other: HalfHours) -> HalfHours:
        return self.zip_with(other, lambda a, b: a & b)

    def __invert__(self) -> HalfHours:
        return self.map(lambda e: ~e)

    def __add__(self, other: HalfHours) -> HalfHours:
        """Concatenation in time order (today's evening, then the next morning)."""
        return HalfHours(self.exprs + other.exprs, self.clock_h + other.clock_h)

    # -------------------------------------------------------------- reductions

    def total(self) -> pl.Expr:
        """Sum of the values (nulls skipped); 0 for no half hours."""
        if not self.exprs:
            return pl.lit(0.0)
        return pl.sum_horizontal(self.exprs)

    def count(self) -> pl.Expr:
        """Half hours where the (boolean) expression holds."""
        if not self.exprs:
            return pl.lit(0, dtype=pl.Int32)
        return pl.sum_horizontal(e.cast(pl.Int32) for e in self.exprs).cast(pl.Int32)

    def maximum(self) -> pl.Expr:
        """Largest value (nulls skipped); null when every value is null."""
        return pl.max_horizontal(self.exprs) if self.exprs else pl.lit(None, dtype=pl.Float64)

    def first_clock(self) -> pl.Expr:
        """Earliest clock time (hours) where the boolean expression holds; null if none."""
        return self._clock_where(pl.min_horizontal, self.clock_h)

    def last_end(self) -> pl.Expr:
        """Latest clock time (hours) at which a half hour where the expression holds ends."""
        return self._clock_where(pl.max_horizontal, tuple(c + 0.5 for c in self.clock_h))

    def _clock_where(self, reduce, clocks) -> pl.Expr:
        if not self.exprs:
            return pl.lit(None, dtype=pl.Float64)
        return reduce(pl.when(e).then(pl.lit(c, dtype=pl.Float64)) for e, c in zip(self.exprs, clocks))

    def longest_run(self) -> pl.Expr:
        """Longest run of consecutive half hours where the boolean expression holds (a missing
        reading must be False to end a run). 0 when it never holds."""
        if not self.exprs:
            return pl.lit(0, dtype=pl.Int32)
        if len(self.exprs) > 63:
            raise ValueError("longest_run handles at most 63 half hours")
        # The flags as bits of one integer, then a vectorised kernel: a run of n expressions
        # written as nested when/then grows quadratically in the plan.
        bits = pl.sum_horizontal(
            pl.when(e).then(pl.lit(1 << i, dtype=pl.Int64)).otherwise(pl.lit(0, dtype=pl.Int64))
            for i, e in enumerate(self.exprs))
        return bits.map_batches(_longest_run_of_ones, return_dtype=pl.Int32)


def _longest_run_of_ones(bits: pl.Series) -> pl.Series:
    """Per value, the longest run of consecutive 1 bits (x & (x << 1) shortens every run by one)."""
    x = bits.to_numpy().astype(np.int64, copy=True)
    out = np.zeros(len(x), dtype=np.int32)
    while True:
        alive = x != 0
        if not alive.any():
            return pl.Series(out)
        out += alive
        x &= x << 1
