"""Per-day clock profiles: active half hours on the 48 clock half hours (regularity), and
energy above baseload and active half hours per clock hour (circadian metrics).

Profiles are by *clock* time, so on a 50-slot day the repeated hour's readings share their
clock bins, and on a 46-slot day the skipped bins have no reading.
"""

from __future__ import annotations

import numpy as np

from reference_numpy import activity as A
from reference_numpy.timeline import Timeline


def _bin_sums(tl: Timeline, values: np.ndarray, minutes: int, fill) -> np.ndarray:
    """(H, D, 1440 / minutes) per-clock-bin sums of (H, T) values."""
    table = tl.clock_bins(minutes)
    if table.shape[2] == 1:
        return Timeline.gather(values, table[..., 0], fill)
    return Timeline.gather(values, table, fill).sum(axis=3)


def halfhour_active(tl: Timeline, act: A.Activity) -> np.ndarray:
    """(H, D, 48): 1.0 when any reading in the clock half hour is active, 0.0 when none is,
    NaN when the half hour has no reading."""
    seen = _bin_sums(tl, tl.present, 30, False) > 0
    active = _bin_sums(tl, act.active, 30, False) > 0
    return np.where(seen, active.astype(np.float64), np.nan)


def hourly(tl: Timeline, act: A.Activity) -> tuple[np.ndarray, np.ndarray]:
    """(H, D, 24) energy above baseload and active half hours per clock hour; NaN for an hour
    without a reading."""
    seen = _bin_sums(tl, tl.present, 60, False) > 0
    excess = _bin_sums(tl, act.excess_kwh, 60, 0.0)
    active = _bin_sums(tl, act.active, 60, False)
    return np.where(seen, excess, np.nan), np.where(seen, active, np.nan)


def window_sums(a: np.ndarray, days: int) -> np.ndarray:
    """Sum of ``a`` over the ``days`` days before each day (axis 1), excluding the day itself."""
    c = np.cumsum(a, axis=1)
    out = np.zeros_like(c)
    out[:, 1:] = c[:, :-1]  # sum of the days before each day
    out[:, days + 1:] -= c[:, :-days - 1]  # minus those more than ``days`` back
    return out


def regularity_norm(profiles: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each day: the summed active flags and reading counts per clock half hour over the
    valid days among the previous 28, and how many such days there are. ``profiles`` is
    (H, D, 48) from :func:`halfhour_active` (NaN = no reading); only days with ``valid`` count."""
    # Counts (at most 28) are exact in float32, which halves the memory traffic.
    use = valid[..., None] & ~np.isnan(profiles)
    active = np.where(use, profiles, 0.0).astype(np.float32)
    return (window_sums(active, A.REGULARITY_DAYS),
            window_sums(use.astype(np.float32), A.REGULARITY_DAYS),
            window_sums(valid.astype(np.float32), A.REGULARITY_DAYS))
