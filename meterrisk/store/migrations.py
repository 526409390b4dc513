"""Versioned schema: the SQL files in ``meterrisk/store/sql/`` applied in version order.

A file is named ``V<version>__<name>.sql``. Append a file; never edit one that has shipped.
Version ranges per stage keep parallel work from colliding: 1-99 ingest/store, 100-199
features, 200-299 model and alerts, 300-399 pipelines and analyst views.

Timestamps named ``*_utc`` are naive UTC; ``local_*`` columns are wall-clock values in the
store's zone (``settings.timezone``). ``slot`` is the 0-based half-hour of the local day
counted in elapsed time, so a 46- or 50-slot clock-change day has slots 0..45 or 0..49.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from importlib import resources

import duckdb

_NAME = re.compile(r"^V(\d+)__(\w+)\.sql$")


def _load() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("meterrisk.store").joinpath("sql").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions in meterrisk/store/sql: {versions}")
    return found


#: (version, name, sql), in the order they are applied.
MIGRATIONS: list[tuple[int, str, str]] = _load()


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the store to the newest schema; return the version it is at.

    Each migration runs in its own transaction with its bookkeeping row, so a crash
    leaves the store at the previous version, never half-migrated.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    applied = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    known = {v for v, _, _ in MIGRATIONS}
    unknown = applied - known
    if unknown:
        raise RuntimeError(
            f"the store has schema migrations {sorted(unknown)} that this meterrisk does not "
            "know: upgrade meterrisk"
        )
    for version, name, sql in MIGRATIONS:
        if version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [version, name, datetime.now(timezone.utc).replace(tzinfo=None)],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return schema_version(con)
