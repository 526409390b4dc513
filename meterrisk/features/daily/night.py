"""Night: brief activity while the household should be asleep."""

from __future__ import annotations

import polars as pl

from meterrisk.features.daily.inputs import NIGHT_FLOOR_END_H
from meterrisk.features.halfhours import HalfHours

#: Night blips: half hours before 04:30 that rise this far above the night's own median
#: reading (the floor that night, whatever the heating or the fridge do), but less than a water
#: heater or heater cycle would. Measured against the night itself, not the 7-day baseload:
#: a small bump (a light, the toilet fan, 0.03-0.1 kWh) hides inside the active margin.
BLIP_END_H = NIGHT_FLOOR_END_H
BLIP_MIN_KWH = 0.025
BLIP_MAX_KWH = 0.3
BLIP_MIN_SLOTS = 7


def night_blips(kwh: HalfHours, night_median_kwh: pl.Expr, night_unreadable: pl.Expr) -> pl.Expr:
    """Brief night activity: half hours from 00:00 to 04:30 whose reading is more than 0.025 kWh
    and less than 0.3 kWh above that night's median 00:00-04:30 reading (a light or the toilet
    at night; water heaters and heater cycles rise further or stay on). Day/night reversal
    grows with frailty; a share of active half hours misses most of these small bumps.

    Unit: count (half hours per night)
    Edge cases: null when fewer than 7 of the night's half hours before 04:30 are present. The
    median is the lower middle reading for an even count. Clock-change days use every reading
    whose clock time is before 04:30. Null on a night_unreadable night (a cycling heater or air
    conditioner would count as blips).
    """
    night = kwh.before(BLIP_END_H)
    above = night.map(lambda e: e - night_median_kwh)
    blips = above.map(lambda e: ((e > BLIP_MIN_KWH) & (e < BLIP_MAX_KWH)).fill_null(False))
    readable = (night.map(lambda e: e.is_not_null()).count() >= BLIP_MIN_SLOTS) & (night_unreadable == 0)
    return pl.when(readable).then(blips.count())


def night_unreadable(night_load_on: pl.Expr) -> pl.Expr:
    """1 when a night load hides the night's behaviour, else 0: the night's lower-median
    reading (00:00-04:30), its lowest reading of 00:00-01:00 and its lowest of 03:00-04:30 all
    sit at least 0.1 kWh above the baseload (storage heating or air conditioning on all night,
    not a water heater for a few hours or a late evening), or 3 or more half hours before
    04:30 are at least 0.2 kWh above the baseload and the night switches 4 or more times
    between such half hours and others (a thermostat cycling; a fridge cycles far lower).
    night_activity_share and night_blips are null on such nights, wake time is read after the
    load, and the previous day's bedtime is null.

    Unit: flag (0/1)
    Edge cases: the baseload itself is the day floor when a night load lifts the 7-day night
    floor above it (see baseload_kwh).
    """
    return night_load_on.cast(pl.Int32)
