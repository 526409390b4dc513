"""Published snapshots: what analysts query while scheduled flows write.

DuckDB lets one process write a file and no other process open it meanwhile, so analysts
never read the live store. At the end of each flow run the writer checkpoints and copies
the store to ``<name>.snapshot.duckdb`` (temp file + atomic rename): a reader sees the
previous run or the new one, never half a run, and never blocks the writer.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import duckdb


def snapshot_path(db: str | os.PathLike) -> Path:
    db = Path(db)
    return db.with_name(db.stem + ".snapshot" + db.suffix)


def publish(con: duckdb.DuckDBPyConnection, db: str | os.PathLike) -> Path:
    """Checkpoint the writer's store and publish a consistent copy atomically."""
    con.execute("CHECKPOINT")
    target = snapshot_path(db)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(db, tmp)
        shutil.copymode(db, tmp)  # mkstemp makes 0600; readers need what the store has
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def published_at(db: str | os.PathLike) -> datetime | None:
    path = snapshot_path(db)
    if not path.exists():
        return None
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)


def run_marker(db: str | os.PathLike) -> Path:
    db = Path(db)
    return db.with_name(db.stem + ".running")


def flow_running(db: str | os.PathLike) -> bool:
    """Whether a live process has marked a flow run on this store (stale markers are ignored)."""
    marker = run_marker(db)
    try:
        pid = int(marker.read_text().strip())
    except (FileNotFoundError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class marking_run:
    """Mark the store as mid-run for readers; re-entrant for nested flows of one process."""

    def __init__(self, db: str | os.PathLike):
        self.marker = run_marker(db)
        self.owner = False

    def __enter__(self):
        if not (self.marker.exists() and self.marker.read_text().strip() == str(os.getpid())):
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            self.marker.write_text(str(os.getpid()))
            self.owner = True
        return self

    def __exit__(self, *exc):
        if self.owner:
            self.marker.unlink(missing_ok=True)
        return False
