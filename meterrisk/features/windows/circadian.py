"""Circadian (actigraphy-style) metrics on hourly activity above the baseload.

Input: the stored per-day profiles of valid days, 24 local clock hours each (``_x0..23``
excess kWh, ``_a0..23`` active half hours; null = hour without reading), accumulated like
every other window sum. x[i] below is the energy above baseload in hour i of the window's
concatenated days (a day without a profile is 24 missing hours). Definitions follow van
Someren et al. (1999) as used in actigraphy.

Each public function is one metric of one window's :class:`Hours`; the registry computes it
for every window in ``WINDOWS`` (columns ``{metric}_{suffix}``) and the differences in
``DELTAS`` (``{metric}_delta`` = 28d - baseline).
"""

from __future__ import annotations

import math
from functools import cached_property

import polars as pl

from meterrisk.features.windows.spans import BASELINE, RECENT
from meterrisk.features.windows.sums import H, Window, residual

#: suffix -> (span of ages, what the catalogue says it covers)
WINDOWS = {"28d": (RECENT, "the 28 days up to as_of"), "baseline": (BASELINE, "weeks 5-12 before as_of")}
DELTAS = ("interdaily_stability", "intradaily_variability", "relative_amplitude")
#: Blocks within this share of the largest block of the lowest (highest) count as tied: the
#: earliest hour wins. Hour means read from cumulative sums carry rounding of that size (an
#: hour of zeros reads as 1e-17, not 0), so equal blocks would otherwise be ordered by it.
TIE = 1e-12

_X = [pl.col(f"_x{h}") for h in range(24)]
_A = [pl.col(f"_a{h}") for h in range(24)]
_C = [pl.col(f"_c_x{h}") for h in range(24)]  # the household's mean of each clock hour


class Hours:
    """Window sums of the hourly profiles over one span, and the quantities the metrics use."""

    def __init__(self, w: Window, span: tuple[int, int]):
        self.w, self.span = w, span
        self.tag = f"_hours{span[0]}:{span[1]}"

    def _sum(self, day_expr: pl.Expr, span: tuple[int, int] | None = None) -> pl.Expr:
        return self.w.total(day_expr, span or self.span)

    @cached_property
    def hour_n(self) -> list[pl.Expr]:
        return [self._sum(x.is_not_null()) for x in _X]

    @cached_property
    def hour_sum(self) -> list[pl.Expr]:
        """Per clock hour: sum of (x - household mean of that hour) over its readings."""
        return [self._sum(x - c) for x, c in zip(_X, _C)]

    @cached_property
    def hour_mean(self) -> list[pl.Expr]:
        """Mean x per clock hour (the average day), null for an hour never seen."""
        return [self.w.derive(f"{self.tag} mean {h}", pl.when(n > 0).then(self.w.at_as_of(c) + s / n), 1)
                for h, (n, s, c) in enumerate(zip(self.hour_n, self.hour_sum, _C))]

    @cached_property
    def n_hours(self) -> pl.Expr:
        return pl.sum_horizontal(self.hour_n)

    @cached_property
    def between_ss(self) -> pl.Expr:
        """sum_h n_h (mean_h - mean)^2 over the clock hours with a reading."""
        total = pl.sum_horizontal(pl.when(n > 0).then(n * m) for n, m in zip(self.hour_n, self.hour_mean))
        mean = self.w.derive(f"{self.tag} mean", total / self.n_hours, 2)
        return pl.sum_horizontal(
            pl.when(n > 0).then(n * (m - mean) ** 2) for n, m in zip(self.hour_n, self.hour_mean))

    @cached_property
    def total_ss(self) -> pl.Expr:
        """sum_i (x_i - mean)^2 over every hour of the window: between_ss plus each clock
        hour's own sum of squares about its mean (so IS never exceeds 1 by rounding)."""
        within = []
        for x, c, n, s in zip(_X, _C, self.hour_n, self.hour_sum):
            sq, noise = self.w.squares((x - c) ** 2, self.span)
            within.append(residual(sq, s * s / n, noise))
        within = pl.sum_horizontal(pl.when(n > 0).then(v) for n, v in zip(self.hour_n, within))
        return self.w.derive(f"{self.tag} total_ss", self.between_ss + within, 3)

    @cached_property
    def mean_sq_step(self) -> pl.Expr:
        """Mean squared change between consecutive hours with readings: within each day, and
        from 23:00 to 00:00 when both days are in the window."""
        steps = [(b - a) ** 2 for a, b in zip(_X, _X[1:])]
        within = self._sum(pl.sum_horizontal(steps))
        within_n = self._sum(pl.sum_horizontal(s.is_not_null() for s in steps))
        across = (_X[0] - _X[23].shift(1).over(H)) ** 2  # the previous dense row is yesterday
        lo, hi = self.span
        night = self._sum(across, (lo, hi - 1))  # the window's first day has no yesterday in it
        night_n = self._sum(across.is_not_null(), (lo, hi - 1))
        n = within_n + night_n
        return pl.when(n > 0).then((within + night) / n)

    def blocks(self, width: int) -> list[pl.Expr]:
        """Mean of each run of ``width`` consecutive clock hours of the average day, wrapping
        round midnight, by starting hour (24); unseen hours are skipped."""
        m = self.hour_mean
        out = []
        for start in range(24):
            run = [m[(start + j) % 24] for j in range(width)]
            seen = pl.sum_horizontal(v.is_not_null() for v in run)
            block = pl.when(seen > 0).then(pl.sum_horizontal(run) / seen)
            out.append(self.w.derive(f"{self.tag} block{width} {start}", block, 2))
        return out

    def extreme(self, width: int, lowest: bool) -> tuple[pl.Expr, pl.Expr, list[pl.Expr]]:
        """The lowest (highest) block mean of ``width`` hours, the largest block's size (the
        scale of the blocks' rounding), and the blocks."""
        blocks = self.blocks(width)
        best = pl.min_horizontal(blocks) if lowest else pl.max_horizontal(blocks)
        size = pl.max_horizontal(b.abs() for b in blocks)
        return (self.w.derive(f"{self.tag} {'min' if lowest else 'max'}{width}", best, 3),
                self.w.derive(f"{self.tag} size{width}", size, 3), blocks)

    @cached_property
    def hourly_active(self) -> list[pl.Expr]:
        return [self._sum(a.fill_null(0)) for a in _A]


def _first_extreme(h: Hours, width: int, lowest: bool, value: bool) -> pl.Expr:
    """Start hour (or, with ``value``, the mean) of the first block of ``width`` hours within
    TIE of the lowest (highest); null when no block is seen."""
    best, size, blocks = h.extreme(width, lowest)
    margin = size * TIE
    out = pl.when(False).then(None)
    for start, b in enumerate(blocks):
        near = (b <= best + margin) if lowest else (b >= best - margin)
        out = out.when(near).then(b if value else pl.lit(float(start)))
    return out.otherwise(None).cast(pl.Float64)


def interdaily_stability(h: Hours) -> pl.Expr:
    """IS: how alike the days are, sum_h n_h (mean_h - mean)^2 / sum_i (x_i - mean)^2.

    Unit: ratio (0-1, 1 = every day identical)
    Edge cases: null when activity is constant over the window.
    """
    return pl.when(h.total_ss > 0).then(h.between_ss / h.total_ss)


def intradaily_variability(h: Hours) -> pl.Expr:
    """IV: fragmentation, mean squared hour-to-hour change / variance (0..~2; high = fragmented).

    Unit: ratio
    Edge cases: hour pairs across a missing day are skipped; null when activity is constant.
    """
    return pl.when(h.total_ss > 0).then(h.mean_sq_step / (h.total_ss / h.n_hours))


def l5_kwh(h: Hours) -> pl.Expr:
    """L5: mean energy above baseload per hour in the least active 5 consecutive hours of the
    average day (wrapping round midnight).

    Unit: kWh per hour
    """
    return _first_extreme(h, 5, lowest=True, value=True)


def m10_kwh(h: Hours) -> pl.Expr:
    """M10: mean energy above baseload per hour in the most active 10 consecutive hours.

    Unit: kWh per hour
    """
    return _first_extreme(h, 10, lowest=False, value=True)


def l5_onset_h(h: Hours) -> pl.Expr:
    """Local clock hour at which the L5 period starts (rest phase timing).

    Unit: hours (local clock, 0-23)
    """
    return _first_extreme(h, 5, lowest=True, value=False)


def m10_onset_h(h: Hours) -> pl.Expr:
    """Local clock hour at which the M10 period starts (active phase timing).

    Unit: hours (local clock, 0-23)
    """
    return _first_extreme(h, 10, lowest=False, value=False)


def relative_amplitude(h: Hours) -> pl.Expr:
    """RA = (M10 - L5) / (M10 + L5): rest/activity contrast (0..1; low = flattened rhythm).

    Unit: ratio (0-1)
    Edge cases: null when M10 + L5 = 0.
    """
    l5, m10 = l5_kwh(h), m10_kwh(h)
    return pl.when(m10 + l5 > 0).then((m10 - l5) / (m10 + l5))


def activity_entropy(h: Hours) -> pl.Expr:
    """Normalised Shannon entropy of when active half hours fall across the 24 clock hours
    (0 = all in one hour, 1 = spread evenly round the clock).

    Unit: ratio (0-1)
    Edge cases: null when there is no active half hour in the window.
    """
    counts = h.hourly_active
    total = pl.sum_horizontal(counts)
    acc = pl.lit(0.0)
    for a in counts:  # left to right, as the definition's sum runs
        p = a / total
        acc = acc + pl.when(p > 0).then(-p * p.log()).otherwise(0.0)
    return pl.when(total > 0).then(acc / math.log(24))
