"""The daily job: ingest new files, update features, raise inactivity alerts, publish."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from meterrisk.errors import MeterriskError
from meterrisk.progress import stage
from pipelines.alerts import alerts_flow
from pipelines.artifacts import markdown
from pipelines.consent import forget_due_withdrawals
from pipelines.features import features_flow
from pipelines.ingest import ingest_flow
from pipelines.snapshot import publish_snapshot
from pipelines.workspace import Workspace, marks_run


class DeliveryFailed(MeterriskError):
    """Some inbox files could not be read. The rest of the daily job ran; ``result`` is what
    it returned, so the command line can still report it."""

    exit_code = 1

    def __init__(self, result: dict):
        failed = [f for f in result["files"] if f["status"] == "failed"]
        detail = "; ".join(f"{f['file']}: {f['message']}" for f in failed[:5])
        if len(failed) > 5:
            detail += f"; and {len(failed) - 5} more (see the ingest-summary artifact)"
        super().__init__(f"{len(failed)} of {len(result['files'])} files failed to load ({detail})",
                         hint="they are in the inbox's failed/ folder: fix them and drop them into the inbox again")
        self.result = result


def summary(result: dict) -> str:
    """Readable lines, one per stage: files by status, readings, features, alerts, snapshot."""
    files = result["files"]
    statuses: dict[str, int] = {}
    for f in files:
        statuses[f["status"]] = statuses.get(f["status"], 0) + 1
    by_status = f" ({', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))})" if files else ""
    feats, alerts = result["features"], result["alerts"] or {}
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(alerts.get("by_kind", {}).items()))
    lines = [f"withdrawals: {result['withdrawn']} took effect"] if result.get("withdrawn") else []
    lines += [
        f"ingest:      {len(files)} files{by_status}: {sum(f['rows_loaded'] for f in files)} readings loaded, "
        f"{sum(f['rows_quarantined'] for f in files)} quarantined",
        # compute() reports days_recomputed (not "days"): the old artifact printed "n/a days"
        f"features:    as of {feats.get('as_of') or 'n/a'}: {feats.get('households_updated', 0)} households updated, "
        f"{feats.get('days_recomputed', 0)} days recomputed, {feats.get('windows_computed', 0)} windows",
        f"alerts:      for {alerts.get('date') or 'n/a'}: {alerts.get('households_checked', 0)} households checked, "
        f"{alerts.get('alerts', 0)} alerts{f' ({kinds})' if kinds else ''}",
        f"snapshot:    {result['snapshot']}",
    ]
    return "\n".join(lines)


@flow(name="daily")
@marks_run
def daily_flow(db: Path | None = None, inbox: Path | None = None, profile: str = "default") -> dict:
    """Due withdrawals -> ingest -> features -> alerts -> snapshot. A rerun with an empty inbox
    changes nothing.

    A file that cannot be read does not stop the rest of the job (the other files' alerts
    matter today), but the run ends Failed naming it (:class:`DeliveryFailed`)."""
    ws = Workspace.default(db).ensure()
    withdrawn = forget_due_withdrawals(ws.db)
    stage(1, 4, "ingesting the inbox")
    files = ingest_flow(db=ws.db, inbox=inbox, profile=profile)
    stage(2, 4, "updating features")
    feats = features_flow(db=ws.db)
    stage(3, 4, "checking for inactivity alerts")
    alerts = alerts_flow(db=ws.db)
    stage(4, 4, "publishing the analysts' snapshot")
    snap = publish_snapshot(ws.db)
    result = {"withdrawn": withdrawn, "files": files, "features": feats, "alerts": alerts, "snapshot": snap}
    markdown("daily-summary", "# Daily run\n\n" + "\n".join(f"- {line}" for line in summary(result).splitlines()),
             "Daily run summary")
    if any(f["status"] == "failed" for f in files):
        raise DeliveryFailed(result)
    return result
