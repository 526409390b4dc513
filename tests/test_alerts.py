"""Inactivity alerts on hand-built days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from meterrisk.alerts.detector import detect_day


def _day(rng, *, wake=14, bed=44, flat_from=None, stuck_from=None):
    """kWh per half hour: standby ~0.03 at night, moving use 0.1-0.3 while awake."""
    x = 0.03 + rng.uniform(0, 0.01, 48)
    awake = np.arange(48)
    x[(awake >= wake) & (awake < bed)] += rng.uniform(0.07, 0.3, bed - wake)
    if flat_from is not None:
        x[flat_from:] = 0.03 + rng.uniform(0, 0.01, 48 - flat_from)
    if stuck_from is not None:
        x[stuck_from:] = 0.5 + rng.uniform(0, 0.01, 48 - stuck_from)
    return x


def _history(rng, days=28):
    return np.vstack([_day(rng, wake=14 + int(rng.integers(-1, 2))) for _ in range(days)])


def test_normal_day_gives_no_alert():
    rng = np.random.default_rng(0)
    hist = _history(rng)
    quiet = sum(len(detect_day(hist, _day(rng))) for _ in range(20))
    assert quiet == 0


def test_house_going_flat_at_ten_is_flagged_within_hours():
    rng = np.random.default_rng(1)
    hist = _history(rng)
    alerts = detect_day(hist, _day(rng, flat_from=20))        # usual wake 07:00, flat from 10:00
    kinds = {a.kind for a in alerts}
    assert kinds & {"long_inactive_run", "no_activity_after_usual_wake"}
    first = min(a.slot for a in alerts)
    delay_h = (first + 1 - 20) / 2
    assert 0 < delay_h <= 4, delay_h
    assert "electricity alone cannot tell" in alerts[0].message


def test_no_wake_up_is_flagged_after_usual_wake():
    rng = np.random.default_rng(2)
    hist = _history(rng)
    alerts = detect_day(hist, _day(rng, flat_from=0))
    nw = [a for a in alerts if a.kind == "no_activity_after_usual_wake"]
    assert nw and 14 < nw[0].slot <= 14 + 6


def test_load_stuck_on_is_flagged():
    rng = np.random.default_rng(3)
    hist = _history(rng)
    alerts = detect_day(hist, _day(rng, stuck_from=20))
    assert "stuck_on" in {a.kind for a in alerts}


def test_gap_in_data_is_not_inactivity():
    rng = np.random.default_rng(4)
    hist = _history(rng)
    today = _day(rng)
    today[16:40] = np.nan
    assert detect_day(hist, today) == []


def test_too_little_history_gives_nothing():
    rng = np.random.default_rng(5)
    assert detect_day(_history(rng, days=10), _day(rng, flat_from=0)) == []


# ---- through the store -------------------------------------------------------------------

def _load(con, hid, days: list[np.ndarray], start: date):
    import polars as pl

    rows = []
    for i, x in enumerate(days):
        d = start + timedelta(days=i)
        for s, v in enumerate(x):
            ts = datetime(d.year, d.month, d.day) + timedelta(minutes=30 * s)
            rows.append((hid, ts - timedelta(hours=9), ts, d, s, float(v), 1))
    df = pl.DataFrame(rows, schema=["household_id", "ts_utc", "local_ts", "local_date", "slot", "kwh", "file_id"],
                      orient="row")
    con.register("_r", df.to_arrow())
    con.execute("INSERT INTO readings SELECT * FROM _r")
    con.unregister("_r")
    con.execute("INSERT INTO households VALUES (?, ?, 1940, true, DATE '2024-01-01', NULL, false, false, 'd', now())",
                [hid, f"P-{hid}"])


def test_store_alerts_idempotent_and_absence_suppresses(con, tmp_path):
    from meterrisk.alerts.service import load_absences, run_alerts

    rng = np.random.default_rng(6)
    start = date(2025, 6, 1)
    day = start + timedelta(days=28)
    for hid in ("a", "b"):
        _load(con, hid, [*_history(rng), _day(rng, flat_from=20)], start)
    s = run_alerts(con, day)
    assert s["households_checked"] == 2 and s["alerts"] >= 2
    n = con.execute("SELECT count(*) FROM alerts").fetchall()[0][0]
    run_alerts(con, day)
    assert con.execute("SELECT count(*) FROM alerts").fetchall()[0][0] == n
    ev = con.execute("SELECT evidence->>'usual_wake', detected_at FROM alerts WHERE household_id = 'a' "
                     "ORDER BY detected_at LIMIT 1").fetchall()[0]
    assert ev[1].date() == day
    csv = tmp_path / "absences.csv"
    csv.write_text(f"household_id,start_date,end_date,note\nb,{day},{day + timedelta(days=3)},hospital\n")
    assert load_absences(con, csv) == 1
    s = run_alerts(con, day)
    assert s["suppressed_by_absence"] == 1
    assert {r[0] for r in con.execute("SELECT household_id FROM alerts").fetchall()} == {"a"}


def test_absence_file_errors_are_clear(con, tmp_path):
    from meterrisk.alerts.service import load_absences
    from meterrisk.errors import MeterriskError

    bad = tmp_path / "a.csv"
    bad.write_text("household_id,start_date,end_date\nx,2025-06-05,2025-06-01\n")
    with pytest.raises(MeterriskError, match="reversed"):
        load_absences(con, bad)
