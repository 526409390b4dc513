"""Night storage heating and night air conditioning households: raised night load, in truth."""

from __future__ import annotations

import dataclasses as dc
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from meterrisk.synth import SynthParams, generate

START = date(2025, 1, 1)
DAYS = 365
N = 20


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Path:
    """20 homes for a year; exactly one storage-heated and one night-AC home.

    No water heaters, solar or meter zeros, so the night shows only what is tested.
    """
    p = SynthParams()
    p = dc.replace(
        p,
        cohort=dc.replace(p.cohort, all_electric_share=0.0, solar_share=0.0,
                          no_consent_share=0.0, withdraw_share=0.0,
                          night_storage_heating_share=1 / N, night_air_conditioning_share=1 / N),
        meter=dc.replace(p.meter, zero_home_share=0.0, outage_rate=0.0, flat_line_rate=0.0,
                         no_data_rate=0.0, stop_reporting_per_year=0.0))
    out = tmp_path_factory.mktemp("night") / "y"
    generate(out, households=N, days=DAYS, start=START, seed=21, params=p)
    return out


def _days(cohort: Path, hid: str) -> np.ndarray:
    """(days, 48) kWh of one home; NaN where no reading."""
    df = pl.read_parquet(cohort / "readings").filter(pl.col("household_id") == hid)
    t0 = datetime(START.year, START.month, START.day)
    slot = ((df["ts"].dt.replace_time_zone(None) - t0).dt.total_minutes() // 30).to_numpy()
    m = np.full(DAYS * 48, np.nan)
    m[slot] = df["kwh"].to_numpy()
    return m.reshape(DAYS, 48)


def _who(cohort: Path, col: str) -> list[str]:
    t = pl.read_csv(cohort / "truth" / "household_traits.csv")
    return t.filter(pl.col(col))["household_id"].to_list()


def _temps(cohort: Path) -> np.ndarray:
    return pl.read_csv(cohort / "temperature.csv")["mean_temp_c"].to_numpy()


def test_exactly_one_home_of_each_kind_in_truth(year):
    storage, ac = _who(year, "night_storage_heating"), _who(year, "night_air_conditioning")
    assert len(storage) == 1 and len(ac) == 1 and storage != ac


def test_storage_heating_lifts_the_night_above_the_day_in_winter_only(year):
    (hid,) = _who(year, "night_storage_heating")
    d = _days(year, hid)
    temp = _temps(year)
    night = np.nanmean(d[:, 0:10], axis=1)    # 00:00-05:00
    day = np.nanmean(d[:, 20:32], axis=1)     # 10:00-16:00
    cold, warm = temp < 8, temp > 20
    assert cold.sum() > 20 and warm.sum() > 60
    # Cold days: 1.5-3 kW charging for 4+ hours, far above daytime use.
    assert np.mean(night[cold] > 2 * day[cold]) > 0.95
    assert np.median(night[cold]) > 0.5
    # Warm days: no charging, the night sits at the floor again.
    assert np.median(night[warm]) < np.median(day[warm])
    assert np.median(night[warm]) < 0.15
    # Nobody else's winter night looks like that.
    others = [h for h in pl.read_csv(year / "households.csv")["household_id"] if h != hid]
    other_nights = [np.nanmedian(np.nanmean(_days(year, h)[:, 0:10], axis=1)[cold])
                    for h in others]
    assert max(other_nights) < 0.5 * np.median(night[cold])


def test_night_air_conditioning_cycles_on_hot_nights_only(year):
    (hid,) = _who(year, "night_air_conditioning")
    d = _days(year, hid)
    temp = _temps(year)
    hot, mild = temp >= 27, (temp > 14) & (temp < 20)
    assert hot.sum() > 10 and mild.sum() > 20
    deep = d[:, 2:8]                                 # 01:00-04:00, asleep
    on = deep >= 0.2                                 # compressor half hours (0.2-0.6 kWh)
    # Thermostat cycling: most hot-night half hours run, but not all of them.
    share_on = on[hot].mean()
    assert 0.45 < share_on < 0.99, share_on
    assert np.nanmax(deep[hot]) <= 0.6 + 0.2        # compressor plus the floor and a blip
    assert np.median(np.nanmean(deep[hot], axis=1)) > 0.15
    # Mild nights: no air conditioning, the floor.
    assert on[mild].mean() < 0.05
    assert np.median(np.nanmean(deep[mild], axis=1)) < 0.1
    # Homes without it do not cycle like that on the same nights.
    others = [h for h in pl.read_csv(year / "households.csv")["household_id"]
              if h not in (hid, *_who(year, "night_storage_heating"))]
    assert max((_days(year, h)[:, 2:8][hot] >= 0.2).mean() for h in others) < 0.3
