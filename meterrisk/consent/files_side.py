"""After the store has forgotten a household: its delivered files, export copies, Prefect's
records, the analyst snapshot and the store file itself forget it too.

``erase_outside_store`` follows a ``WithdrawalReport`` (the store side, ``purge``): the files
the household's rows came from are rewritten without its lines (or listed, if the town keeps
archives immutable), the exports folder's copies lose its rows (and are listed: copies already
handed out are the town's to recall), and Prefect's local database is redacted. Then, once
for however many households withdrew, ``finish_withdrawals`` publishes a fresh snapshot and
rewrites the store file. What was done is added to the withdrawal's audit
row, with paths redacted, since a per-household folder name is the registry id.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from meterrisk import store
from meterrisk.files import archived_path
from meterrisk.consent.export_files import ExportChange, erase_from_exports
from meterrisk.consent.input_files import FileChange, erase_household_from_file
from meterrisk.consent.prefect_home import PrefectErasure, erase_from_prefect_home
from meterrisk.consent.purge import WithdrawalReport, mentions, redact
from meterrisk.shards.purge import ShardErasure, erase_from_shards


@dataclass
class OutsideStore:
    inputs: list[FileChange] = field(default_factory=list)
    exports: list[ExportChange] = field(default_factory=list)
    prefect: PrefectErasure | None = None
    shards: ShardErasure | None = None
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """For the person at the terminal: counts and redacted paths (see ``_redacted``)."""
        done = [f for f in self.inputs if f.action in ("rewritten", "deleted")]
        listed = [f for f in self.inputs if f.action == "listed"]
        out = [f"delivered files: {len(done)} rewritten or deleted, {len(listed)} listed "
               "(kept immutable, or outside the data folder)"]
        out += [f"  still holding it (the town's to handle): {f.path}" for f in listed]
        out.append(f"export copies: {len(self.exports)} rewritten without it"
                   + (" (copies already handed out are the town's to recall):" if self.exports else ""))
        out += [f"  {e.path} ({e.rows_removed} rows)" for e in self.exports]
        if self.prefect is not None:
            out.append(f"prefect records: {sum(self.prefect.cells_redacted.values())} cells redacted, "
                       f"{len(self.prefect.files_deleted)} cached files deleted")
        if self.shards is not None and (self.shards.stores_rewritten or self.shards.transfer_runs_deleted):
            out.append(f"shard stores: {len(self.shards.stores_rewritten)} rewritten without it "
                       f"({self.shards.rows_deleted} rows), {self.shards.transfer_runs_deleted} transfer folders deleted")
        out += [f"  problem: {p}" for p in self.problems]
        return out


def forget_outside_store(con: duckdb.DuckDBPyConnection, db: str | os.PathLike,
                         reports: list[WithdrawalReport], **options) -> list[OutsideStore]:
    """``erase_outside_store`` for each purge that found something stored (a household first
    seen already withdrawn has left nothing anywhere)."""
    return [erase_outside_store(con, db, r, **options) for r in reports if r.total_rows or r.files]


def _profile_of(con: duckdb.DuckDBPyConnection, file_id: int) -> str | None:
    row = store.one(con, "SELECT profile FROM ingest_files WHERE file_id = ?", [file_id])
    return row[0] if row else None


def erase_outside_store(con: duckdb.DuckDBPyConnection, db: str | os.PathLike, report: WithdrawalReport,
                        *, data_dir: str | os.PathLike | None = None,
                        prefect_home: str | os.PathLike | None = None, immutable_archive: bool = False,
                        extra_ids: list[str] | None = None) -> OutsideStore:
    """The file-side steps of a withdrawal; see the module docstring. ``extra_ids``: more
    identifiers the household had outside the store (a research extract's HMAC). Follow the
    last of them with :func:`finish_withdrawals`."""
    db = Path(db)
    household_id = report.household_id
    data_dir = Path(data_dir) if data_dir else db.parent
    result = OutsideStore()
    if extra_ids is None:
        extra_ids = _research_ids(household_id, db, result)
    needles = [household_id, report.pseudonym, *extra_ids]
    seen: set[Path] = set()
    for touched in report.files:
        profile = _profile_of(con, touched.file_id)
        for candidate in (touched.archived_as and archived_path(db, touched.archived_as), touched.path):
            path = Path(candidate) if candidate else None
            if path is None or not path.is_file() or path.resolve() in seen:
                continue
            seen.add(path.resolve())
            # Files outside the data folder (ingested by the command line from wherever the town
            # keeps its exports) are the town's own: listed for it, never changed from here.
            ours = path.resolve().is_relative_to(data_dir.resolve())
            try:
                result.inputs.append(erase_household_from_file(path, household_id, profile,
                                                               immutable=immutable_archive or not ours))
            except Exception as exc:  # one unreadable file must not stop the rest of the erasure
                result.problems.append(_redacted(f"{path}: {exc}", household_id))
    result.exports = erase_from_exports(data_dir / "exports", needles)
    result.shards = erase_from_shards(db, household_id)  # a sharded run's per-shard stores
    result.problems += result.shards.problems
    home = Path(prefect_home or os.environ.get("PREFECT_HOME") or data_dir / "prefect")
    try:
        result.prefect = erase_from_prefect_home(home, needles)
    except sqlite3.Error as exc:
        result.problems.append(f"Prefect's database under {home} could not be redacted ({exc}); "
                               "its run records may still name the household: tell the data team (stop the Prefect server first)")
    _audit(con, report, household_id, result)
    return result


def finish_withdrawals(con: duckdb.DuckDBPyConnection, db: str | os.PathLike) -> Path:
    """The last step after any number of withdrawals, done once for all of them: publish a
    snapshot without them, then rewrite the store file so the deleted rows' bytes go too
    (meterrisk.store.compact). Closes ``con``: connect again to go on. Returns the snapshot."""
    from meterrisk.store.compact import rewrite_store
    from meterrisk.store.snapshot import publish

    snapshot = publish(con, db)
    rewrite_store(con, db)
    return snapshot


def _research_ids(household_id: str, db: Path, result: OutsideStore) -> list[str]:
    """The household's keyed id in research extracts, when the extract key is configured."""
    from meterrisk.privacy import KEY_ENV, KEY_FILE_ENV, keyed_id, research_key

    if not (os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV)):
        result.problems.append("no research key configured: export copies made with --pseudonymize "
                               "were searched by registry id and pseudonym only")
        return []
    key = research_key(os.environ.get(KEY_FILE_ENV), keep_out_of=[db.resolve().parent])
    return [keyed_id(key, household_id)]


def _redacted(text: str, household_id: str) -> str:
    return redact(text, mentions(text, household_id, []))


def _audit(con, report: WithdrawalReport, household_id: str, result: OutsideStore) -> None:
    """Add the file-side actions to the withdrawal's audit row (paths without the id)."""
    row = store.one(con, "SELECT files_touched FROM withdrawals WHERE withdrawal_id = ?", [report.withdrawal_id])
    touched = json.loads(row[0]) if row and row[0] else []
    for change in result.inputs:
        touched.append({**asdict(change), "path": _redacted(change.path, household_id), "kind": "delivered"})
    for change in result.exports:
        touched.append({**asdict(change), "path": _redacted(change.path, household_id), "kind": "export"})
    if result.shards is not None and (result.shards.stores_rewritten or result.shards.transfer_runs_deleted):
        touched.append({"kind": "shards", "stores_rewritten": result.shards.stores_rewritten,
                        "rows_deleted": result.shards.rows_deleted,
                        "transfer_runs_deleted": result.shards.transfer_runs_deleted})
    if result.prefect is not None:
        touched.append({"kind": "prefect", "cells_redacted": result.prefect.cells_redacted,
                        "files_deleted": [_redacted(f, household_id) for f in result.prefect.files_deleted]})
    con.execute("UPDATE withdrawals SET files_touched = ? WHERE withdrawal_id = ?",
                [json.dumps(touched), report.withdrawal_id])
