"""Published snapshots: what analysts query while scheduled flows write.

DuckDB lets one process write a file and no other process open it meanwhile, so analysts
never read the live store. At the end of each flow run the writer builds
``<name>.snapshot.duckdb`` afresh (temp file + atomic rename): a reader sees the previous
run or the new one, never half a run, and never blocks the writer.

The snapshot holds what analysts may see, not a copy of the store: households are named by
pseudonym only (no registry id, no table mapping one to the other), and nothing else that
could name a person or unlock an id is there: no settings, no ingest paths (a delivery's
folder is often the household id), no quarantined raw lines, no questionnaires, no free-text
notes, no export audit. A fresh file, not a byte copy, so deleted rows do not linger in free
blocks either. The README ("The analyst snapshot") lists the contents; keep them in step.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from meterrisk.files import owner_only
from meterrisk.processes import pid_alive

#: Per-household tables: ``household_id`` becomes ``pseudonym``; the listed columns are left out.
PER_HOUSEHOLD = {
    "readings": ["file_id"],  # ingest_files, where file paths live, is not in the snapshot
    "household_day_quality": [],
    "daily_features": [],
    "household_features": [],
    "risk_scores": [],
    "alerts": [],
    "alert_episodes": [],
}
#: Tables without personal data, copied as they are.
REFERENCE = ["local_calendar", "temperature", "feature_catalog", "risk_lists"]
#: The analyst views, materialised (their definitions join tables the snapshot does not hold).
VIEWS = ["v_risk_latest", "v_household_daily", "v_alerts_open", "v_alerts_acknowledged", "v_data_quality"]
_SNAP = "meterrisk_snapshot"


def snapshot_path(db: str | os.PathLike) -> Path:
    db = Path(db)
    return db.with_name(db.stem + ".snapshot" + db.suffix)


def _columns(con, name: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [name]).fetchall()]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _analyst_select(con, name: str, drop: list[str]) -> str | None:
    """SELECT for ``name`` with households named by pseudonym only (None: no such table)."""
    cols = [c for c in _columns(con, name) if c not in drop]
    if not cols:
        return None
    if "household_id" not in cols:
        return f"SELECT {', '.join(map(_q, cols))} FROM {_q(name)}"
    rest = [c for c in cols if c not in ("household_id", "pseudonym")]
    if "pseudonym" in cols:
        return f"SELECT pseudonym, {', '.join(map(_q, rest))} FROM {_q(name)}"
    return (f"SELECT h.pseudonym, {', '.join('t.' + _q(c) for c in rest)} FROM {_q(name)} t "
            "JOIN households h USING (household_id)")


def publish(con: duckdb.DuckDBPyConnection, db: str | os.PathLike) -> Path:
    """Build the analyst snapshot from the writer's store and publish it atomically."""
    from meterrisk.store.connection import setting
    from meterrisk.store.migrations import schema_version

    target = snapshot_path(db)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB creates the file; an empty one is not a database
    info = {"published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "timezone": setting(con, "timezone") or "", "store_schema_version": str(schema_version(con))}
    con.execute(f"ATTACH '{tmp.replace(chr(39), chr(39) * 2)}' AS {_SNAP}")
    try:
        # One transaction: every table is read from the same state of the store.
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE TABLE {_SNAP}.main.households AS SELECT pseudonym, district FROM households")
            for name, drop in PER_HOUSEHOLD.items():
                _copy(con, name, _analyst_select(con, name, drop))
            for name in [*REFERENCE, *VIEWS]:
                _copy(con, name, _analyst_select(con, name, []))
            con.execute(f"CREATE TABLE {_SNAP}.main.snapshot_info (key VARCHAR, value VARCHAR)")
            con.executemany(f"INSERT INTO {_SNAP}.main.snapshot_info VALUES (?, ?)", list(info.items()))
            _check(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute(f"DETACH {_SNAP}")
        owner_only(tmp)
        os.replace(tmp, target)
    finally:
        if _SNAP in {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}:
            con.execute(f"DETACH {_SNAP}")
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return target


def _copy(con, name: str, select: str | None) -> None:
    if select is not None:
        con.execute(f"CREATE TABLE {_SNAP}.main.{_q(name)} AS {select}")


def _check(con) -> None:
    """The promise above, checked on what was built: no registry id column anywhere."""
    named = con.execute("SELECT table_name FROM information_schema.columns WHERE table_catalog = ? "
                        "AND column_name = 'household_id'", [_SNAP]).fetchall()
    if named:
        raise RuntimeError(f"the analyst snapshot would hold registry ids in {sorted({r[0] for r in named})}")


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
    return pid_alive(pid)


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
