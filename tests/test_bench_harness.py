"""The whole-path benchmark's harness works end to end (``--quick``): a smoke test of the
harness, not of speed (speed lives in benchmarks/results/, never in a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_run_writes_every_stage_to_json_and_markdown(tmp_path):
    from benchmarks.bench_whole_path import END_TO_END, REFS, STAGES

    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_whole_path.py"), "--quick",
                          "--out-dir", str(tmp_path / "results"), "--work", str(tmp_path / "work")],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    doc = json.loads((tmp_path / "results" / "whole_path_quick.json").read_text())
    assert doc["failed"] == [] and len(doc["results"]) == 1
    result = doc["results"][0]
    assert list(result["stages"]) == STAGES
    assert set(result["references"]) == set(REFS) and all(r["wall_s"] > 0 for r in result["references"].values())
    assert result["readings"] > 0 and result["new_day_readings"] > 0
    for name, stage in result["stages"].items():
        assert stage["wall_s"] > 0 and stage["peak_rss_gib"] > 0, name
        assert stage["x_ref_sum"] > 0 and stage["x_ref_daily"] > 0, name
    assert result["derived"]["end_to_end"]["stages"] == END_TO_END
    assert {"daily_new_day_met", "end_to_end_under_5_min"} <= set(result["targets"])
    # the stages did their work: windows and a risk list came out, the new day was loaded
    assert result["stages"]["window_features"]["detail"]["windows_computed"] > 0
    markdown = (tmp_path / "results" / "whole_path_quick.md").read_text()
    for name in [*STAGES, "end_to_end", "full_recompute"]:
        assert f"| {name} |" in markdown or f"| **{name}** |" in markdown, name
    assert not list((tmp_path / "work").glob("*/store.duckdb"))  # scratch removed without --keep
