"""Latent frailty per resident and day, trajectories, and noisy Kihon-Checklist assessments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from meterrisk.synth.households import YOUNGER, Cohort, age_band
from meterrisk.synth.params import FrailtyParams, SynthParams

STABLE, DECLINING, FRAIL_THROUGHOUT = 0, 1, 2
TRAJECTORIES = ("stable", "declining", "frail_throughout")


def assign_trajectories(age: np.ndarray, days: int, rng: np.random.Generator,
                        params: FrailtyParams) -> np.ndarray:
    """Trajectory kind per resident.

    P(frail_throughout) equals the age band's prevalence, so the share frail at the period
    start matches DOMAIN.md; non-frail residents start declining with the band's yearly
    incidence scaled to the period length. Under-65s are always stable.
    """
    band = age_band(age)
    prev = np.where(band >= 0, np.asarray(params.prevalence)[np.maximum(band, 0)], 0.0)
    rate = np.where(band >= 0, np.asarray(params.decline_rate_per_year)[np.maximum(band, 0)], 0.0)
    p_decline = 1 - np.exp(-rate * days / 365)
    u = rng.random(age.shape[0])
    return np.where(u < prev, FRAIL_THROUGHOUT,
                    np.where(u < prev + (1 - prev) * p_decline, DECLINING, STABLE))


@dataclass
class Frailty:
    kind: np.ndarray        # (N,) trajectory
    level: np.ndarray       # (N, days) latent frailty in [0, 1]
    onset_day: np.ndarray   # (N,) day index of decline onset (may be < 0); -1 if none
    frail_from: np.ndarray  # (N,) first day frail; -1 if never within the period

    def frail_from_mask(self) -> np.ndarray:
        """(N, days) truth "frail": from ``frail_from`` onwards (identical to f >= threshold)."""
        d = np.arange(self.level.shape[1])
        return (self.frail_from[:, None] >= 0) & (d[None, :] >= self.frail_from[:, None])


def simulate_frailty(cohort: Cohort, days: int, rng: np.random.Generator,
                     params: FrailtyParams) -> Frailty:
    """Daily latent frailty. Frail (f >= threshold) exactly from ``frail_from`` onwards."""
    n, thr = cohort.n, params.threshold
    kind = assign_trajectories(cohort.age, days, rng, params)
    robust = rng.uniform(*params.robust_level, n)
    robust = np.where(cohort.kind == YOUNGER, robust * 0.3, robust)
    frail_level = rng.uniform(*params.frail_level, n)
    walk = np.cumsum(rng.normal(0, params.daily_noise, (n, days)), axis=1)
    d = np.arange(days)[None, :]

    ramp = rng.uniform(*params.decline_to_frail_days, n)
    # The crossing falls inside the period so both "before" and "after" are observable.
    cross = np.floor(rng.uniform(0.15, 0.9, n) * days).astype(np.int64)
    onset = (cross - ramp).astype(np.int64)
    slope = (thr - robust) / ramp
    declining = np.clip(robust[:, None] + slope[:, None] * (d - onset[:, None]),
                        robust[:, None], frail_level[:, None])

    level = np.select(
        [kind[:, None] == FRAIL_THROUGHOUT, kind[:, None] == DECLINING],
        [np.clip(frail_level[:, None] + walk, thr + 0.02, 1.0),
         np.clip(declining + walk, 0.0, 1.0)],
        np.clip(robust[:, None] + walk, 0.0, thr - 0.05),
    )
    is_decl = kind == DECLINING
    after = d >= cross[:, None]
    level = np.where(is_decl[:, None] & after, np.maximum(level, thr),
                     np.where(is_decl[:, None], np.minimum(level, thr - 1e-3), level))
    frail_from = np.select([kind == FRAIL_THROUGHOUT, is_decl], [0, cross], -1)
    return Frailty(kind=kind, level=level, onset_day=np.where(is_decl, onset, -1),
                   frail_from=frail_from)


def onsets_frame(cohort: Cohort, fr: Frailty, start: date) -> pl.DataFrame:
    """truth/onsets.csv: trajectory, decline onset and first frail date (empty = none)."""
    return pl.DataFrame({
        "household_id": cohort.ids,
        "trajectory": [TRAJECTORIES[k] for k in fr.kind],
        "onset_date": [start + timedelta(days=int(o)) if k == DECLINING else None
                       for k, o in zip(fr.kind, fr.onset_day)],
        "frail_from_date": [start + timedelta(days=int(f)) if f >= 0 else None
                            for f in fr.frail_from],
    }, schema_overrides={"onset_date": pl.Date, "frail_from_date": pl.Date})


def assessments(cohort: Cohort, fr: Frailty, start: date, days: int,
                rng: np.random.Generator, params: SynthParams) -> pl.DataFrame:
    """Kihon-Checklist-like surveys: score = a + b f + noise, 0..25; frail = score >= 8.

    Waves are spread over the period so a model can train on earlier and test on later ones;
    each wave is fielded over two weeks and reaches a random share of consenting residents.
    """
    rows = []
    waves = params.survey_waves
    for w in range(waves):
        centre = int((w + 0.5) / waves * days)
        day = np.clip(centre + rng.integers(-7, 7, cohort.n), 0, days - 1)
        in_consent = (cohort.consent_day <= day) & (day < cohort.withdraw_day)
        chosen = in_consent & (cohort.kind != YOUNGER) & (rng.random(cohort.n) < params.assessed_share)
        f = fr.level[np.arange(cohort.n), day]
        score = np.clip(np.rint(params.checklist_a + params.checklist_b * f
                                + rng.normal(0, params.checklist_sd, cohort.n)), 0, 25)
        for i in np.flatnonzero(chosen):
            rows.append((cohort.ids[i], start + timedelta(days=int(day[i])), int(score[i])))
    df = pl.DataFrame(rows, schema={"household_id": pl.String, "assessed_on": pl.Date,
                                    "checklist_score": pl.Int64}, orient="row")
    return (df.with_columns(frail=pl.col("checklist_score") >= 8)
            .sort("household_id", "assessed_on"))


def daily_truth_frame(ids: list[str], fr_level: np.ndarray, frail: np.ndarray,
                      start: date) -> pl.DataFrame:
    n, days = fr_level.shape
    dates = pl.date_range(start, start + timedelta(days=days - 1), "1d", eager=True)
    return pl.DataFrame({
        "household_id": np.repeat(np.array(ids, dtype=object), days),
        "date": pl.Series(np.tile(dates.to_numpy(), n)),
        "frailty": np.round(fr_level.ravel(), 4),
        "frail": frail.ravel(),
    }, schema_overrides={"household_id": pl.String, "date": pl.Date})
