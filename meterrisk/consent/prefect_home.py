"""Forgetting a withdrawn household in Prefect's own records (``PREFECT_HOME``).

Flow parameters, artifacts (the run summaries and tables this project writes) and the event
log that mirrors them are kept by Prefect's local server in ``PREFECT_HOME/prefect.db``
(SQLite). Prefect has no API to edit a logged event or a flow run's parameters, so the
erasure works on the database file itself, while no flow runs: every text cell that mentions
the household is redacted in place (the rows stay, so run history and counts stay intact),
then the file is vacuumed and its write-ahead log truncated, because SQLite keeps deleted
text in free pages and in the WAL until then. Any other file under ``PREFECT_HOME`` that
mentions the household (a persisted task result, a cache entry) is deleted: those are
caches Prefect rebuilds, never the only copy of anything.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

REDACTED = "[withdrawn]"


@dataclass
class PrefectErasure:
    home: str
    cells_redacted: dict[str, int] = field(default_factory=dict)  # "table.column" -> cells
    files_deleted: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.cells_redacted.values()) + len(self.files_deleted)


def _text_columns(db: sqlite3.Connection) -> list[tuple[str, str]]:
    out = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"):
        for _, column, decl, *_ in db.execute(f'PRAGMA table_info("{table}")'):
            # JSON, TEXT, VARCHAR and untyped columns can hold text; numbers and blobs of
            # UUIDs cannot hold a registry id.
            if not any(t in (decl or "TEXT").upper() for t in ("CHAR", "TEXT", "JSON", "CLOB")):
                continue
            out.append((table, column))
    return out


def redact_sqlite(path: Path, needles: list[str]) -> dict[str, int]:
    """Replace every occurrence of each needle in every text cell; vacuum; return cells per column."""
    counts: dict[str, int] = {}
    db = sqlite3.connect(path, timeout=30)  # a running Prefect server writes in short transactions
    try:
        for table, column in _text_columns(db):
            for needle in needles:
                cur = db.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) WHERE instr("{column}", ?) > 0',
                    (needle, REDACTED, needle))
                if cur.rowcount:
                    key = f"{table}.{column}"
                    counts[key] = counts.get(key, 0) + cur.rowcount
        db.commit()
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return counts


def _mentions(path: Path, needles: list[bytes]) -> bool:
    data = path.read_bytes()
    return any(n in data for n in needles)


def erase_from_prefect_home(home: str | Path, needles: list[str]) -> PrefectErasure:
    """Redact ``needles`` in Prefect's SQLite database under ``home`` and drop other files that hold them."""
    home = Path(home)
    result = PrefectErasure(str(home))
    if not home.is_dir():
        return result
    needles = [n for n in needles if n]
    raw = [n.encode() for n in needles]
    databases = sorted(home.glob("*.db"))
    for db in databases:
        for key, n in redact_sqlite(db, needles).items():
            result.cells_redacted[key] = result.cells_redacted.get(key, 0) + n
    sqlite_files = {p for db in databases for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal"))}
    for path in sorted(p for p in home.rglob("*") if p.is_file() and p not in sqlite_files):
        if _mentions(path, raw):
            path.unlink()
            result.files_deleted.append(str(path.relative_to(home)))
    return result
