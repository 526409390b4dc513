"""Intraday alerts (issue 13): a run at time t raises exactly what the whole-day batch fires at
the half hours it has seen, never earlier than the evidence, and a rerun adds nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from test_alerts import _day, _history, _load

from meterrisk.alerts.detector import DetectorParams, detect_day


def _key(a):
    return (a.kind, a.slot, a.severity, a.message, tuple(sorted(a.evidence.items())))


def _scenarios(rng):
    """Days that raise each rule: still from 10:00, never up, stuck on, outage, gap, normal."""
    zero = _day(rng)
    zero[26:] = 0.0                                   # meter reads 0 from 13:00
    repeat = _day(rng)
    repeat[18:] = 0.123                               # one value to the last digit from 09:00
    gap = _day(rng)
    gap[30:44] = np.nan
    evening = _day(rng)
    evening[36:] = 0.03
    return {"flat10": _day(rng, flat_from=20), "never_up": _day(rng, flat_from=0),
            "stuck": _day(rng, stuck_from=20), "zero": zero, "repeat": repeat, "gap": gap,
            "evening": evening, "normal": _day(rng)}


RULE_SETS = {"standard": DetectorParams(), "clock-time": DetectorParams.clock_time(),
             "daily-mass": DetectorParams(mass_night=False), "night-mass": DetectorParams(mass_night=True)}


@pytest.mark.parametrize("rules", list(RULE_SETS))
@pytest.mark.parametrize("seed", [0, 1])
def test_replaying_every_half_hour_gives_the_batch_alerts_at_the_same_half_hours(rules, seed):
    p = RULE_SETS[rules]
    rng = np.random.default_rng(seed)
    hist = _history(rng, days=30)
    hist[-1, 38:] = 0.03 + rng.uniform(0, 0.01, 10)   # yesterday still from 19:00: spells across midnight
    fired_any = set()
    for name, today in _scenarios(rng).items():
        batch = detect_day(hist, today, p)
        fired_any |= {a.kind for a in batch}
        for upto in range(48):
            seen = detect_day(hist, today, p, upto=upto)
            assert [_key(a) for a in seen] == [_key(a) for a in batch if a.slot <= upto], (name, upto)
            # and nothing it sees depends on half hours it has not seen
            later = today.copy()
            later[upto + 1:] = rng.uniform(0, 2, 47 - upto)
            assert [_key(a) for a in detect_day(hist, later, p, upto=upto)] == [_key(a) for a in seen], (name, upto)
        for a in batch:   # never an alert earlier than its evidence
            assert a.evidence.get("since_slot", -99) <= a.slot
            if name in ("flat10", "stuck") and a.severity != "data":
                assert a.slot > 20
    assert {"long_inactive_run", "no_activity_after_usual_wake", "stuck_on", "meter_outage", "no_data"} <= fired_any \
        or rules != "standard"


# ---- through the store --------------------------------------------------------------------

def _town(con, rng, start):
    """Two households: 'a' still from 10:00 on the last day, 'b' ordinary."""
    _load(con, "a", [*_history(rng), _day(rng, flat_from=20)], start)
    _load(con, "b", [*_history(rng), _day(rng)], start)


def _alert_rows(con):
    return con.execute("SELECT household_id, local_date, kind, detected_at, severity, message, evidence::VARCHAR "
                       "FROM alerts ORDER BY ALL").fetchall()


def test_intraday_runs_every_half_hour_store_what_the_batch_stores(con, db_path, tmp_path):
    from meterrisk import store
    from meterrisk.alerts.service import run_alerts, run_intraday

    start = date(2025, 6, 1)
    day = start + timedelta(days=28)
    _town(con, np.random.default_rng(6), start)
    other = store.connect(tmp_path / "batch.duckdb")
    try:
        _town(other, np.random.default_rng(6), start)
        run_alerts(other, day)
        batch = _alert_rows(other)
    finally:
        other.close()
    assert batch, "the collapse day should alert"
    raised = {}
    for k in range(49):                               # 00:00 .. 24:00 (the next day's first run)
        at = datetime(day.year, day.month, day.day) + timedelta(minutes=30 * k)
        if at.date() > day:
            break
        s = run_intraday(con, at)
        for e in s["new_episodes"]:
            raised[(e["household_id"], e["kind"])] = at
        # the run at `at` has only seen half hours ending by at - 30 min
        for hid, kind, detected in con.execute("SELECT household_id, kind, detected_at FROM alerts").fetchall():
            assert detected <= at - timedelta(minutes=30)
    assert _alert_rows(con) == batch
    for hid, _, kind, detected, *_ in batch:          # raised by the run 30 min after the half hour
        assert raised[(hid, kind)] == detected + timedelta(minutes=30)
    before = _alert_rows(con)
    again = run_intraday(con, datetime(day.year, day.month, day.day, 23, 30))
    assert again["new_episodes"] == [] and _alert_rows(con) == before
    assert con.execute("SELECT count(*) FROM alert_episodes").fetchall()[0][0] == len(batch)


def test_intraday_before_any_reading_of_today_judges_nothing(con):
    from meterrisk.alerts.service import run_intraday

    start = date(2025, 6, 1)
    _town(con, np.random.default_rng(7), start)
    day = start + timedelta(days=28)
    s = run_intraday(con, datetime(day.year, day.month, day.day, 0, 20))   # 00:00-00:30 not in yet
    assert s["judged_until"] is None and s["new_episodes"] == []
    s = run_intraday(con, datetime(day.year, day.month, day.day, 1, 0))
    assert s["judged_until"] == "00:30"


def test_consecutive_days_are_one_episode_and_only_new_episodes_are_printed(con, db_path):
    from click.testing import CliRunner

    from meterrisk.cli import main

    rng = np.random.default_rng(8)
    start = date(2025, 6, 1)
    days = [*_history(rng), _day(rng, flat_from=0), _day(rng, flat_from=0), _day(rng, flat_from=0), _day(rng)]
    _load(con, "a", days, start)
    con.close()
    first = start + timedelta(days=28)
    r = CliRunner().invoke(main, ["alerts", "--db", str(db_path), "--from", str(first),
                                  "--to", str(first + timedelta(days=3))])
    assert r.exit_code == 0, r.output
    printed = [line for line in r.output.splitlines() if line.startswith("  ")]
    assert len(printed) == len({line.split()[4] for line in printed})          # one line per kind
    assert all(str(first) in line for line in printed), r.output               # each on its first day
    from meterrisk import store

    c = store.connect(db_path, create=False)
    try:
        eps = c.execute("SELECT kind, start_date, days, status FROM alert_episodes ORDER BY kind").fetchall()
        assert ("no_activity_after_usual_wake", first, 3, "closed") in eps
        assert c.execute("SELECT count(*) FROM alerts WHERE kind = 'no_activity_after_usual_wake'").fetchall()[0][0] == 3
    finally:
        c.close()
    r = CliRunner().invoke(main, ["alerts", "--db", str(db_path), "--at", f"{first + timedelta(days=3)} 12:00"])
    assert r.exit_code == 0 and "new episodes" in r.output, r.output
    r = CliRunner().invoke(main, ["alerts", "--db", str(db_path), "--now", "--date", str(first)])
    assert r.exit_code != 0 and "without --date" in r.output
