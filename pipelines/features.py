"""Features flow: bring daily and window features up to date (incremental)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, task

from meterrisk import features, store
from pipelines.artifacts import fields, markdown
from pipelines.retries import retry_on_transient_io
from pipelines.workspace import Workspace, marks_run


@task(name="compute-features", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def compute_features(db: Path, as_of: date | None = None, full: bool = False) -> dict:
    con = store.connect(db, create=False)
    try:
        summary = features.compute(con, as_of=as_of, full=full)
    finally:
        con.close()
    return {k: (str(v) if isinstance(v, date) else v) for k, v in summary.items()}


@flow(name="features")
@marks_run
def features_flow(db: Path | None = None, as_of: date | None = None, full: bool = False) -> dict:
    """Recompute what new readings changed: affected days and the windows that depend on them."""
    ws = Workspace.default(db).ensure()
    summary = compute_features(ws.db, as_of, full)
    markdown("features-summary", "# Features\n\n" + fields(summary),
             "Daily and window features computed")
    return summary
