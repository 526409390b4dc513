"""Alerts flow: same-day inactivity alerts for the last local day most households covered."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, task

from meterrisk import store
from pipelines.artifacts import markdown
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


@flow(name="alerts")
@marks_run
def alerts_flow(db: Path | None = None, day: date | None = None) -> dict:
    """Detect inactivity alerts for ``day`` (default: the last local day most households covered)."""
    ws = Workspace.default(db).ensure()
    result = detect_alerts(ws.db, day)
    markdown("alerts-summary", "# Inactivity alerts\n\n" + "\n".join(f"- {k}: {v}" for k, v in result.items()),
             "Alerts raised today")
    return result
