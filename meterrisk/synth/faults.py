"""Data-quality faults injected on purpose, so ingest and quality rules meet real-world mess.

With rate r each household-day (with consent) has probability r of one incident; the kind is
drawn by the weights in ``FaultParams`` among the kinds the layout can express (a typed
Parquet column cannot hold an unparseable timestamp). When r > 0 the first chunk also gets
one incident of every applicable kind, so small cohorts exercise each of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meterrisk.synth.params import FaultParams

_VALUE = ("missing_slots", "missing_day", "duplicate", "conflicting_duplicate", "spike")
APPLICABLE = {
    "long": _VALUE + ("negative", "off_grid_ts"),
    "csv": _VALUE + ("negative", "off_grid_ts", "unparseable_ts", "non_numeric_kwh",
                     "malformed_line"),
    "wide": _VALUE + ("negative", "unparseable_ts", "non_numeric_kwh", "malformed_line"),
    "register": _VALUE + ("off_grid_ts", "unparseable_ts", "non_numeric_kwh", "malformed_line",
                          "meter_reset"),
}
#: Minutes past the half hour used for off-grid timestamps.
OFF_GRID_MINUTES = 17


@dataclass(frozen=True)
class Incident:
    row: int      # household row within the chunk
    kind: str
    slot: int     # affected slot (first slot of the run / day for missing kinds)
    length: int   # number of slots affected (missing_slots, missing_day), else 1


def plan(rng: np.random.Generator, rate: float, present: np.ndarray, day_first: np.ndarray,
         solar: np.ndarray, layout: str, params: FaultParams, force_all: bool) -> list[Incident]:
    """Choose incidents on slots that have readings (``present`` is (H, T) bool)."""
    if rate <= 0:
        return []
    kinds = APPLICABLE[layout]
    w = np.array([params.weights.get(k, 0.0) for k in kinds])
    h, t = present.shape
    n_days = len(day_first) - 1
    rows, days = np.nonzero(rng.random((h, n_days)) < rate)
    chosen = list(rng.choice(len(kinds), size=len(rows), p=w / w.sum()))
    if force_all:
        cand = np.flatnonzero(present.any(axis=1))
        if len(cand):
            extra_rows = rng.choice(cand, len(kinds))
            # Forced incidents go first so a random one cannot take their household-day.
            rows = np.concatenate([extra_rows, rows])
            days = np.concatenate([rng.integers(0, n_days, len(kinds)), days])
            chosen = list(range(len(kinds))) + chosen
    out: list[Incident] = []
    used: set[tuple[int, int]] = set()
    for row, day, k in zip(rows.tolist(), days.tolist(), chosen):
        kind = kinds[k]
        if kind == "negative" and solar[row]:
            kind = "spike"  # a negative net reading is legitimate on a solar home
        lo, hi = day_first[day], day_first[day + 1]
        ok = np.flatnonzero(present[row, lo:hi])
        if len(ok) == 0:
            # Outside the consent window: move to a day that has readings, if any.
            anyp = np.flatnonzero(present[row])
            if len(anyp) == 0:
                continue
            s = int(anyp[rng.integers(len(anyp))])
            day = int(np.searchsorted(day_first, s, side="right") - 1)
            lo, hi = day_first[day], day_first[day + 1]
            ok = np.flatnonzero(present[row, lo:hi])
        s = int(lo + ok[rng.integers(len(ok))])
        if kind == "missing_day":
            s, length = int(lo), int(hi - lo)
        elif kind == "missing_slots":
            length = int(rng.integers(1, 7))
        else:
            length = 1
        # One incident per household-day keeps the truth file unambiguous.
        if (row, day) in used:
            continue
        used.add((row, day))
        out.append(Incident(row, kind, s, length))
    return out


def apply_to_values(kwh: np.ndarray, present: np.ndarray, incidents: list[Incident],
                    spike_kwh: float, layout: str) -> None:
    """In place: gaps, spikes and negative values (register handles spikes itself)."""
    for inc in incidents:
        if inc.kind in ("missing_slots", "missing_day"):
            present[inc.row, inc.slot:inc.slot + inc.length] = False
        elif inc.kind == "spike" and layout != "register":
            kwh[inc.row, inc.slot] = spike_kwh
        elif inc.kind == "negative":
            kwh[inc.row, inc.slot] = -round(abs(kwh[inc.row, inc.slot]) + 0.1, 3)
