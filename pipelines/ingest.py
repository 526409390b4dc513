"""Ingest flow: every file in the inbox, one task per file, then archived.

A file is moved out of the inbox only after its transaction committed (or it was already
in the store), so a crash between the two is healed by the next run: the file is seen
again, recognised by its SHA-256 as already ingested, and archived.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task

from meterrisk import ingest, store
from meterrisk.consent.files_side import forget_outside_store
from pipelines.artifacts import ingest_summary
from pipelines.retries import retry_on_transient_io
from pipelines.workspace import Workspace, marks_run


@task(name="load-registry", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=retry_on_transient_io)
def load_registry(db: Path, registry: Path) -> dict:
    con = store.connect(db)
    try:
        r = ingest.load_registry(con, registry)
        forget_outside_store(con, db, r.withdrawn)
    finally:
        con.close()
    return {"households": r.households, "inserted": r.inserted, "updated": r.updated, "purged": r.readings_purged}


@task(name="ingest-file", retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=retry_on_transient_io)
def ingest_one(db: Path, path: Path, profile: str, archive: Path, failed: Path) -> dict:
    """Load one file and move it out of the inbox; returns the file's accounting."""
    if not path.exists():  # taken away since the inbox was listed: nothing to load or move
        return {"file": path.name, "status": "vanished", "rows_read": 0, "rows_loaded": 0,
                "rows_quarantined": 0, "rows_duplicate": 0, "rows_rejected_consent": 0,
                "message": "the file left the inbox before it was ingested"}
    con = store.connect(db)
    try:
        result = ingest.ingest_file(con, path, ingest.load_profile(profile))
    finally:
        con.close()
    target_dir = failed if result.status == "failed" else archive / datetime.now(timezone.utc).strftime("%Y-%m-%d")
    target_dir.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), target_dir / path.name)
    return {"file": path.name, "status": result.status, "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded, "rows_quarantined": result.rows_quarantined,
            "rows_duplicate": result.rows_duplicate, "rows_rejected_consent": result.rows_rejected_consent,
            "message": result.message}



@flow(name="ingest", log_prints=False)
@marks_run
def ingest_flow(db: Path | None = None, inbox: Path | None = None, profile: str = "default",
                registry: Path | None = None) -> list[dict]:
    """Ingest every reading file in the inbox (optionally loading a registry first)."""
    ws = Workspace.default(db)
    inbox = Path(inbox) if inbox else ws.inbox
    ws.ensure()
    ingest.load_profile(profile)  # a bad profile fails the run before any file moves
    logger = get_run_logger()
    if registry is not None:
        info = load_registry(ws.db, Path(registry))
        logger.warning("registry: %s households", info["households"])
    files = _pending(inbox)
    results = [ingest_one(ws.db, path, profile, ws.archive, inbox / "failed") for path in files]
    ingest_summary(results)
    return results


def _pending(inbox: Path) -> list[Path]:
    files = []
    for p in sorted(inbox.rglob("*")):
        if p.is_file() and "failed" not in p.relative_to(inbox).parts[:-1] \
                and p.name.lower().endswith((".csv", ".csv.gz", ".parquet", ".gz", ".tsv", ".txt")):
            files.append(p)
    return files
