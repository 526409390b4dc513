"""One shard's side of a sharded run: its store brought up to date, then features and alerts.

A shard store is an ordinary meterrisk store (same migrations, same zone) holding only the
shard's consenting households, so the feature engine and the alert detector run on it
unchanged and give, household by household, what they give on the main store: neither
compares one household with another. What a run changes comes from the main store's Parquet
(:mod:`.transfer`); what the shard computed goes back the same way.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from meterrisk import store
from meterrisk.errors import MeterriskError
from meterrisk.shards import layout
from meterrisk.shards.transfer import SHARED_TABLES, WHOLE_TABLES

SHARD_KEY = "shard"            # "K/N" in the shard store's settings
VERSION_KEY = "shard.days_version"


def process_shard(root: Path, run: Path, shard: int, shards: int, base: int, version: int,
                  as_of: date | None, timezone: str) -> dict:
    """Apply the run's inputs to shard ``shard``'s store, compute its features (windows as of
    ``as_of``, the town's default date decided on the main store) and alerts for ``as_of``, and
    write the results to the run's ``out/``. Returns counts (no household ids but the alert
    episodes', which the alert flow's delivery hook needs, as the single-process flow does)."""
    path = layout.shard_store(Path(root), shard)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = store.connect(path, create=True, timezone=timezone)
    try:
        dropped = apply_inputs(con, Path(run), shard, shards, base, version)
        feats = _features(con, as_of)
        alerts = _alerts(con, as_of)
        _write_outputs(con, Path(run), shard)
    except BaseException:
        con.close()
        raise
    if dropped:  # rows of households no longer in the registry: their bytes leave the file too
        from meterrisk.store.compact import rewrite_store

        rewrite_store(con, path)  # closes con
    else:
        con.close()
    return {"shard": shard, "households_dropped": dropped, "features": feats, "alerts": alerts}


def apply_inputs(con: duckdb.DuckDBPyConnection, run: Path, shard: int, shards: int, base: int,
                 version: int) -> int:
    """Bring the shard store to ``version`` from changes since ``base``, in one transaction.
    Returns how many households were dropped (withdrawn, or out of the registry, since the last
    run): every row of theirs is deleted, whatever else happened to them."""
    from meterrisk.consent.purge import household_tables

    name = f"{shard}/{shards}"
    recorded = store.setting(con, SHARD_KEY)
    if recorded is not None and recorded != name:
        raise MeterriskError(f"the store given as shard {name} is shard {recorded}",
                             hint="rerun with --rebuild to rebuild every shard from the main store")
    have = int(store.setting(con, VERSION_KEY) or 0)
    if have < base:
        raise MeterriskError(
            f"shard {name}'s store has the main store's day rows up to version {have}, but the run "
            f"sends only the changes since {base} (was the shard store lost or replaced?)",
            hint="rerun with --rebuild to rebuild every shard from the main store")
    with store.transaction(con):
        before = {r[0] for r in con.execute("SELECT household_id FROM households").fetchall()}
        for table in WHOLE_TABLES:
            con.execute(f"DELETE FROM {table}")
            _insert(con, table, layout.inputs_of(run, table, shard))
        for table in SHARED_TABLES:
            con.execute(f"DELETE FROM {table}")
            _insert(con, table, [run / "in" / f"{table}.parquet"])
        after = {r[0] for r in con.execute("SELECT household_id FROM households").fetchall()}
        gone = before - after
        if gone:  # a withdrawal the purge could not reach here: only consenting households stay
            for table in household_tables(con):
                con.execute(f"DELETE FROM {table} WHERE household_id NOT IN (SELECT household_id FROM households)")
        if base == 0:  # a new or rebuilt shard: the alert history its episodes are built from
            con.execute("DELETE FROM alerts")
            _insert(con, "alerts", layout.inputs_of(run, "alerts", shard))
        changed = layout.inputs_of(run, "reading_days", shard)
        if changed:
            days = _scan(changed)
            con.execute(f"DELETE FROM readings t USING (SELECT household_id, local_date FROM {days}) c "
                        "WHERE t.household_id = c.household_id AND t.local_date = c.local_date")
            con.execute(f"DELETE FROM reading_days t USING (SELECT household_id, local_date FROM {days}) c "
                        "WHERE t.household_id = c.household_id AND t.local_date = c.local_date")
            _insert(con, "reading_days", changed)
            _insert(con, "readings", layout.inputs_of(run, "readings", shard))
        con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?), (?, ?)",
                    [SHARD_KEY, name, VERSION_KEY, str(version)])
    return len(gone)


def _features(con, as_of: date | None) -> dict:
    from meterrisk import features

    if as_of is not None:
        out = features.compute(con, as_of=as_of)
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in out.items()}
    # No day the town covered: daily rows and stale windows only, and the windows as of the
    # questionnaire dates, as compute() does then (not a day this shard alone would pick).
    requests = store.frame(con, "SELECT DISTINCT household_id, assessed_on AS as_of FROM assessments "
                                "WHERE assessed_on IS NOT NULL")
    rows = features.window_features(con, requests)
    return {"as_of": None, "windows_computed": rows.height}


def _alerts(con, day: date | None) -> dict | None:
    from meterrisk.alerts.service import run_alerts

    if day is None:
        return None
    try:
        return run_alerts(con, day)
    except MeterriskError as exc:
        # A shard none of whose households has readings up to the day (a small town split many
        # ways): nothing to check here; the run fails only if no shard checked anyone.
        if not str(exc).startswith("no readings on or before"):
            raise
        return {"date": day.isoformat(), "households_checked": 0, "suppressed_by_absence": 0, "alerts": 0,
                "by_kind": {}, "data_events": 0, "data_by_kind": {}, "new_episodes": []}


def _write_outputs(con, run: Path, shard: int) -> None:
    for table in layout.OUTPUT_TABLES:
        out = layout.output_of(run, table, shard)
        out.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT * FROM {table}) TO '{_q(out)}' (FORMAT parquet)")


def _scan(paths: list[Path]) -> str:
    listed = ", ".join(f"'{_q(p)}'" for p in paths)
    return f"read_parquet([{listed}], hive_partitioning = false)"


def _insert(con, table: str, paths: list[Path]) -> None:
    paths = [p for p in paths if p.is_file()]
    if paths:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {_scan(paths)}")


def _q(path: Path) -> str:
    return str(path).replace("'", "''")
