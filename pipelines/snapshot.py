"""The task that publishes the analyst snapshot at the end of a run."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from meterrisk import store
from meterrisk.store.snapshot import publish


@task(name="publish-snapshot")
def publish_snapshot(db: Path) -> str:
    """Give analysts what they may see of the store as of the end of this run (see meterrisk.store.snapshot)."""
    con = store.connect(db, create=False)
    try:
        return str(publish(con, db))
    finally:
        con.close()
