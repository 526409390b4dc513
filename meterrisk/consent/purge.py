"""Withdrawal forgets: every row of a household leaves the store in one transaction.

``withdraw(con, household_id, on=...)`` is the store side of ``meterrisk withdraw`` and of a
withdrawal in a loaded registry. In one transaction it

1. deletes the household's rows from every base table with a ``household_id`` column, found
   in ``information_schema`` at run time (a table added later is covered without a change
   here): readings, daily and window features, profiles, feature state, assessments, scores,
   alerts and their acknowledgements, absences, and last its ``households`` row;
2. deletes its ``quarantine`` rows (no household column there): rows whose raw line has the
   id as a field or whose message names it, and every row of a file that, as far as the store
   can tell, only this household's data came from (so an id-less malformed line of a
   per-household file goes too);
3. redacts the id in the text columns of ``ingest_files`` (path, file name, message, and any
   text column added later, e.g. ``archived_as``), replacing it by ``<withdrawn>``; the
   accounting rows stay, with the counts of the delivery as it was loaded;
4. leaves the incremental feature sync alone: it finds changed days by the day rows' version
   (``meterrisk.features.changes``), and the household's day rows go with its features;
5. writes the tombstone-and-audit row in ``withdrawals`` (pseudonym, date, rows deleted per
   table, files touched), the only place the pseudonym survives.

The returned ``WithdrawalReport`` is what the file-side steps (rewriting archived inputs,
listing export files, Prefect artifacts, the snapshot) start from: ``files`` lists every
ingest file the household's rows came from or whose record named it, with the ``path`` and
``archived_as`` as they were *before* redaction. Those may contain the registry id, so they
live only in the report, in memory: do not log them. After rewriting files, record what was
done by extending the row's ``files_touched`` JSON (``withdrawals.withdrawal_id`` =
``report.withdrawal_id``) rather than adding a table that could hold the id.

A mention of the id in free text is the id with no letter or digit on either side, and not
part of another registered household's id (so withdrawing ``H1`` leaves ``H10`` alone).
Numeric ids may also match a number in a message; the redaction then errs toward forgetting.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb

from meterrisk import store
from meterrisk.consent import tombstones
from meterrisk.errors import MeterriskError

REDACTED = "<withdrawn>"

# A quarantined row's raw line split into fields, whatever the delimiter of its profile.
_FIELDS = r"""list_transform(string_split_regex(coalesce(q.raw_line, ''), '[,;\t|]'),
                             lambda f: trim(f, ' "'''))"""


@dataclass
class FileTouched:
    """One ``ingest_files`` row the withdrawal changed or whose file holds the household's lines."""

    file_id: int
    path: str                      # before redaction: may name the household, do not log
    archived_as: str | None        # likewise (None when the store has no such column or value)
    readings_deleted: int
    quarantine_deleted: int
    only_this_household: bool      # every attributable row of the file was this household's
    redacted_columns: list[str] = field(default_factory=list)

    def audit(self) -> dict:
        """What the audit row keeps of it: no path, which could name the household."""
        return {k: v for k, v in asdict(self).items() if k not in ("path", "archived_as")}


@dataclass
class WithdrawalReport:
    withdrawal_id: int
    pseudonym: str
    withdrawn_on: date
    purged_at: datetime            # UTC
    rows_deleted: dict[str, int]   # table -> rows deleted (every household table, zeros included)
    files: list[FileTouched]
    #: in memory only, for the file-side steps (files_side.py); never printed, logged or stored
    household_id: str = field(default="", repr=False)

    @property
    def total_rows(self) -> int:
        return sum(self.rows_deleted.values())

    def summary(self) -> str:
        """One line for people and logs: pseudonym, date, counts. Never a path or id."""
        counts = ", ".join(f"{t} {n}" for t, n in sorted(self.rows_deleted.items()) if n)
        return (f"{self.pseudonym} withdrawn on {self.withdrawn_on}: {self.total_rows} rows deleted "
                f"({counts or 'none stored'}); {len(self.files)} ingest file records touched")


def local_today(con: duckdb.DuckDBPyConnection) -> date:
    """Today in the store's zone (consent dates are local dates)."""
    return datetime.now(ZoneInfo(store.setting(con, "timezone") or "UTC")).date()


def withdraw(con: duckdb.DuckDBPyConnection, household_id: str, *, on: date | None = None) -> WithdrawalReport:
    """Forget ``household_id``: consent ended on ``on`` (default: today in the store's zone).

    Everything stored about the household is purged, not only what falls after ``on``: a
    withdrawal forgets. Raises MeterriskError for an id that is not in the registry (saying so
    if it was withdrawn already) or a date in the future (a withdrawal announced ahead belongs
    in the registry's ``consent_withdrawn_on``). See the module docstring for what is deleted
    and what the report is for.
    """
    today = local_today(con)
    on = on or today
    if on > today:
        raise MeterriskError(f"the withdrawal date {on} is in the future",
                             hint="a withdrawal takes effect now; a date ahead goes in the registry's "
                                  "consent_withdrawn_on")
    with store.transaction(con):
        return purge_household(con, household_id, withdrawn_on=on, source="withdraw")


def purge_household(con: duckdb.DuckDBPyConnection, household_id: str, *, withdrawn_on: date, source: str,
                    pseudonym: str | None = None) -> WithdrawalReport:
    """``withdraw`` without the transaction, for callers that purge inside their own (a registry
    load). ``pseudonym`` is needed only for a household the registry names but the store has
    no row for (a first load that already says it withdrew)."""
    row = store.one(con, "SELECT pseudonym FROM households WHERE household_id = ?", [household_id])
    if row is None and pseudonym is None:
        gone = tombstones.active(con, [household_id])
        if gone.height:
            raise MeterriskError(f"that household is already withdrawn (on {gone['withdrawn_on'][0]}, "
                                 f"pseudonym {gone['pseudonym'][0]}); nothing of it is stored")
        raise MeterriskError("no such household: the id is not in the registry",
                             hint="check the id against the registry you loaded (meterrisk households FILE)")
    pseudonym = row[0] if row else pseudonym
    others = [h for (h,) in con.execute(
        "SELECT household_id FROM households WHERE household_id <> ? AND contains(household_id, ?)",
        [household_id, household_id]).fetchall()]

    files = _files_of(con, household_id, others)
    quarantine_by_file = _delete_quarantine(con, household_id, files)
    readings_by_file = {fid: f["own_readings"] for fid, f in files.items()}
    rows_deleted = {"quarantine": sum(quarantine_by_file.values())}
    for table in household_tables(con):
        rows_deleted[table] = con.execute(f'DELETE FROM "{table}" WHERE household_id = ?',
                                          [household_id]).fetchall()[0][0]
    redacted = _redact_ingest_files(con, household_id, others)

    touched = []
    for fid in sorted(set(files) | set(redacted) | set(quarantine_by_file)):
        f = files.get(fid) or _file_paths(con, fid)
        touched.append(FileTouched(
            file_id=fid, path=f["path"], archived_as=f["archived_as"],
            readings_deleted=readings_by_file.get(fid, 0), quarantine_deleted=quarantine_by_file.get(fid, 0),
            only_this_household=bool(files.get(fid, {}).get("only_this")), redacted_columns=redacted.get(fid, [])))
    withdrawal_id, purged_at = _record(con, household_id, pseudonym=pseudonym, withdrawn_on=withdrawn_on,
                                       source=source, rows_deleted=rows_deleted,
                                       files_touched=[t.audit() for t in touched])
    return WithdrawalReport(withdrawal_id, pseudonym, withdrawn_on, purged_at, rows_deleted, touched, household_id)


def purge_due_withdrawals(con: duckdb.DuckDBPyConnection, *, today: date, source: str) -> list[WithdrawalReport]:
    """``purge_household`` for every stored household whose ``consent_withdrawn_on`` has come
    (inside the caller's transaction): a withdrawal announced ahead takes effect on its day."""
    due = con.execute("SELECT household_id, consent_withdrawn_on FROM households WHERE consent_withdrawn_on <= ? "
                      "ORDER BY household_id", [today]).fetchall()
    return [purge_household(con, hid, withdrawn_on=on, source=source) for hid, on in due]


# Indirection so a test can make the last step fail and see the whole purge roll back.
_record = tombstones.record


def household_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every base table of the store with a ``household_id`` column, ``households`` last."""
    names = [r[0] for r in con.execute("""
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
        WHERE c.column_name = 'household_id' AND t.table_type = 'BASE TABLE'
          AND c.table_catalog = current_database() AND c.table_schema = 'main'
        ORDER BY c.table_name""").fetchall()]
    return sorted(names, key=lambda t: t == "households")


def mentions(text: str | None, household_id: str, others: list[str]) -> list[tuple[int, int]]:
    """Spans of ``household_id`` in ``text`` as a token (no letter or digit either side), leaving
    out those inside an occurrence of one of ``others`` (ids that contain this one)."""
    if not text:
        return []
    inside = [(m.start(), m.end()) for o in others for m in re.finditer(re.escape(o), text)]
    spans = []
    for m in re.finditer(rf"(?<![0-9A-Za-z]){re.escape(household_id)}(?![0-9A-Za-z])", text):
        if not any(a <= m.start() and m.end() <= b for a, b in inside):
            spans.append((m.start(), m.end()))
    return spans


def redact(text: str, spans: list[tuple[int, int]]) -> str:
    for a, b in reversed(spans):
        text = text[:a] + REDACTED + text[b:]
    return text


def _text_columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute("""
        SELECT column_name FROM information_schema.columns
        WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ?
          AND data_type = 'VARCHAR' ORDER BY ordinal_position""", [table]).fetchall()]


def _file_paths(con, file_id: int) -> dict:
    archived = "archived_as" if "archived_as" in _text_columns(con, "ingest_files") else "NULL"
    path, archived_as = store.one(con, f"SELECT path, {archived} FROM ingest_files WHERE file_id = ?", [file_id])
    return {"path": path, "archived_as": archived_as}


def _files_of(con, household_id: str, others: list[str]) -> dict[int, dict]:
    """Ingest files the household's readings or quarantined rows came from, or whose path
    names it, with their own/other row counts and whether only this household's data is in it."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _wd_quarantine AS
        SELECT q.rowid AS rid, q.file_id, {_FIELDS} AS fields,
               list_contains({_FIELDS}, $id) OR contains(coalesce(q.message, ''), 'household ' || $id || ' ') AS own
        FROM quarantine q""", {"id": household_id})
    counts = {fid: [own, other] for fid, own, other in con.execute("""
        SELECT file_id, count(*) FILTER (WHERE household_id = $id), count(*) FILTER (WHERE household_id <> $id)
        FROM readings WHERE file_id IN (SELECT file_id FROM readings WHERE household_id = $id)
        GROUP BY file_id""", {"id": household_id}).fetchall()}
    own_quarantine = dict(con.execute(
        "SELECT file_id, count(*) FROM _wd_quarantine WHERE own GROUP BY file_id").fetchall())
    archived = "archived_as" if "archived_as" in _text_columns(con, "ingest_files") else "NULL"
    named = {fid: (path, arch) for fid, path, name, arch in con.execute(
        f"SELECT file_id, path, file_name, {archived} FROM ingest_files").fetchall()
        if mentions(path, household_id, others) or mentions(name, household_id, others)
        or mentions(arch, household_id, others)}
    candidates = set(counts) | set(own_quarantine) | set(named)
    if not candidates:
        return {}
    ids = sorted(candidates)
    # Quarantined rows of these files that name another registered household: theirs, kept.
    other_quarantine = dict(con.execute(f"""
        SELECT file_id, count(DISTINCT rid) FROM (
            SELECT rid, file_id, unnest(fields) AS f FROM _wd_quarantine
            WHERE NOT own AND file_id IN ({','.join('?' * len(ids))}))
        JOIN households h ON h.household_id = f WHERE h.household_id <> ?
        GROUP BY file_id""", [*ids, household_id]).fetchall())
    files = {}
    for fid in ids:
        own, other = counts.get(fid, [0, 0])
        paths = _file_paths(con, fid) if fid not in named else {"path": named[fid][0], "archived_as": named[fid][1]}
        files[fid] = {**paths, "own_readings": own,
                      "only_this": other == 0 and other_quarantine.get(fid, 0) == 0}
    return files


def _delete_quarantine(con, household_id: str, files: dict[int, dict]) -> dict[int, int]:
    """Delete the household's quarantine rows (and every row of its own files); per file count."""
    whole = sorted(fid for fid, f in files.items() if f["only_this"])
    extra = f" OR file_id IN ({','.join(str(int(f)) for f in whole)})" if whole else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _wd_gone AS SELECT rid, file_id FROM _wd_quarantine WHERE own{extra}")
    per_file = dict(con.execute("SELECT file_id, count(*) FROM _wd_gone GROUP BY file_id").fetchall())
    con.execute("DELETE FROM quarantine WHERE rowid IN (SELECT rid FROM _wd_gone)")
    con.execute("DROP TABLE _wd_gone; DROP TABLE _wd_quarantine")
    return per_file


def _redact_ingest_files(con, household_id: str, others: list[str]) -> dict[int, list[str]]:
    """Replace mentions of the id in every text column of ``ingest_files``; per file, the columns."""
    columns = _text_columns(con, "ingest_files")
    select = ", ".join(f'"{c}"' for c in columns)
    changed: dict[int, list[str]] = {}
    for fid, *values in con.execute(f"SELECT file_id, {select} FROM ingest_files").fetchall():
        for column, value in zip(columns, values):
            spans = mentions(value, household_id, others)
            if spans:
                con.execute(f'UPDATE ingest_files SET "{column}" = ? WHERE file_id = ?', [redact(value, spans), fid])
                changed.setdefault(fid, []).append(column)
    return changed
