"""The work-pool path for real: `prefect server start`, a process pool and worker, `prefect
deploy` from prefect.yaml, `prefect deployment run` (pipelines/check_deployments.py).

About a minute for the daily deployment alone on a busy 2-core machine (the server's start and
the worker's flow-run process dominate), and it starts servers and workers: opt-in with
METERRISK_CHECK_DEPLOYMENTS=1. ``python -m pipelines.check_deployments`` runs the fuller check
(daily, train, monthly-risk-list).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("METERRISK_CHECK_DEPLOYMENTS") != "1",
                    reason="starts a Prefect server and worker (~1 min): set METERRISK_CHECK_DEPLOYMENTS=1")
def test_the_daily_deployment_runs_on_a_worker_and_leaves_its_results(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "pipelines.check_deployments", "--deployments", "daily",
                           "--keep", str(tmp_path / "check"), "--timeout", "300"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok  daily:" in proc.stdout and "ok  schedules" in proc.stdout


def test_the_check_refuses_a_deployment_prefect_yaml_does_not_have(capsys):
    from pipelines.check_deployments import main

    assert main(["--deployments", "daily,nightly"]) == 2
    err = capsys.readouterr().err
    assert "error: no deployment ['nightly'] in prefect.yaml" in err and "hint: --deployments takes some of daily," in err
