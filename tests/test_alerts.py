"""Inactivity alerts on hand-built days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from meterrisk.alerts.detector import DetectorParams, detect_day
from meterrisk.ingest import days as day_rows


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


def test_a_spell_longer_than_four_weeks_but_not_twelve_is_no_alert():
    """Judged against 12 weeks: a still afternoon like one six weeks ago is this home's own
    pattern, not news; with a 4-week history the same day alerts."""
    rng = np.random.default_rng(5)
    hist = _history(rng, days=84)
    hist[40, 20:34] = 0.03 + rng.uniform(0, 0.01, 14)       # six weeks ago: still 10:00-17:00
    today = _day(rng)
    today[20:32] = 0.03 + rng.uniform(0, 0.01, 12)          # today: still 10:00-16:00
    assert detect_day(hist, today) == []
    alerts = detect_day(hist, today, DetectorParams(history_days=28))
    assert [a.kind for a in alerts] == ["long_inactive_run"]


def test_gap_in_data_is_not_inactivity():
    rng = np.random.default_rng(4)
    hist = _history(rng)
    today = _day(rng)
    today[16:40] = np.nan
    # a 12-h gap is a data-quality event (no_data, after 6 h without readings), never inactivity
    assert [(a.kind, a.severity, a.slot) for a in detect_day(hist, today)] == [("no_data", "data", 27)]


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
    # as every writer of readings does (meterrisk/ingest/days.py): alerts read the day rows
    day_rows.note_changed(con, "SELECT DISTINCT household_id, local_date FROM _r")
    day_rows.rebuild_changed(con)
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
    assert load_absences(con, csv).loaded == 1
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


# ---- clock-time still spells and flat lines (hand-built, known answers) -------------------

CLOCK = DetectorParams.clock_time()

def test_flat_line_well_above_floor_is_still_from_its_start_once_known():
    from meterrisk.alerts.detector import still_known

    p = DetectorParams.clock_time()
    x = np.array([0.1, 0.3, 0.2] + [0.5] * 8 + [0.02, 0.3])
    known = still_known(x, floor=0.05, p=p)
    # slots 3..10 are flat at 0.5: the first 3-h window (slots 3..8) ends at slot 8
    assert list(known[3:9]) == [8] * 6
    assert list(known[9:11]) == [9, 10]
    assert known[11] == 11                           # at the floor: still at once
    assert np.isinf(known[[0, 1, 2, 12]]).all()      # moving use is never still
    # a flat line just above the floor keeps the old rule: still only at each window's end
    low = np.array([0.1, 0.3, 0.2] + [0.08] * 8)
    k2 = still_known(low, floor=0.05, p=p)
    assert list(k2[3:8]) == [np.inf] * 5 and list(k2[8:]) == [8, 9, 10]


def test_usual_still_reach_by_clock_time():
    from meterrisk.alerts.detector import usual_still_reach

    p = DetectorParams(spell_tol_slots=0)
    day = np.tile([0.2, 0.4], 24)                # moving use while awake
    day[:14] = day[44:] = 0.01        # asleep 22:00-07:00
    day[20:24] = 0.01                 # out 10:00-12:00 every day
    hist = np.vstack([day] * 20)
    reach, surprise = usual_still_reach(hist, floor=0.05, p=p)
    assert reach[20] == 3                 # a spell at 10:00 lasted 3 half hours past 10:00
    assert reach[22] == 1
    assert np.isneginf(reach[30])         # never still at 15:00
    assert reach[44] == 14 + 3            # bedtime 22:00 -> up at 07:00 (slot 13 of the next day)
    assert surprise == 0                  # every day alike: nothing surprising


def _busy_day(rng, wake=14, bed=44):
    """Use that moves every half hour while awake (alternating low/high), standby at night."""
    x = 0.03 + rng.uniform(0, 0.01, 48)
    x[wake:bed] += np.tile([0.08, 0.25], 24)[: bed - wake] + rng.uniform(0, 0.03, bed - wake)
    return x


def test_still_evening_in_a_home_busy_every_evening_is_flagged_within_2_5_h():
    rng = np.random.default_rng(7)
    hist = np.vstack([_busy_day(rng, wake=14 + int(rng.integers(-1, 2))) for _ in range(28)])
    today = _busy_day(rng)
    today[38:] = 0.03 + rng.uniform(0, 0.01, 10)    # still from 19:00
    alerts = [a for a in detect_day(hist, today, CLOCK) if a.kind == "long_inactive_run"]
    assert alerts, "expected a long_inactive_run alert"
    delay_h = (alerts[0].slot + 1 - 38) / 2
    assert 0 < delay_h <= 2.5, delay_h
    assert alerts[0].evidence["since_slot"] == 38
    assert "never still around 19:00" in alerts[0].message
    # The standard rules judge expected activity missed, not clock time: no quicker here.
    standard = [a for a in detect_day(hist, today) if a.kind == "long_inactive_run"]
    assert not standard or standard[0].slot >= alerts[0].slot


def test_usual_outing_time_is_not_flagged_until_past_its_usual_end():
    rng = np.random.default_rng(8)
    days = []
    for i in range(28):
        x = _day(rng)
        if i % 2 == 0:                    # out 10:00-14:00 every other day
            x[20:28] = 0.03 + rng.uniform(0, 0.01, 8)
        days.append(x)
    hist = np.vstack(days)
    today = _day(rng)
    today[20:28] = 0.03 + rng.uniform(0, 0.01, 8)    # out again today, back at 14:00
    for rules in (DetectorParams(), CLOCK):
        assert [a.kind for a in detect_day(hist, today, rules)] == []
    gone = _day(rng, flat_from=20)                    # still from 10:00 and not back
    alerts = [a for a in detect_day(hist, gone, CLOCK) if a.kind == "long_inactive_run"]
    assert alerts and alerts[0].slot >= 28            # not before the usual return at 14:00


def test_load_left_on_after_a_fall_counts_as_still_from_the_fall():
    rng = np.random.default_rng(9)
    hist = _history(rng)
    today = _day(rng)
    today[36:] = 0.03 + 0.25 + rng.uniform(0, 0.005, 12)   # heater left on from 18:00, nothing else
    alerts = [a for a in detect_day(hist, today, CLOCK) if a.kind == "long_inactive_run"]
    assert alerts and alerts[0].evidence["since_slot"] == 36
    assert alerts[0].slot <= 36 + 7                           # within 4 h of the fall


def test_night_running_past_the_usual_wake_is_one_spell_from_last_evening():
    rng = np.random.default_rng(10)
    hist = np.vstack([_busy_day(rng, wake=14 + int(rng.integers(-1, 2))) for _ in range(28)])
    today = 0.03 + rng.uniform(0, 0.01, 48)          # nothing after going to bed at 22:00
    alerts = [a for a in detect_day(hist, today, CLOCK) if a.kind == "long_inactive_run"]
    assert alerts and alerts[0].evidence["since_slot"] == -4      # 22:00 yesterday
    assert "since 22:00 yesterday" in alerts[0].message
    assert 15 < alerts[0].slot <= 14 + 8                           # after the latest wake, within 4 h of the usual
