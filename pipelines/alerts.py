"""Alerts flows: the day's batch (the last local day most households covered) and the
intraday run every 30 minutes (today's readings received so far)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from prefect import flow, task

from meterrisk import store
from pipelines.artifacts import fields, markdown
from pipelines.retries import retry_on_transient_io
from pipelines.workspace import Workspace, marks_run


@task(name="detect-alerts", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def detect_alerts(db: Path, day: date | None) -> dict:
    from meterrisk.alerts.service import latest_date, run_alerts

    con = store.connect(db, create=False)
    try:
        return run_alerts(con, day or latest_date(con))
    finally:
        con.close()


@task(name="detect-alerts-intraday", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def detect_alerts_intraday(db: Path, at: datetime | None, latency_min: int) -> dict:
    from meterrisk.alerts.service import now_local, run_intraday

    con = store.connect(db, create=False)
    try:
        return run_intraday(con, at or now_local(con), latency_min=latency_min)
    finally:
        con.close()


@task(name="alert-hook")
def deliver_new_episodes(db: Path, result: dict, hook: str | None) -> str:
    """Hand the run's new episodes to the delivery hook (meterrisk.alerts.hook); never fails the run."""
    from meterrisk.alerts.hook import run_hook

    con = store.read_only(db)
    try:
        return run_hook(con, result.get("new_episodes", []), hook)
    finally:
        con.close()


def _episodes_md(result: dict) -> str:
    new = result.get("new_episodes", [])
    lines = [f"- {e['started_at']:%Y-%m-%d %H:%M} {e['severity']} {e['kind']}" for e in new]
    return f"{len(new)} new episodes\n\n" + "\n".join(lines)


@flow(name="alerts")
@marks_run
def alerts_flow(db: Path | None = None, day: date | None = None, hook: str | None = None) -> dict:
    """Detect inactivity alerts for ``day`` (default: the last local day most households covered)."""
    ws = Workspace.default(db).ensure()
    result = detect_alerts(ws.db, day)
    result["hook"] = deliver_new_episodes(ws.db, result, hook)
    markdown("alerts-summary", "# Inactivity alerts\n\n" + fields(result, skip=("new_episodes",)) + "\n\n" + _episodes_md(result),
        "Alerts raised today")
    return result


@flow(name="alerts-intraday")
@marks_run
def alerts_intraday_flow(db: Path | None = None, at: datetime | None = None, latency_min: int = 30,
                         hook: str | None = None) -> dict:
    """Judge today's readings received so far (``at``: local wall-clock time, default now).
    Scheduled every 30 minutes; a rerun at the same time adds nothing."""
    ws = Workspace.default(db).ensure()
    result = detect_alerts_intraday(ws.db, at, latency_min)
    result["hook"] = deliver_new_episodes(ws.db, result, hook)
    markdown("alerts-intraday-summary", f"# Intraday alerts at {result.get('at')}\n\n"
             f"- judged until: {result.get('judged_until')}\n- households checked: {result.get('households_checked')}\n\n"
             + _episodes_md(result), "Intraday alerts")
    return result
