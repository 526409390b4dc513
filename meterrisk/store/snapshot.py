"""Published snapshots: what analysts query while scheduled flows write.

DuckDB lets one process write a file and no other process open it meanwhile, so analysts
never read the live store. At the end of each flow run the writer builds
``<name>.snapshot.duckdb`` afresh (temp file + atomic rename): a reader sees the previous
run or the new one, never half a run, and never blocks the writer.

**Incremental.** Readings are nearly all of the data and only grow at the end, so rebuilding
them each run copied the whole store (114 MB a run at demo size). In the snapshot they are one
Parquet file per local day in ``<name>.snapshot.readings/``, named ``<date>_<fingerprint>``
and written once: the fingerprint hashes that day's day rows (pseudonym, version, readings
present: every writer bumps a day row's version, :mod:`meterrisk.ingest.days`) and its
readings count, so a publish writes only days that are new or changed, and the snapshot's
``readings`` is a view over the exact list of files. A day file appears complete or not at
all (written in a staging folder, then renamed), and the list only changes with the atomic
rename of the snapshot file, so readers still never see half a run. A superseded day file
stays for one more publish (a reader may still hold the previous snapshot open), except
when a household has left (consent withdrawn): then every file that held it goes at once.
The other tables are small and rebuilt each run as before.

The snapshot holds what analysts may see, not a copy of the store: households are named by
pseudonym only (no registry id, no table mapping one to the other), and nothing else that
could name a person or unlock an id is there: no settings, no ingest paths (a delivery's
folder is often the household id), no quarantined raw lines, no questionnaires, no free-text
notes, no export audit. A fresh file, not a byte copy, so deleted rows do not linger in free
blocks either. The README ("The analyst snapshot") lists the contents; keep them in step.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from meterrisk.files import owner_only
from meterrisk.processes import pid_alive

#: The large append-only table, kept as day files (see above); file_id is left out because
#: ingest_files, where file paths live, is not in the snapshot.
READINGS_DROP = ["file_id"]
#: Per-household tables: ``household_id`` becomes ``pseudonym``; the listed columns are left out.
PER_HOUSEHOLD = {
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
#: Analyst views over a per-household-day table the snapshot has just copied, built from that
#: copy instead of running the store's view: it reads the same rows again (millions at a year
#: of a town), and for v_data_quality the store's household_day_quality view a second time.
#: Each is its store view (V0310) with the copy for the store table and ``_snap_consenting``
#: (the households in consent when the publish began) for households_in_consent; the copies
#: name households by pseudonym, one per household. tests/test_snapshot_cost.py checks that
#: they equal the store's views.
FROM_COPIES = {
    "v_household_daily": """
        SELECT h.pseudonym, h.district, d.* EXCLUDE (pseudonym)
        FROM {snap}.main.daily_features d JOIN _snap_consenting h USING (pseudonym)""",
    "v_data_quality": """
        SELECT h.pseudonym, h.district,
               min(q.local_date) AS first_date, max(q.local_date) AS last_date,
               count(*) AS days,
               count(*) FILTER (WHERE q.coverage >= 0.8) AS days_coverage_80,
               round(avg(q.coverage), 4) AS mean_coverage,
               sum(q.missing_slots) AS missing_slots,
               sum(q.zero_slots) AS zero_slots
        FROM {snap}.main.household_day_quality q JOIN _snap_consenting h USING (pseudonym)
        GROUP BY ALL""",
}
_SNAP = "meterrisk_snapshot"


def snapshot_path(db: str | os.PathLike) -> Path:
    db = Path(db)
    return db.with_name(db.stem + ".snapshot" + db.suffix)


def day_files_dir(db: str | os.PathLike) -> Path:
    """Where the snapshot's readings live, one Parquet file per local day."""
    return snapshot_path(db).with_suffix(".readings")


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
    folder = day_files_dir(db)
    folder.mkdir(exist_ok=True)
    owner_only(folder)
    previous = _previous(target)
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
            day_files = _publish_readings(con, folder)
            info["readings_files"] = json.dumps(day_files)
            for name, drop in PER_HOUSEHOLD.items():
                _copy(con, name, _analyst_select(con, name, drop))
            con.execute("CREATE OR REPLACE TEMP TABLE _snap_consenting AS "
                        "SELECT pseudonym, district FROM households_in_consent")
            for name in [*REFERENCE, *VIEWS]:
                if name in FROM_COPIES:
                    _copy(con, name, FROM_COPIES[name].format(snap=_SNAP))
                else:
                    _copy(con, name, _analyst_select(con, name, []))
            con.execute("DROP TABLE _snap_consenting")
            con.execute(f"CREATE TABLE {_SNAP}.main.snapshot_info (key VARCHAR, value VARCHAR)")
            con.executemany(f"INSERT INTO {_SNAP}.main.snapshot_info VALUES (?, ?)", list(info.items()))
            _check(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        gone = previous["pseudonyms"] - {r[0] for r in con.execute("SELECT pseudonym FROM households").fetchall()}
        con.execute(f"DETACH {_SNAP}")
        owner_only(tmp)
        os.replace(tmp, target)
        # Only now may the previous snapshot's files go: until the rename a reader could open it.
        keep = set(day_files) | (set() if gone else previous["files"])
        for path in folder.glob("*.parquet"):
            if path.name not in keep:
                path.unlink()
    finally:
        if _SNAP in {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}:
            con.execute(f"DETACH {_SNAP}")
        for leftover in (tmp, tmp + ".wal"):
            if os.path.exists(leftover):
                os.unlink(leftover)
    return target


def _previous(target: Path) -> dict:
    """The day files and households of the snapshot published last (none: nothing to keep)."""
    out = {"files": set(), "pseudonyms": set()}
    if not target.exists():
        return out
    try:
        prev = duckdb.connect(str(target), read_only=True)
    except duckdb.Error:
        return out  # unreadable: its files are not kept, the new snapshot replaces it
    try:
        row = prev.execute("SELECT value FROM snapshot_info WHERE key = 'readings_files'").fetchone()
        out["files"] = set(json.loads(row[0])) if row else set()
        out["pseudonyms"] = {r[0] for r in prev.execute("SELECT pseudonym FROM households").fetchall()}
    except duckdb.Error:  # a snapshot of an older release: a plain readings table
        pass
    finally:
        prev.close()
    return out


def _day_fingerprints(con) -> dict[str, str]:
    """File name per local day with readings: ``<date>_<hash of what the day holds>.parquet``.

    From the day rows alone (a few per household-day, not 48): every writer keeps them in step
    with the readings and bumps a row's version when its day changes (meterrisk/ingest/days.py),
    as household_day_quality (V0400) and the alerts also rely on, so the day's readings count
    is the sum of its rows' ``n_readings`` and the readings need no scan of their own."""
    rows = con.execute("""
        SELECT d.local_date, sum(d.n_readings) AS n, count(h.pseudonym) AS rows,
               coalesce(sum(hash(h.pseudonym, d.version, d.n_readings))
                        FILTER (WHERE h.pseudonym IS NOT NULL)::HUGEINT, 0) AS h
        FROM reading_days d LEFT JOIN households h USING (household_id)
        GROUP BY ALL HAVING sum(d.n_readings) > 0""").fetchall()
    out = {}
    for day, n, day_rows, h in rows:
        digest = hashlib.sha256(f"{n}:{day_rows}:{h}".encode()).hexdigest()[:16]
        out[day.isoformat()] = f"{day.isoformat()}_{digest}.parquet"
    return out


def _publish_readings(con, folder: Path) -> list[str]:
    """Write the day files the snapshot lacks, then define ``readings`` over all of its days."""
    select = _analyst_select(con, "readings", READINGS_DROP)
    days = _day_fingerprints(con)
    missing = sorted(d for d, name in days.items() if not (folder / name).exists())
    if missing:
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _snap_days (local_date DATE)")
            con.executemany("INSERT INTO _snap_days VALUES (?)", [[d] for d in missing])
            # One pass over readings for every missing day: a COPY per day would scan the
            # whole table each time (rows are stored in delivery order, not by day).
            con.execute(f"COPY (SELECT * FROM ({select}) WHERE local_date IN (SELECT local_date FROM _snap_days)) "
                        f"TO {_lit(staging)} (FORMAT parquet, PARTITION_BY (local_date), "
                        "WRITE_PARTITION_COLUMNS true, OVERWRITE_OR_IGNORE true)")
            for day in missing:
                parts = sorted((staging / f"local_date={day}").glob("*.parquet"))
                one = staging / f"{day}.parquet"
                if len(parts) == 1:
                    parts[0].rename(one)
                else:  # DuckDB split the day (large partitions): one file a day keeps the naming simple
                    con.execute(f"COPY (SELECT * FROM read_parquet([{', '.join(map(_lit, parts))}])) "
                                f"TO {_lit(one)} (FORMAT parquet)")
                owner_only(one)
                one.rename(folder / days[day])
        finally:
            con.execute("DROP TABLE IF EXISTS _snap_days")
            shutil.rmtree(staging, ignore_errors=True)
    for stale in folder.glob(".staging-*"):  # a publish that died half way (one writer at a time)
        shutil.rmtree(stale, ignore_errors=True)
    files = [days[d] for d in sorted(days)]
    if files:
        paths = ", ".join(_lit(folder.resolve() / f) for f in files)
        con.execute(f"CREATE VIEW {_SNAP}.main.readings AS SELECT * FROM read_parquet([{paths}])")
    else:
        con.execute(f"CREATE TABLE {_SNAP}.main.readings AS {select} LIMIT 0")
    return files


def _lit(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _copy(con, name: str, select: str | None) -> None:
    if select is not None:
        con.execute(f"CREATE TABLE {_SNAP}.main.{_q(name)} AS {select}")


def _check(con) -> None:
    """The promise above, checked on what was built: no registry id column anywhere."""
    named = con.execute("SELECT table_name FROM information_schema.columns WHERE table_catalog = ? "
                        "AND column_name = 'household_id'", [_SNAP]).fetchall()
    if named:
        raise RuntimeError(f"the analyst snapshot would hold registry ids in {sorted({r[0] for r in named})}")


def readings_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The day files a connection on a snapshot reads its ``readings`` from (none on a store).

    A locked-down analyst connection has file access off, so it must be allowed exactly these
    files and no others (:func:`meterrisk.cli.sql.lock_down`)."""
    try:
        row = con.execute("SELECT value FROM snapshot_info WHERE key = 'readings_files'").fetchone()
    except duckdb.CatalogException:
        return []  # the live store, or a snapshot of a release before day files
    if not row:
        return []
    path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    folder = Path(path).with_suffix(".readings").resolve()
    return [str(folder / name) for name in json.loads(row[0])]


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
