"""Every knob of the synthetic cohort, with units and why each default was chosen.

Defaults follow docs in /work/shared/DOMAIN.md (Japan, single older households). Frailty
effect sizes are deliberately MODEST: frail and robust residents overlap, as they do in the
Toin pilot (precision ~80%, not 100%). A cohort in which one raw feature separates the two
groups would make every model look good and is treated as a bug (see tests).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class CohortParams:
    """Who lives in the homes (registry)."""

    #: Share of households that are one person aged 65+ (the eligible population).
    single_older_share: float = 0.82
    #: Share of the remaining households that are older couples (rest: younger households).
    couple_share_of_rest: float = 0.6
    #: Age mix of 65+ residents at the period start (Japanese small town, 2020 census-like).
    age_band_weights: tuple[float, float, float, float] = (0.24, 0.27, 0.21, 0.28)
    #: Share that never gave consent (appear in the registry, never in readings).
    no_consent_share: float = 0.04
    #: Share of consenting households that withdraw consent during the period.
    withdraw_share: float = 0.02
    #: Share certified as needing long-term care (excluded from outreach by the town).
    care_certified_share: float = 0.05
    #: Share with rooftop solar (net readings can go to zero or below at midday).
    solar_share: float = 0.06
    #: Share of all-electric homes (heat-pump water heater running 01:00-05:00).
    all_electric_share: float = 0.15
    #: Share of homes with electric night storage heaters (chikunetsu danbōki) charging on the
    #: night tariff. They are common only in cold regions (Hokkaido, Tohoku, Hokuriku); in a
    #: Tokai town an assumed 2% (use ~0.15 for a cold-region town). Exactly
    #: round(share x households) homes get one, so a test can ask for a single one.
    night_storage_heating_share: float = 0.02
    #: Share of homes that keep the air conditioner on through hot nights (thermostat cycling),
    #: as heatstroke advice asks of older people (Japanese surveys: many older residents do
    #: not; an assumed quarter do). Exact count as above, chosen after the storage homes.
    night_air_conditioning_share: float = 0.25
    districts: tuple[str, ...] = ("Sangō", "Tado", "Inabe-higashi", "Kuwabe", "Nagaoka", "Koyama")


@dataclass(frozen=True)
class LoadParams:
    """Load shape of a single older household. Energies in kWh per half hour unless noted."""

    #: Always-on standby, watts (router, TV standby, clocks, fridge electronics).
    standby_w: tuple[float, float] = (25.0, 45.0)
    #: Fridge compressor: average draw in watts while cycling, and its duty cycle range.
    fridge_w: tuple[float, float] = (80.0, 130.0)
    fridge_duty: tuple[float, float] = (0.15, 0.35)
    #: Lights, TV and small appliances while someone is awake at home (kWh / half hour).
    awake_base: tuple[float, float] = (0.045, 0.09)
    #: Extra evening TV/lights between 19:00 and bedtime.
    evening_extra: float = 0.05
    #: Cooking energy per meal (kWh, rice cooker, microwave, IH hob): breakfast, lunch, dinner.
    meal_kwh: tuple[float, float, float] = (0.18, 0.15, 0.35)
    #: Probability a robust resident cooks each meal.
    meal_prob: tuple[float, float, float] = (0.9, 0.7, 0.92)
    #: Width (hours, sd of a Gaussian bump) of a cooking peak.
    meal_width_h: float = 0.35
    #: Laundry: probability per day and energy (kWh, washer; no tumble dryer in most homes).
    laundry_prob: float = 0.35
    laundry_kwh: float = 0.25
    #: Bathroom ventilation/dryer and hair dryer after the evening bath (kWh).
    bath_kwh: float = 0.12
    #: Mean wake and bed time (local hours) across residents and their between-person sd.
    wake_mean_h: float = 6.0
    wake_between_sd_h: float = 0.6
    bed_mean_h: float = 21.8
    bed_between_sd_h: float = 0.6
    #: Day-to-day sd of a person's wake time (hours); small in healthy older people.
    wake_day_sd_h: float = 0.35
    #: Day-to-day multiplicative noise on active load (lognormal sigma).
    day_sigma: float = 0.25
    #: Slot-level multiplicative noise on active load (lognormal sigma).
    slot_sigma: float = 0.45
    #: Between-household multiplier on active load (lognormal sigma).
    household_sigma: float = 0.3
    #: Couples use more (second person's activity, more cooking).
    couple_factor: float = 1.45
    #: Younger households: more use, later wake, out at work on weekdays.
    younger_factor: float = 2.0
    #: Heating: kW per degree below the comfort base while awake at home (kotatsu, AC heat pump).
    heating_base_c: float = 15.0
    heating_kw_per_c: tuple[float, float] = (0.012, 0.032)
    #: Cooling: kW per degree above the base, afternoons and warm nights.
    cooling_base_c: float = 24.0
    cooling_kw_per_c: tuple[float, float] = (0.03, 0.07)
    #: Heat-pump water heater (all-electric homes), kW, running in the cheap 01:00-05:00 window.
    water_heater_kw: tuple[float, float] = (1.0, 1.6)
    water_heater_hours: tuple[float, float] = (2.0, 3.5)
    #: Night storage heater: element power (kW) charged from 23:00 or 00:00 for
    #: ``storage_hours_per_c`` hours per degree the day is below ``storage_base_c``, at most
    #: ``storage_max_hours`` (the cheap window runs to ~07:00). At a 5 C January day that is
    #: 5-6 h at 1.5-3 kW, so 00:00-05:00 sits far above daytime use from November to April.
    #: Switched off while the resident is away (holiday, hospital), not during a collapse.
    storage_heater_kw: tuple[float, float] = (1.5, 3.0)
    storage_base_c: float = 14.0
    storage_hours_per_c: float = 0.6
    storage_max_hours: float = 8.0
    #: Night air conditioning: compressor power (kW) while cycling on, from bedtime to waking,
    #: on nights whose day mean is at least ``night_ac_base_c`` (a tropical night, minimum
    #: >= 25 C, comes with a day mean of ~27 C on the Tokai coast; 25 C starts a little
    #: earlier). The share of half hours the compressor runs rises from ``night_ac_duty[0]`` at
    #: the base by ``night_ac_duty_per_c`` per degree, at most ``night_ac_duty[1]``; an on
    #: half hour uses 60-100% of the compressor's half-hour energy (0.2-0.6 kWh at
    #: 0.4-1.2 kW), an off one only the fan (``night_ac_fan_kwh``).
    night_ac_kw: tuple[float, float] = (0.4, 1.2)
    night_ac_base_c: float = 25.0
    night_ac_duty: tuple[float, float] = (0.35, 0.9)
    night_ac_duty_per_c: float = 0.1
    night_ac_fan_kwh: float = 0.01
    #: Rooftop PV size, kW peak.
    solar_kwp: tuple[float, float] = (3.0, 5.5)
    #: Rare whole-home outage (meter reads zero for the half hour), probability per slot.
    outage_prob: float = 2e-6


@dataclass(frozen=True)
class FrailtyParams:
    """Latent frailty and how it shows in electricity use. f in [0, 1]; frail when f >= threshold."""

    #: Prevalence of frailty by age band 65-69, 70-74, 75-79, 80+ (Japanese surveys).
    prevalence: tuple[float, float, float, float] = (0.056, 0.072, 0.16, 0.349)
    #: Probability per year that a non-frail resident starts declining, by the same age bands.
    decline_rate_per_year: tuple[float, float, float, float] = (0.04, 0.06, 0.10, 0.18)
    #: Cut on latent frailty that defines truth "frail".
    threshold: float = 0.5
    #: Latent level of robust (stable) residents and of residents frail throughout.
    robust_level: tuple[float, float] = (0.05, 0.4)
    frail_level: tuple[float, float] = (0.55, 0.95)
    #: Days from onset of a decline to reaching the frail threshold (several months).
    decline_to_frail_days: tuple[float, float] = (60.0, 150.0)
    #: Day-to-day random-walk noise on latent frailty.
    daily_noise: float = 0.01
    # Effects at f = 1 relative to f = 0 (linear in f). Modest on purpose.
    #: Later wake (hours) and more variable wake (multiplier on day sd minus 1).
    wake_delay_h: float = 0.6
    wake_variability: float = 0.8
    #: Relative reduction of cooking energy and extra probability of skipping a meal.
    cooking_reduction: float = 0.3
    meal_skip: float = 0.2
    #: Relative reduction in probability of a daytime outing.
    outing_reduction: float = 0.35
    #: Extra probability per night slot (00:00-05:00) of activity (day/night reversal).
    night_activity: float = 0.06
    #: Relative shrinkage of day-to-day variability of use.
    variability_shrink: float = 0.35


@dataclass(frozen=True)
class EventParams:
    """Injected events. Rates are per household per day unless noted."""

    #: Probability of a daytime outing on a day (robust resident), and its length in hours.
    outing_prob: float = 0.6
    outing_hours: tuple[float, float] = (1.0, 4.0)
    holiday_rate: float = 1 / 200
    holiday_days: tuple[int, int] = (2, 6)
    #: Hospital stays, more frequent for frail residents (rate multiplied by 1 + 3 f).
    hospital_rate: float = 1 / 700
    hospital_days: tuple[int, int] = (3, 21)
    #: Long stays with family (children's home at New Year or Obon, recovering after an
    #: illness, the cold months): 1-4 weeks away, at home nothing but the floor and timers.
    #: Assumed rates (no published figure): ~0.7 a year per home, shorter trips are holidays.
    #: Only ``family_stay_registered_share`` of them are told to the service (truth details
    #: ``registered=true``); holidays and hospital stays count as registered, as
    #: meterrisk/alerts/evaluate.py assumes. Drawn after holidays and hospital stays, never
    #: overlapping them.
    family_stay_rate: float = 1 / 500
    family_stay_days: tuple[int, int] = (7, 28)
    family_stay_registered_share: float = 0.5
    visitor_rate: float = 1 / 12
    visitor_hours: tuple[float, float] = (1.5, 5.0)
    visitor_kwh: tuple[float, float] = (0.08, 0.25)
    appliance_left_on_rate: float = 1 / 150
    appliance_kw: tuple[float, float] = (0.6, 1.2)
    appliance_hours: tuple[float, float] = (4.0, 20.0)
    #: Acute collapse: inflated far above real incidence (so a 200 x 120 cohort has a few to
    #: evaluate against); rate multiplied by 1 + 2 f. Found after this many hours.
    collapse_rate: float = 2e-4
    collapse_found_hours: tuple[float, float] = (6.0, 48.0)
    #: Probability something (heater, TV, light) stays on after a collapse, and its draw.
    collapse_left_on_prob: float = 0.5
    collapse_left_on_kw: tuple[float, float] = (0.06, 0.8)


@dataclass(frozen=True)
class FaultParams:
    """Relative weights of fault kinds; the overall rate is ``generate(faults=...)``.

    With rate r, each household-day has probability r of one fault incident.
    """

    weights: dict[str, float] = field(default_factory=lambda: {
        "missing_slots": 4.0,
        "missing_day": 1.0,
        "duplicate": 2.0,
        "conflicting_duplicate": 1.0,
        "spike": 1.0,
        "negative": 1.0,
        "off_grid_ts": 1.0,
        "unparseable_ts": 1.0,
        "non_numeric_kwh": 1.0,
        "malformed_line": 1.0,
        "meter_reset": 0.3,
    })
    spike_kwh: float = 50.0


@dataclass(frozen=True)
class MeterParams:
    """What the meter and its communication do to the readings (not behaviour).

    Rates measured on the 100 London LCL homes of 2013 (docs/synth.md, "Measured on London
    LCL 2013"); the resident's behaviour, and any event, continue underneath an outage or gap.
    Span rates are per household-day with consent; lengths are in days (log-uniform).
    """

    #: Share of homes whose meter reads exactly 0 at times in normal use (low standby below
    #: the meter's registering threshold). LCL: 21 of 100 homes have zeros outside long runs.
    zero_home_share: float = 0.2
    #: Per-home zero propensity p of those homes ~ Beta(a, b): a quiet half hour (use within
    #: ``quiet_margin_kwh`` of the floor) reads 0 with probability p, any other with p**2, so
    #: low-p homes show zeros at night (LCL MAC000036: 30% of 01-05 h slots, 0% at 18-22 h)
    #: and a rare high-p home is mostly zeros at every hour (LCL MAC000004: 77%, flat by hour).
    #: Beta(0.3, 1.6) gives ~1.8% zero readings overall (LCL 1.8% outside runs of >= 1 day).
    zero_propensity_beta: tuple[float, float] = (0.3, 1.6)
    quiet_margin_kwh: float = 0.01
    #: Meter/communication outage that reads exactly 0 kWh (``meter_outage``). LCL: 2 runs of
    #: >= 1 day in ~35,000 household-days outside the one always-zero home (36 h and 18 days).
    outage_rate: float = 6e-5
    outage_days: tuple[float, float] = (1.0, 21.0)
    #: Stuck meter repeating its last value (``flat_line``). LCL's longest repeat of a non-zero
    #: value is 15 h (none of days), so this is an assumption kept rarer than outages.
    flat_line_rate: float = 3e-5
    flat_line_days: tuple[float, float] = (0.5, 5.0)
    #: Whole local days without rows (``no_data``). LCL: 10 gaps of 1-2 days in 3 homes over
    #: ~35,000 household-days (2.9e-4); we use 1-3 days.
    no_data_rate: float = 3e-4
    no_data_days: tuple[int, int] = (1, 3)
    #: Homes whose meter stops reporting for good, with consent still in force
    #: (``stopped_reporting``), per year. LCL: 9 of 100 homes stopped 2-11 months before the
    #: end of 2013, a trial whose volunteers dropped out; a utility meter in a town service
    #: stops less often (exchange, communication failure), so we use half.
    stop_reporting_per_year: float = 0.045


@dataclass(frozen=True)
class SynthParams:
    """All parameters of a synthetic cohort (recorded in manifest.json)."""

    cohort: CohortParams = field(default_factory=CohortParams)
    load: LoadParams = field(default_factory=LoadParams)
    frailty: FrailtyParams = field(default_factory=FrailtyParams)
    events: EventParams = field(default_factory=EventParams)
    faults: FaultParams = field(default_factory=FaultParams)
    meter: MeterParams = field(default_factory=MeterParams)
    #: Households per generated chunk/file: bounds memory (chunk x days x 48 float64 arrays).
    chunk_households: int = 500
    #: Share of consenting residents assessed at each survey wave.
    assessed_share: float = 0.6
    #: Number of Kihon-Checklist survey waves spread over the period.
    survey_waves: int = 3
    #: Checklist score = a + b * f + Normal(0, sd), rounded and clipped to 0..25.
    checklist_a: float = 2.0
    checklist_b: float = 12.0
    checklist_sd: float = 1.8

    def to_dict(self) -> dict:
        return asdict(self)
