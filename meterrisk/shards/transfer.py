"""The main store's side of a sharded run: hand each shard what changed, take back its results.

Out (:func:`export_inputs`), as hive-partitioned Parquet under the run folder's ``in/``:

* per shard (``in/<table>/shard=K/``): the registry rows of its consenting households, their
  questionnaire dates and absences (whole, they are small), and the day rows changed since the
  version every shard last received (``reading_days.version > base``) with those days'
  half-hour readings (the alert detector reads ``readings``);
* for every shard: the local calendar and the temperatures (``in/<table>.parquet``).

Back (:func:`gather`), from ``out/<table>/shard=K.parquet``: each shard's daily and window
features, feature state, alerts and episodes replace the main store's in one transaction, and
the main store's feature sync is recorded at the version the shards were given, so training
and scoring on the main store read these rows and recompute nothing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from meterrisk import store
from meterrisk.errors import MeterriskError
from meterrisk.features import changes
from meterrisk.shards import layout
from meterrisk.shards.partition import assign

#: Per-shard tables sent whole each run (rows of the shard's households only).
WHOLE_TABLES = ("households", "assessments", "absences")
#: Tables every shard gets a copy of.
SHARED_TABLES = ("local_calendar", "temperature")


def shard_count(con: duckdb.DuckDBPyConnection, asked: int, *, rebuild: bool = False) -> tuple[int, int]:
    """(shards, base version) for a run asking for ``asked`` shards.

    A store is split one way: asking for another count is an error unless ``rebuild`` (then
    every shard starts again from the whole store, base 0)."""
    if asked < 1:
        raise MeterriskError(f"--shards must be at least 1, not {asked}")
    count = store.setting(con, layout.COUNT_KEY)
    if rebuild or count is None:
        return asked, 0
    if int(count) != asked:
        raise MeterriskError(f"this store is split into {count} shards, not {asked}",
                             hint=f"run with --shards {count}, or add --rebuild to split it {asked} ways "
                                  "(every shard is rebuilt from the main store)")
    return asked, int(store.setting(con, layout.VERSION_KEY) or 0)


def export_inputs(con: duckdb.DuckDBPyConnection, run: Path, shards: int, base: int) -> int:
    """Write the run's ``in/`` folder; return the day-row version the shards are brought to."""
    new = changes.current_version(con)
    households = store.frame(con, "SELECT household_id, pseudonym FROM households "
                                  "WHERE consent_given_on IS NOT NULL")
    mapping = assign(households, shards).select("household_id", "shard")
    (run / "in").mkdir(parents=True, exist_ok=True)
    per_shard = {
        "households": "SELECT t.*, s.shard FROM households t JOIN _sh_map s USING (household_id)",
        "assessments": "SELECT t.*, s.shard FROM assessments t JOIN _sh_map s USING (household_id)",
        "absences": "SELECT t.*, s.shard FROM absences t JOIN _sh_map s USING (household_id)",
        "reading_days": f"SELECT t.*, s.shard FROM reading_days t JOIN _sh_map s USING (household_id) "
                        f"WHERE t.version > {int(base)}",
        "readings": f"""SELECT t.*, s.shard FROM readings t
                        JOIN (SELECT household_id, local_date FROM reading_days WHERE version > {int(base)}) c
                          USING (household_id, local_date)
                        JOIN _sh_map s USING (household_id)""",
    }
    if base == 0:  # a new or rebuilt shard starts from the main store's alert history
        per_shard["alerts"] = "SELECT t.*, s.shard FROM alerts t JOIN _sh_map s USING (household_id)"
    with store.registered(con, _sh_map=mapping):
        for table, sql in per_shard.items():
            con.execute(f"COPY ({sql}) TO '{_sql_path(run / 'in' / table)}' "
                        "(FORMAT parquet, PARTITION_BY (shard), OVERWRITE_OR_IGNORE)")
    for table in SHARED_TABLES:
        con.execute(f"COPY (SELECT * FROM {table}) TO '{_sql_path(run / 'in' / f'{table}.parquet')}' (FORMAT parquet)")
    return new


def gather(con: duckdb.DuckDBPyConnection, run: Path, shards: int, version: int) -> dict[str, int]:
    """Replace the main store's per-household results with the shards'; returns rows per table.

    Every shard must have written every table (an empty file when it has no rows): a missing
    one means the run did not finish, and nothing is replaced."""
    from meterrisk.features.catalog import catalog

    files = {t: [layout.output_of(run, t, k) for k in range(shards)] for t in layout.OUTPUT_TABLES}
    missing = [str(p) for ps in files.values() for p in ps if not p.is_file()]
    if missing:
        raise MeterriskError(f"{len(missing)} shard result files are missing (first: {missing[0]})",
                             hint="a shard task did not finish: run again")
    rows = {}
    with store.transaction(con, _sh_catalog=catalog()):
        for table, paths in files.items():
            con.execute(f"DELETE FROM {table}")
            listed = ", ".join(f"'{_sql_path(p)}'" for p in paths)
            rows[table] = con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM "
                                      f"read_parquet([{listed}], hive_partitioning = false)").fetchall()[0][0]
        con.execute("DELETE FROM feature_catalog")
        con.execute("INSERT INTO feature_catalog BY NAME SELECT * FROM _sh_catalog")
        # The main store's features are now those of its day rows up to ``version``: a later
        # window request on the main store (training, scoring) recomputes no daily row.
        con.execute("DELETE FROM feature_sync")
        con.execute("INSERT INTO feature_sync (synced_at, days_version, temperature_fingerprint) "
                    "VALUES (now()::TIMESTAMP, ?, ?)", [version, changes.temperature_fingerprint(con)])
        for key, value in ((layout.COUNT_KEY, shards), (layout.VERSION_KEY, version)):
            con.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", [key, str(value)])
    return rows


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
