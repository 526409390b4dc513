"""Summaries are lines a person reads, never Python dict reprs (issue 14)."""

from __future__ import annotations

from meterrisk.cli.flows import scored_line
from pipelines.artifacts import fields
from pipelines.daily import summary


def test_demo_scored_line_reads_as_counts():
    score = {"as_of": "2026-02-09", "model_version": "m", "promoted": True, "capacity": 0.1, "scored": 372,
             "high": 37, "medium": 37, "new_concern": 11, "concern_capacity": 0.03,
             "not_scored": {"not living alone": 130, "rooftop solar": 20}}
    assert scored_line(score) == ("372 residents as of 2026-02-09: 37 high, 37 medium, 298 low; 11 on the "
                                  "new-concern list (experimental); not scored: 130 not living alone, 20 rooftop solar")


def test_artifact_fields_have_no_dict_reprs():
    text = fields({"households_updated": 3, "by_kind": {"stuck_on": 1, "long_inactive_run": 2}, "as_of": None})
    assert text == "- households updated: 3\n- by kind: 2 long_inactive_run, 1 stuck_on\n- as of: n/a"


def test_daily_summary_names_recomputed_days_not_n_a():
    result = {"files": [{"status": "loaded", "rows_loaded": 96, "rows_quarantined": 0}],
              "features": {"as_of": "2025-05-01", "households_updated": 2, "days_recomputed": 4, "windows_computed": 2},
              "alerts": {"date": "2025-05-01", "households_checked": 2, "alerts": 0, "by_kind": {}},
              "snapshot": "s.duckdb", "withdrawn": 0}
    text = summary(result)
    assert "4 days recomputed" in text and "n/a" not in text and "{" not in text
