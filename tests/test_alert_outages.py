"""Outages are not inactivity (issue 13): exact-zero days, stuck values and gaps are
data-quality events of the household, judged against its own history, never an alert."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import REAL_LCL
from test_alerts import _day, _history

from meterrisk.alerts.detector import detect_day

INACTIVITY = {"no_activity_after_usual_wake", "long_inactive_run"}


def _kinds(alerts):
    return [(a.kind, a.severity, a.slot) for a in alerts]


def test_a_day_of_exact_zeros_is_a_meter_outage_not_inactivity():
    rng = np.random.default_rng(20)
    hist = _history(rng, days=30)
    assert _kinds(detect_day(hist, np.zeros(48))) == [("meter_outage", "data", 11)]   # 6 h of zeros
    today = _day(rng)
    today[20:] = 0.0                                                                   # dead from 10:00
    assert _kinds(detect_day(hist, today)) == [("meter_outage", "data", 31)]
    # the next day of zeros continues the run from yesterday: still an outage, still no alert
    assert _kinds(detect_day(np.vstack([hist, today]), np.zeros(48))) == [("meter_outage", "data", 0)]


def test_zeros_are_ordinary_in_a_home_that_reads_zero_every_night():
    rng = np.random.default_rng(21)
    days = []
    for _ in range(30):
        x = _day(rng)
        x[:12] = 0.0                                  # nothing on 00:00-06:00: reads exactly 0
        days.append(x)
    hist = np.vstack(days)
    night = _day(rng)
    night[:12] = 0.0
    assert detect_day(hist, night) == []              # its usual night: no event, no alert
    # a whole day of zeros is longer than any zero run of its history (6 h) by far: an outage
    alerts = detect_day(hist, np.zeros(48))
    assert [a.kind for a in alerts if a.severity == "data"] == ["meter_outage"]
    assert not {a.kind for a in alerts} & INACTIVITY


def test_one_value_repeated_to_the_last_digit_is_a_stuck_meter():
    rng = np.random.default_rng(22)
    hist = _history(rng, days=30)
    today = _day(rng)
    today[18:] = 0.123                                # from 09:00
    alerts = detect_day(hist, today)
    assert _kinds(alerts) == [("meter_outage", "data", 18 + 12 - 1)]
    # a heater left on is not a stuck meter: its readings move in the last digit
    heater = _day(rng)
    heater[18:] = 0.5 + rng.uniform(0, 0.01, 30).round(3)
    assert "meter_outage" not in {a.kind for a in detect_day(hist, heater)}


def test_missing_readings_are_no_data_but_not_yet_received_is_not_missing():
    rng = np.random.default_rng(23)
    hist = _history(rng, days=30)
    today = _day(rng)
    today[10:] = np.nan                               # nothing since 05:00
    assert _kinds(detect_day(hist, today)) == [("no_data", "data", 21)]
    assert detect_day(hist, today, upto=20) == []     # at 10:30 only 5.5 h missing
    assert detect_day(hist, np.full(48, np.nan), upto=5) == []


def _london(names):
    """Some London homes as {LCLid: (dates, days x 48)} with the detector's own loaders."""
    import polars as pl

    from meterrisk.alerts.detector import day_matrices
    from meterrisk.alerts.evaluate import local_frame

    frames = []
    for name in names:
        df = pl.read_csv(REAL_LCL / "halfhourly" / f"{name}.csv.gz", infer_schema_length=0)
        frames.append(df.select(
            pl.col("LCLid").alias("household_id"),
            pl.col("tstp").str.strip_chars().str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False)
            .dt.replace_time_zone("UTC").alias("ts"),
            pl.col("energy(kWh/hh)").str.strip_chars().cast(pl.Float64, strict=False).alias("kwh")).drop_nulls())
    long = local_frame(pl.concat(frames), "ts", "Europe/London")
    return day_matrices(long.group_by("household_id", "local_date", "slot").agg(pl.col("kwh").sum()))


@pytest.mark.realdata
@pytest.mark.skipif(not (REAL_LCL / "halfhourly").exists(), reason="real London files not present")
@pytest.mark.parametrize("days", [84, 28])
def test_london_homes_with_weeks_of_zeros_get_no_inactivity_alert_on_them(days):
    """MAC000006 and MAC000041 read exactly 0 kWh (MAC000006: but for one or two 0.001 a day)
    for 15 and 17 days in August 2013; before the fix those days were a run of daily
    `no_activity_after_usual_wake` alerts (8 and 3 days against 12 weeks of history, 15 and 14
    against 4 weeks)."""
    from meterrisk.alerts.detector import DetectorParams
    from meterrisk.alerts.evaluate import run_matrix

    p = DetectorParams(history_days=days)
    for hid, (dates, X) in _london(["MAC000006", "MAC000041"]).items():
        zero_days = {d for d, x in zip(dates, X) if (x == 0).sum() >= 44}
        assert len(zero_days) >= 14
        alerts = run_matrix(dates, X, p)
        on_zero = [(d, a.kind) for d, a in alerts if d in zero_days and a.kind in INACTIVITY]
        assert on_zero == [], (hid, on_zero)
        # the outage is a data-quality event on each of those days (one episode: consecutive days)
        outage_days = {d for d, a in alerts if a.kind == "meter_outage"}
        assert {d for d in zero_days if d >= dates[days]} <= outage_days
