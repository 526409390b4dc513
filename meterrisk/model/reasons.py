"""Plain-language reasons for a risk score: the household's own deviations, ordered by the model.

A reason is shown when the household's change against its own earlier weeks passes a
threshold (``when``) and the model agrees it matters: setting the reason's features to the
training medians must lower the predicted risk. Reasons are ordered by that drop
(occlusion), at most three per household. Missing feature columns simply switch a reason off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

MAX_REASONS = 3


@dataclass(frozen=True)
class Reason:
    name: str
    features: tuple[str, ...]           # columns set to their training median for occlusion
    when: Callable[[dict], bool]       # row -> bool; the row also carries "<feature>__median"
    text: Callable[[dict], str]


def _v(row: dict, key: str) -> float | None:
    v = row.get(key)
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else float(v)


def _ge(key: str, t: float) -> Callable[[dict], bool]:
    return lambda r: (_v(r, key) is not None) and _v(r, key) >= t


def _le(key: str, t: float) -> Callable[[dict], bool]:
    return lambda r: (_v(r, key) is not None) and _v(r, key) <= t


def _vs_median(key: str, *, below: float | None = None, above: float | None = None) -> Callable[[dict], bool]:
    """Level against the training population: x <= below * median, or x >= median + above."""
    def f(r):
        x, m = _v(r, key), _v(r, f"{key}__median")
        if x is None or m is None:
            return False
        return (below is not None and x <= below * m) or (above is not None and x >= m + above)
    return f


def _clock(h: float) -> str:
    m = int(round(h * 60))
    return f"{(m // 60) % 24:02d}:{m % 60:02d}"


def _both(a, b):
    return lambda r: a(r) and b(r)


def _pct_down(key: str) -> Callable[[dict], str]:
    return lambda r: f"{round((1 - _v(r, key)) * 100):.0f}%"


CATALOGUE: list[Reason] = [
    Reason("later_wake", ("wake_time_h_delta", "wake_time_h_z"),
           _both(_ge("wake_time_h_delta", 0.5), _ge("wake_time_h_z", 1.5)),
           lambda r: f"wakes {_v(r, 'wake_time_h_delta'):.1f} h later than in their usual weeks"),
    Reason("less_cooking", ("meal_kwh_ratio_8w", "meal_kwh_delta", "meal_kwh_z"),
           _le("meal_kwh_ratio_8w", 0.8),
           lambda r: f"cooking activity down {_pct_down('meal_kwh_ratio_8w')(r)} over 8 weeks"),
    Reason("night_activity", ("night_activity_share_delta", "night_activity_share_z"),
           _both(_ge("night_activity_share_delta", 0.03), _ge("night_activity_share_z", 2.0)),
           lambda r: "much more activity at night than in their usual weeks"),
    Reason("less_active", ("active_share_ratio_8w", "active_share_delta", "active_share_z"),
           _le("active_share_ratio_8w", 0.8),
           lambda r: f"active {_pct_down('active_share_ratio_8w')(r)} less of the day than in their usual weeks"),
    Reason("longer_still", ("longest_inactive_run_h_delta", "longest_inactive_run_h_z"),
           _both(_ge("longest_inactive_run_h_delta", 1.0), _ge("longest_inactive_run_h_z", 1.5)),
           lambda r: f"longest still spell in the day {_v(r, 'longest_inactive_run_h_delta'):.1f} h longer than usual"),
    Reason("less_regular", ("regularity_corr_delta", "regularity_corr_z"),
           _both(_le("regularity_corr_delta", -0.1), _le("regularity_corr_z", -1.5)),
           lambda r: "daily routine less regular than in their usual weeks"),
    Reason("earlier_bed", ("bed_time_h_delta", "bed_time_h_z"),
           _both(_le("bed_time_h_delta", -0.75), _le("bed_time_h_z", -1.5)),
           lambda r: f"goes to bed {-_v(r, 'bed_time_h_delta'):.1f} h earlier than in their usual weeks"),
    Reason("less_energy", ("daily_kwh_ratio_8w", "excess_kwh_ratio_8w"),
           _le("excess_kwh_ratio_8w", 0.75),
           lambda r: f"electricity use above standby down {_pct_down('excess_kwh_ratio_8w')(r)} over 8 weeks"),
    Reason("late_wake_days", ("late_wake_days_28d",), _ge("late_wake_days_28d", 5),
           lambda r: f"no activity before 10:00 on {int(_v(r, 'late_wake_days_28d'))} of the last 28 days"),
    Reason("floor_days", ("floor_days_28d",), _ge("floor_days_28d", 3),
           lambda r: f"{int(_v(r, 'floor_days_28d'))} whole days at standby in the last 4 weeks (away or unwell: electricity cannot tell)"),
    Reason("no_meal_days", ("no_meal_days_28d",), _ge("no_meal_days_28d", 5),
           lambda r: f"no cooking at usual meal times on {int(_v(r, 'no_meal_days_28d'))} of the last 28 days"),
    # Levels against other residents: a resident frail all along has no change of their own.
    Reason("low_activity_level", ("active_share_mean_28d",), _vs_median("active_share_mean_28d", below=0.75),
           lambda r: f"active {_v(r, 'active_share_mean_28d'):.0%} of the day; most residents "
                     f"{_v(r, 'active_share_mean_28d__median'):.0%}"),
    Reason("late_riser", ("wake_time_h_mean_28d",), _vs_median("wake_time_h_mean_28d", above=1.0),
           lambda r: f"usually up around {_clock(_v(r, 'wake_time_h_mean_28d'))}, later than most residents "
                     f"({_clock(_v(r, 'wake_time_h_mean_28d__median'))})"),
    Reason("little_cooking", ("meal_kwh_mean_28d",), _vs_median("meal_kwh_mean_28d", below=0.7),
           lambda r: "little cooking at meal times compared with most residents"),
    Reason("irregular_days", ("regularity_corr_mean_28d",), _vs_median("regularity_corr_mean_28d", below=0.8),
           lambda r: "days less regular than most residents'"),
    # Night blips carry most of the score's signal (docs/model.md, third run); 0.15 a night
    # above the median is about the frail residents' upper quartile on the dev cohort.
    Reason("up_at_night", ("night_blips_mean_84d", "night_blips_mean_28d", "night_blips_sd_28d"),
           _vs_median("night_blips_mean_84d", above=0.15),
           lambda r: f"brief activity in the night (00:00-04:30) about {_v(r, 'night_blips_mean_84d') * 7:.0f} "
                     f"times a week over 12 weeks; most residents {_v(r, 'night_blips_mean_84d__median') * 7:.0f}"),
    Reason("long_still_spells", ("longest_inactive_run_h_mean_28d",),
           _vs_median("longest_inactive_run_h_mean_28d", above=1.5),
           lambda r: f"long still spells in the day (longest {_v(r, 'longest_inactive_run_h_mean_28d'):.1f} h on average)"),
]


def explain(pipeline, feats: pl.DataFrame, features: list[str], prob: np.ndarray,
            medians: np.ndarray | None = None) -> list[list[str]]:
    """Up to three reasons per row of ``feats`` (aligned with ``prob``)."""
    if medians is None:
        medians = np.asarray(pipeline.named_steps["impute"].statistics_, dtype=float)
    index = {f: i for i, f in enumerate(features)}
    X = feats.select(features).cast(pl.Float64).to_numpy()
    med = {f"{f}__median": float(medians[i]) for f, i in index.items()}
    rows = [{**r, **med} for r in feats.to_dicts()]
    candidates: list[list[tuple[float, str]]] = [[] for _ in rows]
    for reason in CATALOGUE:
        cols = [index[f] for f in reason.features if f in index]
        hit = np.array([reason.when(r) for r in rows], dtype=bool)
        if not hit.any():
            continue
        idx = np.flatnonzero(hit)
        if cols:
            Xo = X[idx].copy()
            Xo[:, cols] = medians[cols]
            drop = prob[idx] - pipeline.predict_proba(pl.DataFrame(Xo, schema=features, orient="row"))[:, 1]
        else:  # the model does not see this feature: still a useful hint, ranked last
            drop = np.full(len(idx), -1e-9)
        for i, d in zip(idx, drop):
            if d > -0.01:
                candidates[i].append((float(d), reason.text(rows[i])))
    return [[t for _, t in sorted(c, key=lambda x: -x[0])[:MAX_REASONS]] for c in candidates]
