"""The alert evaluation runs end to end on a tiny synthetic cohort and on two London homes."""

from __future__ import annotations

import math
from datetime import date

import pytest

from conftest import REAL_LCL

from meterrisk.alerts.detector import DetectorParams


def test_evaluate_synthetic_reports_rates(tmp_path):
    from meterrisk.alerts.evaluate import evaluate_synthetic
    from meterrisk.synth import generate

    generate(tmp_path / "c", households=6, days=100, start=date(2025, 4, 1), seed=3)
    r = evaluate_synthetic(tmp_path / "c")
    assert 0 < r["household_days"] <= 6 * (100 - DetectorParams().history_days)  # full history only
    assert r["false_alerts_per_100_household_days"] == pytest.approx(100 * r["false_alerts"] / r["household_days"])
    assert r["collapses"] == 0 or 0 <= r["detected_share"] <= 1
    assert set(r["false_alert_kinds"]) <= {"no_activity_after_usual_wake", "long_inactive_run", "stuck_on"}


@pytest.mark.realdata
@pytest.mark.skipif(not (REAL_LCL / "halfhourly").exists(), reason="real London files not present")
def test_evaluate_lcl_on_two_homes():
    from meterrisk.alerts.evaluate import evaluate_lcl

    r = evaluate_lcl(REAL_LCL / "halfhourly", limit=2)
    assert r["households"] == 2 and r["household_days"] > 500
    assert not math.isnan(r["alerts_per_100_household_days"])
