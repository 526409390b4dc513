"""Half-hourly kWh of a chunk of homes: floor + routines + weather + events.

Vectorised over households and slots. On a zone without daylight saving every local day has
48 slots, so slot arrays are shaped (H, D, 48) and per-day values (H, D) broadcast for free;
otherwise (46/50-slot days) they are (H, T) and per-day values are gathered with
``[:, grid.day]``. Energies are kWh per half hour, times are local hours.
"""

from __future__ import annotations

import numpy as np

from meterrisk.synth.events import Events
from meterrisk.synth.households import Traits
from meterrisk.synth.meter import apply_zeros
from meterrisk.synth.params import FrailtyParams, LoadParams, MeterParams
from meterrisk.synth.timegrid import Grid

_SQRT_2PI = np.sqrt(2 * np.pi)


class _Slots:
    """Broadcasting helpers between per-day (H, D) values and per-slot arrays."""

    def __init__(self, grid: Grid, h: int):
        self.grid, self.h = grid, h
        self.uniform = bool((grid.slots_per_day == 48).all())
        if self.uniform:
            self.shape = (h, grid.days, 48)
            self.hour = (np.arange(48) / 2.0)[None, None, :]
        else:
            self.shape = (h, grid.n_slots)
            self.hour = grid.hour[None, :]

    def per_day(self, x: np.ndarray) -> np.ndarray:
        """(H, D) household-day values, or (D,) town values, as slot-shaped arrays."""
        if x.ndim == 1:
            return x[None, :, None] if self.uniform else x[self.grid.day][None, :]
        return x[:, :, None] if self.uniform else x[:, self.grid.day]

    def per_home(self, x: np.ndarray) -> np.ndarray:
        return x[:, None, None] if self.uniform else x[:, None]

    def cols(self, lo_h: float, hi_h: float) -> slice:
        """Slot columns between two local hours (all columns if days are not uniform)."""
        return slice(int(lo_h * 2), int(hi_h * 2)) if self.uniform else slice(None)

    def sub(self, x: np.ndarray, cols: slice) -> np.ndarray:
        return x[..., cols] if self.uniform else x

    def from_flat(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(self.shape)


def _bumps(grid: Grid, h: int, peaks: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """Sum of Gaussian peaks (centre hour, kWh, width h), each (H, D), as flat (H*T) kWh.

    Each peak is evaluated only on the few slots around its centre and scattered with
    ``bincount``: 7-11 evaluations per peak instead of a full day of them.
    """
    first = np.searchsorted(grid.day, np.arange(grid.days))
    t = grid.n_slots
    idx, val = [], []
    rows = np.arange(h)[:, None] * t
    for centre, amount, width in peaks:
        k0 = np.rint(centre * 2).astype(np.int64)
        reach = int(np.ceil(3 * width * 2))
        for j in range(-reach, reach + 1):
            k = k0 + j
            z = (k / 2.0 - centre) / width
            slot = first[None, :] + k
            ok = (slot >= 0) & (slot < t) & (amount != 0)
            idx.append((rows + slot)[ok])
            val.append((amount * np.exp(-0.5 * z * z) * (0.5 / (width * _SQRT_2PI)))[ok])
    return np.bincount(np.concatenate(idx), np.concatenate(val), minlength=h * t)


def daily_routine(traits: Traits, frailty: np.ndarray, rng: np.random.Generator,
                  lp: LoadParams, fp: FrailtyParams) -> dict:
    """Per-day times (local hours) and amounts (kWh), each (H, D). Frailty shifts them modestly."""
    h, d = frailty.shape
    f = frailty
    wake_sd = lp.wake_day_sd_h * (1 + fp.wake_variability * f)
    wake = traits.wake_mean[:, None] + fp.wake_delay_h * f + rng.normal(0, 1, (h, d)) * wake_sd
    bed = np.minimum(traits.bed_mean[:, None] + rng.normal(0, 0.4, (h, d)), 23.99)
    amp = np.exp(rng.normal(0, 1, (h, d)) * lp.day_sigma * (1 - fp.variability_shrink * f))
    peaks = []
    for i, centre in enumerate((wake + rng.uniform(0.3, 0.8, (h, d)),
                                traits.lunch_h[:, None] + rng.normal(0, 0.25, (h, d)),
                                traits.dinner_h[:, None] + rng.normal(0, 0.3, (h, d)))):
        cooks = rng.random((h, d)) < lp.meal_prob[i] * (1 - fp.meal_skip * f)
        peaks.append((centre, cooks * lp.meal_kwh[i] * (1 - fp.cooking_reduction * f),
                      lp.meal_width_h))
    peaks.append((wake + rng.uniform(1.0, 3.0, (h, d)),
                  (rng.random((h, d)) < lp.laundry_prob) * lp.laundry_kwh, 0.4))
    peaks.append((bed - rng.uniform(0.7, 1.5, (h, d)),
                  (rng.random((h, d)) < 0.8) * lp.bath_kwh, 0.3))
    return {"wake": wake, "bed": bed, "amp": amp, "peaks": peaks}


def chunk_kwh(grid: Grid, traits: Traits, frailty: np.ndarray, events: Events,
              temperature: np.ndarray, clearness: np.ndarray, rng: np.random.Generator,
              lp: LoadParams, fp: FrailtyParams, meter_rng: np.random.Generator,
              mp: MeterParams, night_rng: np.random.Generator) -> np.ndarray:
    """Net kWh per half hour, shape (H, T), rounded to the meter's 1 Wh resolution.

    ``meter_rng`` draws the exact zeros of low-standby homes (``meter.apply_zeros``) and
    ``night_rng`` the air-conditioner cycling: streams of their own, so the other load draws
    of a seed are unchanged by them.
    """
    h = frailty.shape[0]
    S = _Slots(grid, h)
    hour, day, home_ = S.hour, S.per_day, S.per_home
    r = daily_routine(traits, frailty, rng, lp, fp)
    f_slot = day(frailty)

    # Floor: standby plus a fridge whose duty cycle rises with room temperature.
    duty = home_(traits.fridge_duty) * (1 + 0.02 * (day(temperature) - 15.0))
    duty = duty + 0.12 * rng.standard_normal(S.shape, dtype=np.float32)
    np.clip(duty, 0.02, 1.0, out=duty)
    floor = home_(traits.standby) + home_(traits.fridge_max) * duty

    away = S.from_flat(events.away)
    out = day(events.outing) & (hour >= day(events.outing_start)) & (hour < day(events.outing_end))
    home = ~(out | away)
    awake = (hour >= day(r["wake"])) & (hour < day(r["bed"]))
    active = awake & home

    noise_sd = lp.slot_sigma * (1 - fp.variability_shrink * f_slot)
    act = rng.standard_normal(S.shape, dtype=np.float32) * noise_sd
    np.exp(act, out=act)
    act *= home_(traits.awake_base) + lp.evening_extra * (hour >= 19.0)
    act += S.from_flat(_bumps(grid, h, r["peaks"]))
    act *= active
    act *= day(r["amp"])

    # Night waking: toilet trips for everyone, day/night reversal growing with frailty.
    # Only the 00:00-05:00 slots can wake, so only they are drawn.
    night_cols = S.cols(0.0, 5.0)
    p_night = (S.sub(hour, night_cols) < 5.0) * (0.02 + fp.night_activity * f_slot)
    wake_up = rng.random(S.sub(act, night_cols).shape, dtype=np.float32) < p_night
    wake_up &= S.sub(home, night_cols)
    S.sub(act, night_cols)[...] += wake_up * (0.03 + 0.09 * rng.random(wake_up.shape,
                                                                      dtype=np.float32))

    # Visitors come in the afternoon or evening, only when the resident is home.
    aft = S.cols(12.0, 24.0)
    h_aft = S.sub(hour, aft)
    visiting = (day(events.visitor) & (h_aft >= day(events.visitor_start))
                & (h_aft < day(events.visitor_end)) & S.sub(home, aft))
    S.sub(act, aft)[...] += visiting * day(events.visitor_kwh)
    act *= home_(traits.scale)
    kwh = floor + act
    del act

    # Weather: heating while up (and a little at night, electric blankets); cooling on
    # hot afternoons and, in heat waves, through the night. Per-day coefficients first,
    # so the slot arrays see only a few operations.
    climate = np.sqrt(traits.scale)[:, None] * 0.5
    heat = day(climate * traits.heat_kw_per_c[:, None]
               * np.maximum(lp.heating_base_c - temperature, 0.0)[None, :])
    cool = day(climate * traits.cool_kw_per_c[:, None]
               * np.maximum(temperature - lp.cooling_base_c, 0.0)[None, :])
    afternoon = (hour >= 11) & (hour < 19)
    kwh += active * (heat + cool * afternoon)
    asleep = home & ~awake
    kwh += asleep * (0.25 * heat + 0.5 * cool)

    kwh = kwh.reshape(h, grid.n_slots)
    # Heat-pump water heater: runs in the cheap night window, longer when it is cold.
    for i in np.flatnonzero(traits.water_kw):
        run_h = traits.water_hours[i] * (1 + 0.03 * np.maximum(15.0 - temperature, 0))
        on = (grid.hour >= traits.water_start_h[i]) & (grid.hour < traits.water_start_h[i]
                                                      + run_h[grid.day])
        kwh[i] += on * (traits.water_kw[i] * 0.5)

    _night_storage_heating(kwh, grid, traits, events, temperature, lp)
    _night_air_conditioning(kwh, grid, traits, asleep.reshape(h, grid.n_slots), temperature,
                            night_rng, lp)

    busy = np.flatnonzero(events.extra.any(axis=1))
    kwh[busy] += events.extra[busy]
    floor = floor.reshape(h, grid.n_slots)
    for i in np.flatnonzero(events.collapsed.any(axis=1)):
        c = events.collapsed[i]
        kwh[i, c] = floor[i, c] + events.extra[i, c]

    # Low-standby homes whose meter reads 0 below its registering threshold (not solar homes).
    apply_zeros(kwh, floor, traits.zero_propensity, meter_rng, mp.quiet_margin_kwh)

    # Rooftop PV: a daylight arc, longer and higher in summer, scaled by the day's clearness.
    solar = np.flatnonzero(traits.solar_kwp)
    if len(solar):
        season = np.cos(2 * np.pi * (grid.day_of_year - 172) / 365.25)[grid.day]
        half_len = 6.0 + 1.2 * season
        arc = np.clip(np.cos(np.pi * (grid.hour + 0.25 - 12.0) / (2 * half_len)), 0, None)
        gen = (0.75 * (0.8 + 0.2 * season) * arc * clearness[grid.day])[None, :]
        kwh[solar] -= 0.5 * traits.solar_kwp[solar, None] * gen

    outage = rng.integers(0, kwh.size, rng.binomial(kwh.size, lp.outage_prob))
    kwh.flat[outage] = 0.0
    np.round(kwh, 3, out=kwh)
    kwh += 0.0  # turns -0.0 into 0.0
    return kwh


def _night_storage_heating(kwh: np.ndarray, grid: Grid, traits: Traits, events: Events,
                           temperature: np.ndarray, lp: LoadParams) -> None:
    """In place on (H, T): storage heaters charge at full power on cold nights.

    A 23:00 start belongs to the next day's heat, so it uses that day's temperature; the
    last half hour of a charge is partial. Off while away (holiday, hospital), still on
    during a collapse (the timer does not know).
    """
    homes = np.flatnonzero(traits.storage_kw)
    if not len(homes):
        return
    charge_h = np.clip(lp.storage_hours_per_c * (lp.storage_base_c - temperature), 0.0,
                       lp.storage_max_hours)
    for i in homes:
        start = traits.storage_start_h[i]
        night_day = np.minimum(grid.day + (grid.hour >= start) * (start > 12), grid.days - 1)
        since = np.mod(grid.hour - start, 24.0)
        on_h = np.clip(charge_h[night_day] - since, 0.0, 0.5)
        off = events.away[i] & ~events.collapsed[i]
        kwh[i] += traits.storage_kw[i] * on_h * ~off


def _night_air_conditioning(kwh: np.ndarray, grid: Grid, traits: Traits, asleep: np.ndarray,
                            temperature: np.ndarray, rng: np.random.Generator,
                            lp: LoadParams) -> None:
    """In place on (H, T): air conditioning cycling on and off while asleep on hot nights."""
    homes = np.flatnonzero(traits.night_ac_kw)
    if not len(homes):
        return
    hot = temperature - lp.night_ac_base_c
    duty_day = np.where(hot >= 0, np.minimum(lp.night_ac_duty[0] + lp.night_ac_duty_per_c * hot,
                                             lp.night_ac_duty[1]), 0.0)
    if not duty_day.any():
        return
    duty = duty_day[grid.day][None, :] * asleep[homes]
    on = rng.random(duty.shape, dtype=np.float32) < duty
    full = traits.night_ac_kw[homes, None] * 0.5
    part = rng.uniform(0.6, 1.0, duty.shape).astype(np.float32)
    kwh[homes] += np.where(on, full * part, (duty > 0) * lp.night_ac_fan_kwh)
