"""The registry (households.csv) and each home's hidden traits that shape its load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from meterrisk.synth.meter import zero_propensity
from meterrisk.synth.params import SynthParams

#: Household kinds (index into KINDS); only SINGLE is eligible for the town service.
SINGLE, COUPLE, YOUNGER = 0, 1, 2
KINDS = ("single_older", "couple_older", "younger")
AGE_BAND_EDGES = (65, 70, 75, 80)


@dataclass
class Cohort:
    """One row per household; arrays of length N. Days are indices from the period start."""

    ids: list[str]
    kind: np.ndarray          # SINGLE / COUPLE / YOUNGER
    age: np.ndarray           # age in years of the (older) resident at the period start
    birth_year: np.ndarray
    consent_day: np.ndarray   # first day with consent (may be negative); 10**6 = never
    withdraw_day: np.ndarray  # first day without consent; 10**6 = never
    consent_given_on: list[date | None]
    consent_withdrawn_on: list[date | None]
    care_certified: np.ndarray
    has_solar: np.ndarray
    all_electric: np.ndarray
    district: list[str]

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def consenting(self) -> np.ndarray:
        return self.consent_day < 10**6

    def registry_frame(self) -> pl.DataFrame:
        """households.csv as in docs/CONTRACTS.md (booleans true/false, ISO dates, empty = none)."""
        return pl.DataFrame({
            "household_id": self.ids,
            "birth_year": self.birth_year.astype(np.int64),
            "lives_alone": self.kind == SINGLE,
            "consent_given_on": self.consent_given_on,
            "consent_withdrawn_on": self.consent_withdrawn_on,
            "care_certified": self.care_certified,
            "has_solar": self.has_solar,
            "district": self.district,
        }, schema_overrides={"consent_given_on": pl.Date, "consent_withdrawn_on": pl.Date})


def age_band(age: np.ndarray) -> np.ndarray:
    """0..3 for 65-69, 70-74, 75-79, 80+; -1 under 65."""
    return np.searchsorted(np.array(AGE_BAND_EDGES), age, side="right") - 1


def make_cohort(n: int, start: date, days: int, rng: np.random.Generator,
                params: SynthParams) -> Cohort:
    """Draw the registry. Consent mostly predates the period; a few join or withdraw during it."""
    p = params.cohort
    u = rng.random(n)
    kind = np.where(u < p.single_older_share, SINGLE,
                    np.where(rng.random(n) < p.couple_share_of_rest, COUPLE, YOUNGER))
    band = rng.choice(4, size=n, p=np.array(p.age_band_weights) / sum(p.age_band_weights))
    lo = np.array([65, 70, 75, 80])[band]
    hi = np.array([70, 75, 80, 96])[band]
    # 80+ ages thin out with survival: a triangular draw skews toward the band's low end.
    old = np.floor(lo + (hi - lo) * np.where(band == 3, 1 - np.sqrt(1 - rng.random(n)),
                                             rng.random(n)))
    age = np.where(kind == YOUNGER, rng.integers(30, 65, n), old).astype(np.int64)
    birth_year = start.year - age - (rng.random(n) < 0.5)

    consenting = rng.random(n) >= p.no_consent_share
    # 85% joined up to a year before the start, the rest during the first fifth of the period.
    joined_late = rng.random(n) < 0.15
    consent_day = np.where(joined_late, rng.integers(0, max(1, days // 5), n),
                           -rng.integers(1, 366, n))
    consent_day = np.where(consenting, consent_day, 10**6)
    withdraws = consenting & (rng.random(n) < p.withdraw_share)
    withdraw_day = np.where(withdraws, rng.integers(days // 2, max(days // 2 + 1, days), n), 10**6)

    def to_date(d):
        return None if abs(d) >= 10**6 else start + timedelta(days=int(d))

    return Cohort(
        ids=[f"H{i + 1:05d}" for i in range(n)],
        kind=kind, age=age, birth_year=birth_year,
        consent_day=consent_day, withdraw_day=withdraw_day,
        consent_given_on=[to_date(d) for d in consent_day],
        consent_withdrawn_on=[to_date(d) for d in withdraw_day],
        care_certified=(kind != YOUNGER) & (rng.random(n) < p.care_certified_share),
        has_solar=rng.random(n) < p.solar_share,
        all_electric=rng.random(n) < p.all_electric_share,
        district=[p.districts[i] for i in rng.integers(0, len(p.districts), n)],
    )


@dataclass
class Traits:
    """Per-home constants of the load model (arrays of length N; kWh per half hour unless noted)."""

    standby: np.ndarray
    fridge_max: np.ndarray
    fridge_duty: np.ndarray
    awake_base: np.ndarray
    scale: np.ndarray          # multiplier on all activity (person, appliances, occupants)
    wake_mean: np.ndarray      # local hours
    bed_mean: np.ndarray
    lunch_h: np.ndarray
    dinner_h: np.ndarray
    heat_kw_per_c: np.ndarray
    cool_kw_per_c: np.ndarray
    water_kw: np.ndarray       # 0 unless all-electric
    water_start_h: np.ndarray
    water_hours: np.ndarray
    solar_kwp: np.ndarray      # 0 unless has_solar
    zero_propensity: np.ndarray  # chance a quiet half hour reads exactly 0 (meter.py)
    storage_kw: np.ndarray     # night storage heater element power, 0 if none
    storage_start_h: np.ndarray  # local hour charging starts (23.0 or 0.0)
    night_ac_kw: np.ndarray    # compressor power of night air conditioning, 0 if none

    def take(self, idx: slice) -> "Traits":
        return Traits(**{k: v[idx] for k, v in self.__dict__.items()})


def exact_share(n: int, share: float, order: np.ndarray, skip: int = 0) -> np.ndarray:
    """Boolean mask of exactly round(share x n) homes, taken from ``order`` after ``skip``
    (wrapping round), so two traits drawn from one order overlap only when they must."""
    k = min(n, int(round(share * n)))
    mask = np.zeros(n, dtype=bool)
    mask[order[(skip + np.arange(k)) % n]] = True
    return mask


def make_traits(cohort: Cohort, rng: np.random.Generator, params: SynthParams,
                meter_rng: np.random.Generator, night_rng: np.random.Generator) -> Traits:
    """Load traits from ``rng``; meter and night-load traits from their own streams, so adding
    them left the load traits of every seed unchanged."""
    lp = params.load
    n = cohort.n

    def uni(bounds):
        return rng.uniform(bounds[0], bounds[1], n)

    occupants = np.select([cohort.kind == COUPLE, cohort.kind == YOUNGER],
                          [lp.couple_factor, lp.younger_factor], 1.0)
    younger = cohort.kind == YOUNGER
    return Traits(
        standby=uni(lp.standby_w) * 0.5 / 1000,
        fridge_max=uni(lp.fridge_w) * 0.5 / 1000,
        fridge_duty=uni(lp.fridge_duty),
        awake_base=uni(lp.awake_base),
        scale=occupants * rng.lognormal(0.0, lp.household_sigma, n),
        wake_mean=lp.wake_mean_h + rng.normal(0, lp.wake_between_sd_h, n) + 0.7 * younger,
        bed_mean=np.minimum(lp.bed_mean_h + rng.normal(0, lp.bed_between_sd_h, n)
                            + 1.2 * younger, 23.9),
        lunch_h=12.0 + rng.normal(0, 0.3, n),
        dinner_h=18.0 + rng.normal(0, 0.5, n) + 1.0 * younger,
        heat_kw_per_c=uni(lp.heating_kw_per_c),
        cool_kw_per_c=uni(lp.cooling_kw_per_c),
        water_kw=np.where(cohort.all_electric, uni(lp.water_heater_kw), 0.0),
        water_start_h=1.0 + rng.integers(0, 2, n) * 0.5,
        water_hours=uni(lp.water_heater_hours),
        solar_kwp=np.where(cohort.has_solar, uni(lp.solar_kwp), 0.0),
        zero_propensity=zero_propensity(cohort.has_solar, meter_rng, params.meter),
        **night_loads(cohort, night_rng, params),
    )


def night_loads(cohort: Cohort, rng: np.random.Generator, params: SynthParams) -> dict:
    """Night storage heating and night air conditioning homes (exact counts, disjoint if
    possible) and their power."""
    n, cp, lp = cohort.n, params.cohort, params.load
    order = rng.permutation(n)
    storage = exact_share(n, cp.night_storage_heating_share, order)
    ac = exact_share(n, cp.night_air_conditioning_share, order, skip=int(storage.sum()))
    return {
        "storage_kw": np.where(storage, rng.uniform(*lp.storage_heater_kw, n), 0.0),
        "storage_start_h": np.where(rng.random(n) < 0.5, 23.0, 0.0),
        "night_ac_kw": np.where(ac, rng.uniform(*lp.night_ac_kw, n), 0.0),
    }
