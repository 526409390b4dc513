"""Injected life events: outings, holidays, hospital stays, visitors, appliances left on, collapses.

Events are drawn per household chunk. Frequent day-level events (outings, visitors) stay as
(households, days) arrays so the load model can vectorise them; rare multi-day events are
spans (household row, first slot, end slot) applied with slicing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from meterrisk.synth.households import YOUNGER, Traits
from meterrisk.synth.params import EventParams
from meterrisk.synth.timegrid import Grid


@dataclass
class Events:
    outing: np.ndarray            # (H, D) bool
    outing_start: np.ndarray      # (H, D) local hours
    outing_end: np.ndarray
    visitor: np.ndarray           # (H, D) bool
    visitor_start: np.ndarray
    visitor_end: np.ndarray
    visitor_kwh: np.ndarray       # (H, D) extra kWh per half hour
    away: np.ndarray              # (H, T) bool: nobody home (holiday, hospital, collapsed)
    collapsed: np.ndarray         # (H, T) bool: person down, found at the span end
    extra: np.ndarray             # (H, T) constant extra load, kWh per half hour
    records: list[tuple] = field(default_factory=list)  # (row, kind, start_slot, end_slot, details)


def slot_at(grid: Grid, day: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """Slot index of local (day, hour); hours past 24 roll into later days."""
    first = grid.day_first
    day = np.asarray(day) + np.floor(np.asarray(hour) / 24).astype(np.int64)
    hour = np.mod(hour, 24)
    inside = day < grid.days
    base = first[np.clip(day, 0, grid.days)]
    # ceil: the first slot starting at or after the instant, matching ``hour >= start`` masks.
    return np.where(inside, np.minimum(base + np.ceil(hour * 2).astype(np.int64), grid.n_slots),
                    grid.n_slots)


def draw_events(grid: Grid, traits: Traits, kind: np.ndarray, frailty: np.ndarray,
                rng: np.random.Generator, p: EventParams, outing_reduction: float,
                stay_rng: np.random.Generator) -> Events:
    """Draw all events for a chunk; ``frailty`` is the (H, D) latent level.

    Frail residents go out less (``outing_reduction`` at f = 1), are admitted to hospital
    more often and collapse more often. Family stays come from ``stay_rng``, a stream of
    their own, so adding them left every other draw of a seed unchanged.
    """
    h, d, t = frailty.shape[0], grid.days, grid.n_slots
    away = np.zeros((h, t), dtype=bool)
    collapsed = np.zeros((h, t), dtype=bool)
    extra = np.zeros((h, t))
    records: list[tuple] = []
    away_day = np.zeros((h, d), dtype=bool)

    def mark_away(row, s, e, kind, details):
        if s >= t or away[row, s:e].any():
            return False
        away[row, s:e] = True
        d0, d1 = grid.day[s], grid.day[min(e, t) - 1]
        away_day[row, d0:d1 + 1] = True
        records.append((row, kind, int(s), int(e), details))
        return True

    # Collapses first: they pre-empt any later plan of the same person.
    p_collapse = p.collapse_rate * (1 + 2 * frailty)
    hit = rng.random((h, d)) < p_collapse
    for row in np.flatnonzero(hit.any(axis=1)):
        day = int(np.argmax(hit[row]))
        hour = rng.uniform(traits.wake_mean[row] + 1, traits.bed_mean[row] - 0.5)
        s = int(slot_at(grid, day, hour))
        found = int(slot_at(grid, day, hour + rng.uniform(*p.collapse_found_hours)))
        left_on = (rng.uniform(*p.collapse_left_on_kw) * 0.5
                   if rng.random() < p.collapse_left_on_prob else 0.0)
        if mark_away(row, s, found, "collapse", f"left_on_kwh_per_hh={left_on:.3f}"):
            collapsed[row, s:found] = True
            extra[row, s:found] += left_on
            stay = int(rng.integers(p.hospital_days[0], p.hospital_days[1] + 1))
            back = int(slot_at(grid, int(grid.day[min(found, t - 1)]) + stay, 14.0))
            if found < t:
                away[row, found:back] = True
                away_day[row, grid.day[found]:grid.day[min(back, t) - 1] + 1] = True
                records.append((row, "hospital_stay", found, back, "after_collapse"))

    for kind_name, rate, span, start_h, end_h in (
        ("hospital_stay", p.hospital_rate * (1 + 3 * frailty), p.hospital_days, 10.0, 14.0),
        ("holiday", p.holiday_rate * (1 - 0.5 * frailty), p.holiday_days, 9.0, 17.0),
    ):
        rows, days = np.nonzero(rng.random((h, d)) < rate)
        lengths = rng.integers(span[0], span[1] + 1, len(rows))
        ss = slot_at(grid, days, np.full(len(rows), start_h))
        es = slot_at(grid, days + lengths, np.full(len(rows), end_h))
        for row, s, e, length in zip(rows.tolist(), ss.tolist(), es.tolist(), lengths.tolist()):
            mark_away(row, s, e, kind_name, f"days={length}")

    # Long stays with family, partly registered with the service.
    rows, days = np.nonzero(stay_rng.random((h, d)) < p.family_stay_rate)
    lengths = stay_rng.integers(p.family_stay_days[0], p.family_stay_days[1] + 1, len(rows))
    told = stay_rng.random(len(rows)) < p.family_stay_registered_share
    ss = slot_at(grid, days, np.full(len(rows), 10.0))
    es = slot_at(grid, days + lengths, np.full(len(rows), 16.0))
    for row, s, e, length, reg in zip(rows.tolist(), ss.tolist(), es.tolist(),
                                      lengths.tolist(), told.tolist()):
        mark_away(row, s, e, "family_stay",
                  f"days={length} registered={'true' if reg else 'false'}")

    # Appliance left on (heater, hob, iron): constant load whether or not anyone is home.
    rows, days = np.nonzero(rng.random((h, d)) < p.appliance_left_on_rate)
    hours = rng.uniform(traits.wake_mean[rows], traits.bed_mean[rows])
    kws = rng.uniform(*p.appliance_kw, len(rows))
    ss = slot_at(grid, days, hours)
    es = slot_at(grid, days, hours + rng.uniform(*p.appliance_hours, len(rows)))
    for row, s, e, kw in zip(rows.tolist(), ss.tolist(), es.tolist(), kws.tolist()):
        if s < t:
            extra[row, s:e] += kw * 0.5
            records.append((row, "appliance_left_on", s, e, f"kw={kw:.2f}"))

    visitor = (rng.random((h, d)) < p.visitor_rate) & ~away_day
    visitor_start = rng.uniform(12.5, 17.0, (h, d))
    visitor_end = visitor_start + rng.uniform(*p.visitor_hours, (h, d))
    visitor_kwh = rng.uniform(*p.visitor_kwh, (h, d))

    weekday = np.array([dt.weekday() < 5 for dt in grid.dates])
    works = (kind == YOUNGER)[:, None] & weekday[None, :] & (rng.random((h, d)) < 0.85)
    outing = (rng.random((h, d)) < p.outing_prob * (1 - outing_reduction * frailty)) | works
    outing &= ~away_day & ~visitor
    o_start = np.where(works, rng.uniform(7.5, 8.5, (h, d)), rng.uniform(9.5, 15.0, (h, d)))
    o_end = np.where(works, rng.uniform(17.5, 19.0, (h, d)),
                     o_start + rng.uniform(*p.outing_hours, (h, d)))

    for name, mask, s_h, e_h in (("outing", outing, o_start, o_end),
                                 ("visitor", visitor, visitor_start, visitor_end)):
        rows, days = np.nonzero(mask)
        ss = slot_at(grid, days, s_h[rows, days])
        es = slot_at(grid, days, e_h[rows, days])
        if name == "outing":
            det = np.where(works[rows, days], "work", "").tolist()
        else:
            det = [f"kwh_per_hh={v:.3f}" for v in visitor_kwh[rows, days]]
        records.extend(zip(rows.tolist(), [name] * len(rows), ss.tolist(), es.tolist(), det))

    return Events(outing, o_start, o_end, visitor, visitor_start, visitor_end, visitor_kwh,
                  away, collapsed, extra, records)
