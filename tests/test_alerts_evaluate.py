"""The alert evaluation runs end to end on a tiny synthetic cohort and on two London homes."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from conftest import REAL_LCL

from meterrisk.alerts.detector import DetectorParams


def test_evaluate_synthetic_reports_rates(tmp_path):
    from meterrisk.alerts.evaluate import evaluate_synthetic
    from meterrisk.synth import generate

    generate(tmp_path / "c", households=6, days=100, start=date(2025, 4, 1), seed=3)
    r = evaluate_synthetic(tmp_path / "c")
    assert 0 < r["household_days"] <= 6 * (100 - DetectorParams().history_days)  # full history only
    assert r["false_episodes_per_100_household_days"] == pytest.approx(100 * r["false_episodes"] / r["household_days"])
    assert r["false_episodes"] <= r["false_alert_days"]       # an episode is one or more consecutive alert-days
    assert r["collapses"] == 0 or 0 <= r["within_4h_share"] <= r["within_12h_share"] <= r["detected_share"] <= 1
    assert set(r["false_alert_day_kinds"]) <= {"no_activity_after_usual_wake", "long_inactive_run", "stuck_on"}
    from meterrisk.alerts.evaluate import same_span_still_days

    b = same_span_still_days(tmp_path / "c", hours=4)
    assert 0 <= b["with_a_still_ordinary_day"] <= b["collapses"]


@pytest.mark.realdata
@pytest.mark.skipif(not (REAL_LCL / "halfhourly").exists(), reason="real London files not present")
def test_evaluate_lcl_on_two_homes():
    from meterrisk.alerts.evaluate import evaluate_lcl

    r = evaluate_lcl(REAL_LCL / "halfhourly", limit=2)
    assert r["households"] == 2 and r["household_days"] > 500
    assert not math.isnan(r["false_episodes_per_100_household_days"])


def test_an_alert_is_raised_by_the_first_run_after_its_readings_arrive():
    from meterrisk.alerts.evaluate import raised_at

    # half hour 21 ends at 11:00; its reading arrives at 11:30: the 11:30 run raises it
    assert raised_at(date(2025, 6, 1), 21) == datetime(2025, 6, 1, 11, 30)
    assert raised_at(date(2025, 6, 1), 21, latency_min=10) == datetime(2025, 6, 1, 11, 30)
    assert raised_at(date(2025, 6, 1), 21, latency_min=0) == datetime(2025, 6, 1, 11, 0)
    assert raised_at(date(2025, 6, 1), 47) == datetime(2025, 6, 2, 0, 30)   # the next day's first run
    assert raised_at(date(2025, 6, 1), 21, latency_min=45, every_min=60) == datetime(2025, 6, 1, 12, 0)


def test_consecutive_days_of_one_kind_are_one_episode():
    from meterrisk.alerts.episodes import group_episodes, is_open

    d = date(2025, 6, 1)
    rows = [("a", d, "x", 1), ("a", date(2025, 6, 2), "x", 2), ("a", date(2025, 6, 3), "x", 3),
            ("a", date(2025, 6, 5), "x", 5), ("a", date(2025, 6, 2), "y", 9), ("b", d, "x", 7)]
    eps = group_episodes(rows)
    assert [(e.household_id, e.kind, e.start_date.day, e.days, e.first, e.last) for e in eps] == [
        ("a", "x", 1, 3, 1, 3), ("a", "x", 5, 1, 5, 5), ("a", "y", 2, 1, 9, 9), ("b", "x", 1, 1, 7, 7)]
    assert not is_open(eps[0], date(2025, 6, 4)) and is_open(eps[1], date(2025, 6, 4))
    assert is_open(eps[1], date(2025, 6, 5)) and not is_open(eps[1], date(2025, 6, 6))
