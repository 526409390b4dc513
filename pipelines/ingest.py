"""Ingest flow: every file in the inbox, one task per file, then archived.

A file is moved out of the inbox only after its transaction committed (or it was already
in the store), so a crash between the two is healed by the next run: the file is seen
again, recognised by its SHA-256 as already ingested, and archived.

The archive keeps each file's path relative to the inbox (``archive/<date>/<household>/201706.csv``)
and never overwrites: a different file delivered under the same path is kept beside the first
with its hash in the name. ``ingest_files.archived_as`` records where each delivery's bytes are.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task

from meterrisk import ingest, store
from meterrisk.consent.files_side import finish_withdrawals, forget_outside_store
from meterrisk.files import archive_record, archived_path, keep_target, move_without_overwrite, sha256_of
from pipelines.artifacts import ingest_summary
from pipelines.retries import retry_on_transient_io
from pipelines.workspace import Workspace, marks_run


@task(name="load-registry", retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=retry_on_transient_io)
def load_registry(db: Path, registry: Path) -> dict:
    con = store.connect(db)
    try:
        r = ingest.load_registry(con, registry)
        if forget_outside_store(con, db, r.withdrawn):
            finish_withdrawals(con, db)
    finally:
        con.close()
    return {"households": r.households, "inserted": r.inserted, "updated": r.updated, "purged": r.readings_purged}


@task(name="ingest-file", retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=retry_on_transient_io)
def ingest_one(db: Path, path: Path, profile: str, archive: Path, failed: Path,
               delivery_path: str | None = None, replace: bool = False) -> dict:
    """Load one file and move it out of the inbox; returns the file's accounting.

    ``delivery_path`` is the file's path relative to the inbox (default: its name); with
    ``replace`` it replaces what earlier versions of that delivery loaded."""
    delivery_path = delivery_path or path.name
    counts = {"rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "rows_duplicate": 0,
              "rows_rejected_consent": 0}
    if not path.exists():  # taken away since the inbox was listed: nothing to load or move
        return {"file": delivery_path, "file_id": None, "status": "vanished", **counts, "archived_as": None,
                "message": "the file left the inbox before it was ingested"}
    con = store.connect(db, create=False)
    try:
        result = ingest.ingest_file(con, path, ingest.load_profile(profile), delivery_path=delivery_path,
                                    replace=replace)
        archived_as, note = _keep(con, db, path, result, archive, failed) if result.file_id else (None, "")
    finally:
        con.close()
    return {"file": delivery_path, "file_id": result.file_id, "status": result.status,
            **{k: getattr(result, k) for k in counts}, "archived_as": archived_as, "message": result.message + note}


def _keep(con, db: Path, path: Path, result: ingest.FileResult, archive: Path, failed: Path) -> tuple[str | None, str]:
    """Move the delivered file to the archive (or ``failed``); return where its bytes are kept
    (``archived_as``: relative to the store's folder when inside it, so a data folder moved or
    copied as a whole still finds its archive)."""
    if sha256_of(path) != result.sha256:  # rewritten while it was read: a new delivery, for the next run
        return None, "; the file changed while it was read, so it stays in the inbox for the next run"
    if result.status == "already_ingested":
        (earlier,) = store.one(con, "SELECT archived_as FROM ingest_files WHERE file_id = ?", [result.file_id])
        if earlier and archived_path(db, earlier).is_file() and sha256_of(archived_path(db, earlier)) == result.sha256:
            path.unlink()  # the archive already holds exactly these bytes
            return earlier, ""
    root = failed if result.status == "failed" else archive / datetime.now(timezone.utc).strftime("%Y-%m-%d")
    target, already_there = keep_target(root, result.delivery_path, result.sha256)
    # Recorded before the move: a crash in between leaves the file in the inbox, and the next run
    # (already ingested, no copy at the recorded place) archives it and records it again.
    recorded = archive_record(db, target)
    con.execute("UPDATE ingest_files SET archived_as = ? WHERE file_id = ?", [recorded, result.file_id])
    if already_there:
        path.unlink()
    else:
        move_without_overwrite(path, target)
    return recorded, ""


@flow(name="ingest", log_prints=False)
@marks_run
def ingest_flow(db: Path | None = None, inbox: Path | None = None, profile: str = "default",
                registry: Path | None = None, replace: bool = False) -> list[dict]:
    """Ingest every reading file in the inbox (optionally loading a registry first).

    ``replace``: files are corrected re-deliveries; each replaces what earlier versions of the
    same delivery path loaded (as ``meterrisk ingest --replace``)."""
    ws = Workspace.default(db)
    inbox = Path(inbox) if inbox else ws.inbox
    ws.ensure(create_store=registry is not None)  # a registry may start a store, readings alone may not
    # A bad profile, or one for homes in another zone than the store's, fails the run before any file moves.
    checked = ingest.load_profile(profile)
    con = store.connect(ws.db, create=registry is not None)
    try:
        checked.check_store_zone(store.setting(con, "timezone"))
    finally:
        con.close()
    logger = get_run_logger()
    if registry is not None:
        info = load_registry(ws.db, Path(registry))
        logger.warning("registry: %s households", info["households"])
    failed = inbox / "failed"
    results = [ingest_one(ws.db, path, profile, ws.archive, failed, ingest.delivery_path_of(path, inbox), replace)
               for path in _pending(inbox, failed)]
    ingest_summary(results)
    return results


def _pending(inbox: Path, failed: Path) -> list[Path]:
    """Reading files in the inbox, except those in ``failed/`` (they wait for a person)."""
    files = []
    for p in sorted(inbox.rglob("*")):
        if p.is_file() and not p.is_relative_to(failed) \
                and p.name.lower().endswith((".csv", ".csv.gz", ".parquet", ".gz", ".tsv", ".txt")):
            files.append(p)
    return files
