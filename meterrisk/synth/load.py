"""Half-hourly kWh of a chunk of homes: floor + routines + weather + events, as (H, T) arrays.

Everything is vectorised over households and slots; per-day quantities are (H, D) arrays
broadcast to slots with ``[:, grid.day]``. Energies are kWh per half hour, times local hours.
"""

from __future__ import annotations

import numpy as np

from meterrisk.synth.events import Events
from meterrisk.synth.households import Traits
from meterrisk.synth.params import FrailtyParams, LoadParams
from meterrisk.synth.timegrid import Grid

_SQRT_2PI = np.sqrt(2 * np.pi)


def _bump(hour: np.ndarray, centre: np.ndarray, width: float) -> np.ndarray:
    """Gaussian peak around ``centre`` (H, T) whose half-hour values sum to ~1."""
    z = (hour - centre) / width
    return np.exp(-0.5 * z * z) * (0.5 / (width * _SQRT_2PI))


def daily_routine(traits: Traits, frailty: np.ndarray, rng: np.random.Generator,
                  lp: LoadParams, fp: FrailtyParams) -> dict[str, np.ndarray]:
    """Per-day times (local hours) and amounts, each (H, D). Frailty shifts them modestly."""
    h, d = frailty.shape
    f = frailty
    wake_sd = lp.wake_day_sd_h * (1 + fp.wake_variability * f)
    wake = traits.wake_mean[:, None] + fp.wake_delay_h * f + rng.normal(0, 1, (h, d)) * wake_sd
    bed = np.minimum(traits.bed_mean[:, None] + rng.normal(0, 0.4, (h, d)), 23.99)
    amp = np.exp(rng.normal(0, 1, (h, d)) * lp.day_sigma * (1 - fp.variability_shrink * f))
    meals = []
    for i, centre in enumerate((wake + rng.uniform(0.3, 0.8, (h, d)),
                                traits.lunch_h[:, None] + rng.normal(0, 0.25, (h, d)),
                                traits.dinner_h[:, None] + rng.normal(0, 0.3, (h, d)))):
        cooks = rng.random((h, d)) < lp.meal_prob[i] * (1 - fp.meal_skip * f)
        kwh = cooks * lp.meal_kwh[i] * (1 - fp.cooking_reduction * f) * amp
        meals.append((centre, kwh))
    return {
        "wake": wake, "bed": bed, "amp": amp, "meals": meals,
        "laundry": (rng.random((h, d)) < lp.laundry_prob) * lp.laundry_kwh,
        "laundry_at": wake + rng.uniform(1.0, 3.0, (h, d)),
        "bath": (rng.random((h, d)) < 0.8) * lp.bath_kwh,
        "bath_at": bed - rng.uniform(0.7, 1.5, (h, d)),
    }


def chunk_kwh(grid: Grid, traits: Traits, frailty: np.ndarray, events: Events,
              temperature: np.ndarray, clearness: np.ndarray, rng: np.random.Generator,
              lp: LoadParams, fp: FrailtyParams) -> np.ndarray:
    """Net kWh per half hour, shape (H, T), rounded to the meter's 1 Wh resolution."""
    h, t = frailty.shape[0], grid.n_slots
    day, hour = grid.day, grid.hour[None, :]
    r = daily_routine(traits, frailty, rng, lp, fp)
    f_slot = frailty[:, day]
    scale = traits.scale[:, None]

    # Floor: standby plus a fridge whose duty cycle rises with room temperature.
    duty = traits.fridge_duty[:, None] * (1 + 0.02 * (temperature[day] - 15.0))[None, :]
    duty = np.clip(duty + 0.12 * rng.standard_normal((h, t)), 0.02, 1.0)
    kwh = traits.standby[:, None] + traits.fridge_max[:, None] * duty

    out = (events.outing[:, day] & (hour >= events.outing_start[:, day])
           & (hour < events.outing_end[:, day]))
    home = ~(out | events.away)
    awake = (hour >= r["wake"][:, day]) & (hour < r["bed"][:, day])
    active = awake & home

    slot_noise = np.exp(rng.standard_normal((h, t)) * lp.slot_sigma
                        * (1 - fp.variability_shrink * f_slot))
    base = traits.awake_base[:, None] + lp.evening_extra * (hour >= 19.0)
    act = base * slot_noise
    for centre, amount in r["meals"]:
        act += amount[:, day] * _bump(hour, centre[:, day], lp.meal_width_h)
    act += r["laundry"][:, day] * _bump(hour, r["laundry_at"][:, day], 0.4)
    act += r["bath"][:, day] * _bump(hour, r["bath_at"][:, day], 0.3)
    act *= active * r["amp"][:, day]

    # Night waking: toilet trips for everyone, day/night reversal growing with frailty.
    night = (hour < 5.0) & home & (rng.random((h, t)) < 0.02 + fp.night_activity * f_slot)
    act += night * rng.uniform(0.03, 0.12, (h, t))

    visiting = (events.visitor[:, day] & (hour >= events.visitor_start[:, day])
                & (hour < events.visitor_end[:, day]) & home)
    act += visiting * events.visitor_kwh[:, day]
    kwh += act * scale

    # Weather: heating while up (and a little at night, electric blankets); cooling on
    # hot afternoons and, in heat waves, through the night.
    hdd = np.maximum(lp.heating_base_c - temperature, 0.0)[day]
    cdd = np.maximum(temperature - lp.cooling_base_c, 0.0)[day]
    heat_w = np.where(active, 1.0, 0.25 * (home & ~awake))
    cool_w = np.where(active & (hour >= 11) & (hour < 19), 1.0, 0.5 * (home & ~awake))
    kwh += 0.5 * np.sqrt(scale) * (traits.heat_kw_per_c[:, None] * hdd * heat_w
                                   + traits.cool_kw_per_c[:, None] * cdd * cool_w)

    # Heat-pump water heater: runs in the cheap night window, longer when it is cold.
    run_h = traits.water_hours[:, None] * (1 + 0.03 * np.maximum(15.0 - temperature, 0))[day]
    wh_on = (hour >= traits.water_start_h[:, None]) & (hour < traits.water_start_h[:, None] + run_h)
    kwh += wh_on * traits.water_kw[:, None] * 0.5

    kwh += events.extra
    kwh = np.where(events.collapsed, traits.standby[:, None] + traits.fridge_max[:, None] * duty
                   + events.extra, kwh)

    # Rooftop PV: a daylight arc, longer and higher in summer, scaled by the day's clearness.
    if traits.solar_kwp.any():
        season = np.cos(2 * np.pi * (grid.day_of_year - 172) / 365.25)[day]
        half_len = 6.0 + 1.2 * season
        arc = np.clip(np.cos(np.pi * (hour + 0.25 - 12.0) / (2 * half_len)), 0, None)
        gen = traits.solar_kwp[:, None] * 0.75 * (0.8 + 0.2 * season) * arc * clearness[day]
        kwh -= 0.5 * gen

    outage = rng.random((h, t)) < lp.outage_prob
    kwh[outage] = 0.0
    return np.round(kwh, 3) + 0.0
