"""The daily job: ingest new files, update features, raise inactivity alerts, publish."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from pipelines.alerts import alerts_flow
from pipelines.artifacts import markdown
from pipelines.features import features_flow
from pipelines.ingest import ingest_flow
from pipelines.snapshot import publish_snapshot
from pipelines.workspace import Workspace, marks_run


@flow(name="daily")
@marks_run
def daily_flow(db: Path | None = None, inbox: Path | None = None, profile: str = "default") -> dict:
    """Ingest -> features -> alerts -> snapshot. A rerun with an empty inbox changes nothing."""
    ws = Workspace.default(db).ensure()
    files = ingest_flow(db=ws.db, inbox=inbox, profile=profile)
    feats = features_flow(db=ws.db)
    alerts = alerts_flow(db=ws.db)
    snap = publish_snapshot(ws.db)
    loaded = sum(f["rows_loaded"] for f in files)
    quarantined = sum(f["rows_quarantined"] for f in files)
    markdown("daily-summary",
             f"# Daily run\n\n- files: {len(files)} ({loaded} readings loaded, {quarantined} quarantined)\n"
             f"- features: {feats.get('days_computed', 'n/a')} days, {feats.get('windows_computed', 'n/a')} windows\n"
             f"- alerts raised: {alerts.get('alerts', 0)}\n- snapshot: `{snap}`", "Daily run summary")
    return {"files": files, "features": feats, "alerts": alerts, "snapshot": snap}
