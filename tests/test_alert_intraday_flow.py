"""The intraday alerts flow every 30 minutes: scheduled, end to end under a Prefect API, idempotent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from pipelines_conftest import cwd, prefect_harness  # noqa: F401  (fixture)
from test_alerts import _day, _history, _load


def test_intraday_deployment_runs_every_30_minutes_in_local_time():
    from pipelines.deployments import INTRADAY_CRON, deployments

    deps = {d.name: d for d in deployments("Asia/Tokyo")}
    (sched,) = deps["alerts-intraday"].schedules
    assert sched.schedule.cron == INTRADAY_CRON == "*/30 * * * *" and sched.schedule.timezone == "Asia/Tokyo"
    # prefect.yaml (work pools) declares the same; read as text: PyYAML is only Prefect's dependency
    text = (Path(__file__).parents[1] / "prefect.yaml").read_text()
    block = text.split("- name: alerts-intraday", 1)[1].split("- name:", 1)[0]
    assert "entrypoint: pipelines.alerts:alerts_intraday_flow" in block
    assert f'cron: "{INTRADAY_CRON}"' in block and "concurrency_limit: 1" in block


def test_intraday_flow_raises_a_collapse_once(tmp_path, prefect_harness):  # noqa: F811
    from meterrisk import store
    from pipelines.alerts import alerts_intraday_flow

    start = date(2025, 6, 1)
    day = start + timedelta(days=28)
    db = tmp_path / "data" / "meterrisk.duckdb"
    db.parent.mkdir()
    con = store.connect(db)
    rng = np.random.default_rng(6)
    _load(con, "a", [*_history(rng), _day(rng, flat_from=20)], start)
    con.close()
    with cwd(tmp_path):
        early = alerts_intraday_flow(db=db, at=datetime(day.year, day.month, day.day, 9, 0))
        late = alerts_intraday_flow(db=db, at=datetime(day.year, day.month, day.day, 18, 0))
        again = alerts_intraday_flow(db=db, at=datetime(day.year, day.month, day.day, 18, 0))
    assert early["judged_until"] == "08:30" and early["new_episodes"] == []
    assert late["judged_until"] == "17:30"
    assert {e["kind"] for e in late["new_episodes"]} & {"long_inactive_run", "no_activity_after_usual_wake"}
    assert again["new_episodes"] == []
    con = store.read_only(db)
    try:
        n = con.execute("SELECT count(*) FROM alert_episodes WHERE status = 'open'").fetchall()[0][0]
    finally:
        con.close()
    assert n == len(late["new_episodes"])
