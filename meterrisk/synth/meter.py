"""What the meter does to readings: zeros in normal use, outages, flat lines and gaps.

These are data faults, not behaviour: the load model runs underneath unchanged (a collapse
during an outage still happens, it is just unseen), and every span is written to
``truth/faults.csv`` with ``ts`` (first slot) and ``end_ts`` (exclusive). Exact zeros in normal
use are readings, not faults, and are described per home by ``zero_propensity`` in
``truth/household_traits.csv``. Rates and their sources: ``MeterParams``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from meterrisk.synth.params import MeterParams

#: Span kinds, in the order they are planned (a later kind never overlaps an earlier one).
SPAN_KINDS = ("stopped_reporting", "meter_outage", "flat_line", "no_data")


def zero_propensity(has_solar: np.ndarray, rng: np.random.Generator,
                    mp: MeterParams) -> np.ndarray:
    """Per-home probability that a quiet half hour reads exactly 0 (0 for most homes).

    Solar homes are left out: their net reading crosses zero for another reason.
    """
    n = len(has_solar)
    prone = (rng.random(n) < mp.zero_home_share) & ~has_solar
    p = rng.beta(*mp.zero_propensity_beta, n)
    return np.where(prone, np.round(p, 3), 0.0)


def apply_zeros(kwh: np.ndarray, floor: np.ndarray, propensity: np.ndarray,
                rng: np.random.Generator, margin: float) -> None:
    """In place: quiet slots (within ``margin`` of the floor) read 0 with p, others with p**2."""
    rows = np.flatnonzero(propensity)
    if not len(rows):
        return
    sub = kwh[rows]
    p = propensity[rows, None]
    quiet = (sub - floor[rows]) < margin
    zero = rng.random(sub.shape, dtype=np.float32) < np.where(quiet, p, p * p)
    sub[zero] = 0.0
    kwh[rows] = sub


@dataclass(frozen=True)
class Span:
    row: int
    kind: str
    start: int    # first slot
    end: int      # exclusive
    details: str = ""


def _length_slots(rng: np.random.Generator, days: tuple[float, float], n: int) -> np.ndarray:
    lo, hi = np.log(days[0] * 48), np.log(days[1] * 48)
    return np.maximum(np.rint(np.exp(rng.uniform(lo, hi, n))), 1).astype(np.int64)


def plan_spans(rng: np.random.Generator, consent: np.ndarray, day_first: np.ndarray,
               mp: MeterParams) -> list[Span]:
    """Non-overlapping fault spans inside each home's consent window (``consent`` (H, T))."""
    h, t = consent.shape
    days = len(day_first) - 1
    taken = ~consent.copy()
    spans: list[Span] = []

    def add(row, kind, s, e, details=""):
        ok = np.flatnonzero(~taken[row, s:e])
        if not len(ok):
            return
        # Trim to the free part that starts at the first free slot (consent is one window).
        s2 = s + int(ok[0])
        blocked = np.flatnonzero(taken[row, s2:e])
        e2 = s2 + int(blocked[0]) if len(blocked) else e
        taken[row, s2:e2] = True
        spans.append(Span(row, kind, s2, e2, details))

    # Homes that stop reporting: from a random slot at least a week into their readings.
    p_stop = 1 - np.exp(-mp.stop_reporting_per_year * days / 365)
    stops = rng.random(h) < p_stop
    at = rng.random(h)
    for row in np.flatnonzero(stops).tolist():
        have = np.flatnonzero(consent[row])
        if len(have) < 8 * 48:
            continue
        lo, hi = int(have[0]) + 7 * 48, int(have[-1]) + 1
        s = lo + int(at[row] * (hi - lo))
        add(row, "stopped_reporting", s, hi)

    for kind, rate, lengths in (("meter_outage", mp.outage_rate, mp.outage_days),
                                ("flat_line", mp.flat_line_rate, mp.flat_line_days)):
        rows, ds = np.nonzero(rng.random((h, days)) < rate)
        starts = day_first[ds] + rng.integers(0, 48, len(rows))
        ends = np.minimum(starts + _length_slots(rng, lengths, len(rows)), t)
        for row, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist()):
            add(row, kind, min(s, t - 1), e)

    rows, ds = np.nonzero(rng.random((h, days)) < mp.no_data_rate)
    n_days = rng.integers(mp.no_data_days[0], mp.no_data_days[1] + 1, len(rows))
    for row, d, k in zip(rows.tolist(), ds.tolist(), n_days.tolist()):
        add(row, "no_data", int(day_first[d]), int(day_first[min(d + k, days)]), f"days={k}")
    return sorted(spans, key=lambda x: (x.row, x.start))


def apply_spans(kwh: np.ndarray, present: np.ndarray, spans: list[Span]) -> list[Span]:
    """In place: zeros, repeated values and absent rows. Returns spans with their details."""
    out = []
    for sp in spans:
        r, s, e = sp.row, sp.start, sp.end
        if sp.kind == "meter_outage":
            kwh[r, s:e] = 0.0
            details = f"slots={e - s}"
        elif sp.kind == "flat_line":
            # The head end repeats the last non-zero value it received before the meter stuck
            # (a stuck zero would be an outage by another name).
            recent = kwh[r, max(0, s - 48):s + 1]
            recent = recent[recent != 0]
            value = float(recent[-1]) if len(recent) else float(kwh[r, s])
            kwh[r, s:e] = value
            details = f"kwh={value:.3f} slots={e - s}"
        else:
            present[r, s:e] = False
            details = sp.details or f"slots={e - s}"
        out.append(Span(r, sp.kind, s, e, details))
    return out
