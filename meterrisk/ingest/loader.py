"""Loading one export file into the store: all of it or none of it, and every row counted.

Load semantics (declared here, as dlt does next to a source):

* **Unit of work** = one file, in one DuckDB transaction. A crash (even ``kill -9``) leaves
  no partial rows; the next run simply loads the file again.
* **Identity** = the delivery path plus the file's SHA-256. The same delivery again is skipped
  ("already ingested"); when the rows carry their household ids, so are the same bytes under
  another path (they are the same readings). When the id comes from the path or the profile,
  two homes' files can be byte for byte equal, so only the same path counts.
* **Delivery path** = the file's path relative to the inbox or the folder given (or the file
  argument as given), never the bare name: per-household folders repeat the same names.
* **Same delivery path, new content** = a new delivery: readings not yet stored are loaded,
  identical ones count as duplicates, and different values for a stored half hour are
  quarantined as ``conflicts_stored_value`` (the stored value wins). With ``replace=True`` the
  readings of earlier versions of that delivery (same delivery path, or the same file on disk)
  are deleted first and the new file's values win.
* **Key** = (household_id, ts_utc). Within a file, exact repeats load once and count as
  duplicates; repeats with different values are all quarantined (we cannot know which is right).
* **Consent** = readings of households not in the registry, or outside their consent, are
  dropped without a trace except a per-file count (``rows_rejected_consent``).

Accounting that always holds: rows_read = loaded + quarantined + duplicate + rejected_consent.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from meterrisk import store
from meterrisk.errors import InputFileError, MeterriskError
from meterrisk.files import sha256_of
from meterrisk.ingest import days, folds, parse
from meterrisk.ingest.dedup import collapse_repeats, distinct_key_hashes, drop_temps, key_hashes, raw_text
from meterrisk.ingest.layouts import chunks_for
from meterrisk.ingest.profiles import Profile
from meterrisk.ingest.reasons import INFO, Reason
from meterrisk.ingest.registry import consent_windows


@dataclass(frozen=True)
class Delivery:
    """A file to ingest and the name it was delivered under.

    ``delivery_path`` (POSIX separators) is the file's path relative to the inbox or the folder
    it was found in, or the argument as given for a file named directly. Per-household folders
    repeat the same file names (``<household>/201706.csv``), so this, not the bare name, is
    what ``--replace`` matches and what a profile's ``id_from_path`` reads.
    """

    path: Path
    delivery_path: str


def delivery_path_of(path: str | Path, root: str | Path | None = None) -> str:
    """``path`` relative to ``root`` (or as given, normalised), with ``/`` separators."""
    rel = os.path.relpath(path, root) if root is not None else os.path.normpath(path)
    return Path(rel).as_posix()


_STAGE_SCHEMA = """
CREATE OR REPLACE TEMP TABLE _stage (
    line_number BIGINT, raw_line VARCHAR, household_id VARCHAR, ts_utc TIMESTAMP,
    local_ts TIMESTAMP, local_date DATE, slot SMALLINT, kwh DOUBLE,
    fold_late TIMESTAMP  -- fold = "order": the later instant of a repeated local time (folds.py)
)"""


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class FileResult:
    path: str
    status: str  # loaded | loaded_with_quarantine | already_ingested | failed
    file_id: int | None = None
    delivery_path: str = ""
    sha256: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_rejected_consent: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0
    rollovers: int = 0

    @property
    def balanced(self) -> bool:
        return self.rows_read == (self.rows_loaded + self.rows_quarantined
                                  + self.rows_duplicate + self.rows_rejected_consent)

    @property
    def needs_attention(self) -> bool:
        """Failed, or quarantined something other than the layout's expected by-products."""
        return self.status == "failed" or any(Reason(r) not in INFO for r in self.reasons)


def ingest_file(con: duckdb.DuckDBPyConnection, path: str | Path, profile: Profile, *,
                replace: bool = False, delivery_path: str | None = None,
                on_chunk: Callable[[int], None] | None = None) -> FileResult:
    """Load one file (see module docstring for the semantics). Never raises for bad input:
    a file that cannot be read comes back with status ``failed`` and the reason.

    ``delivery_path`` names the delivery (default: ``path`` as given); see ``Delivery``.
    ``on_chunk(rows_read_so_far)`` is called after each staged chunk (progress for big files)."""
    path = Path(path)
    delivery = Delivery(path, delivery_path or delivery_path_of(path))
    zone = store.setting(con, "timezone")
    profile.check_store_zone(zone)
    started = time.perf_counter()
    if not path.is_file():
        return FileResult(str(path), "failed", delivery_path=delivery.delivery_path, message=f"{path}: no such file")
    sha = sha256_of(path)
    # Equal bytes are equal readings wherever they were delivered, unless the household id comes
    # from the path (or the profile): then two homes' files can be byte for byte the same.
    same_place = "" if profile.ids_from_content else " AND delivery_path = ?"
    done = store.one(
        con,
        "SELECT file_id, finished_at FROM ingest_files WHERE sha256 = ? "
        f"AND status IN ('loaded', 'loaded_with_quarantine'){same_place} ORDER BY file_id LIMIT 1",
        [sha] if profile.ids_from_content else [sha, delivery.delivery_path],
    )
    if done:
        return FileResult(str(path), "already_ingested", file_id=done[0], delivery_path=delivery.delivery_path,
                          sha256=sha,
                          message=f"identical content was ingested as file {done[0]} at {done[1]:%Y-%m-%d %H:%M} UTC; nothing changed")
    registry = consent_windows(con)
    if registry.height == 0:
        raise MeterriskError("the household registry is empty, so no reading has consent to be stored",
                             hint="load it first: meterrisk households FILE")
    file_started = _now()
    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute("SELECT nextval('ingest_file_id')").fetchall()[0][0]
        result = _load(con, delivery, profile, registry, zone, file_id, sha, replace, on_chunk)
        status = "loaded_with_quarantine" if result.rows_quarantined else "loaded"
        result.status, result.file_id = status, file_id
        result.message = _summary_message(result)
        _record(con, file_id, delivery, sha, profile, status, result.message, file_started, result)
        if not result.balanced:  # a bug, never bad input: refuse to commit numbers that do not add up
            raise AssertionError(f"row accounting does not balance for {path}: {result}")
        con.execute("COMMIT")
    except InputFileError as exc:
        con.execute("ROLLBACK")
        return _record_failure(con, delivery, sha, profile, file_started, str(exc), started)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    result.seconds = time.perf_counter() - started
    result.sha256 = sha
    return result


_FILE_COLUMNS = ("file_id, path, file_name, delivery_path, sha256, size_bytes, profile, layout, rows_read, "
                 "rows_loaded, rows_quarantined, rows_duplicate, rows_rejected_consent, started_at, finished_at, "
                 "status, message")


def _record(con, file_id: int, delivery: Delivery, sha: str, profile: Profile, status: str, message: str,
            file_started: datetime, counts: FileResult | None) -> None:
    path = delivery.path
    n = [counts.rows_read, counts.rows_loaded, counts.rows_quarantined, counts.rows_duplicate,
         counts.rows_rejected_consent] if counts else [0] * 5
    con.execute(
        f"INSERT INTO ingest_files ({_FILE_COLUMNS}) VALUES ({', '.join('?' * 17)})",
        [file_id, str(path.resolve()), path.name, delivery.delivery_path, sha, path.stat().st_size, profile.name,
         profile.layout, *n, file_started, _now(), status, message],
    )


def _record_failure(con, delivery: Delivery, sha: str, profile: Profile, file_started: datetime,
                    message: str, started: float) -> FileResult:
    file_id = con.execute("SELECT nextval('ingest_file_id')").fetchall()[0][0]
    _record(con, file_id, delivery, sha, profile, "failed", message, file_started, None)
    return FileResult(str(delivery.path), "failed", file_id=file_id, delivery_path=delivery.delivery_path,
                      sha256=sha, message=message, seconds=time.perf_counter() - started)


def _summary_message(r: FileResult) -> str:
    text = (f"{r.rows_read} read: {r.rows_loaded} loaded, {r.rows_quarantined} quarantined, "
            f"{r.rows_duplicate} duplicate, {r.rows_rejected_consent} rejected for consent")
    if r.rollovers:
        text += f"; {r.rollovers} register rollovers bridged"
    if r.reasons:
        text += " (" + ", ".join(f"{k} {v}" for k, v in sorted(r.reasons.items())) + ")"
    return text


def _load(con, delivery: Delivery, profile: Profile, registry: pl.DataFrame, zone: str, file_id: int,
          sha: str, replace: bool, on_chunk: Callable[[int], None] | None) -> FileResult:
    path = delivery.path
    result = FileResult(str(path), "running", delivery_path=delivery.delivery_path)
    reasons: Counter[str] = Counter()
    con.execute(_STAGE_SCHEMA)
    solar = set(registry.filter(pl.col("has_solar"))["household_id"].to_list())
    consent = registry.select("household_id", "consent_given_on", "consent_withdrawn_on")
    household_id = profile.household_id_for(path, delivery.delivery_path)
    # Keys as staged, to skip the search for repeats when there are none. Folds move staged
    # rows to other instants and register files restage everything, so those search in SQL.
    hashes: list[pl.Series] | None = [] if profile.fold != "order" and profile.layout != "register" else None
    for chunk in chunks_for(path, profile, solar=solar, household_id=household_id):
        result.rows_read += chunk.height
        chunk = chunk.join(consent, on="household_id", how="left")
        with_local = parse.with_local_time(chunk, zone)
        keep = with_local.filter((pl.col("household_id").fill_null("") == "") | _in_force(profile, zone))
        result.rows_rejected_consent += with_local.height - keep.height
        bad = keep.filter(pl.col("reason").is_not_null())
        if bad.height:
            reasons.update(dict(bad.group_by("reason").len().iter_rows()))
            _quarantine(con, file_id, bad)
        good = keep.filter(pl.col("reason").is_null()).select(
            "line_number", "raw_line", "household_id",
            pl.col("ts_utc").dt.replace_time_zone(None), "local_ts", "local_date", "slot", "kwh",
            pl.col("fold_late").dt.replace_time_zone(None))
        if hashes is not None:
            hashes.append(key_hashes(good))
        con.register("_chunk", good.to_arrow())
        con.execute("INSERT INTO _stage SELECT * FROM _chunk")
        con.unregister("_chunk")
        if on_chunk:
            on_chunk(result.rows_read)
    if profile.fold == "order":
        folds.resolve(con, file_id, zone, reasons)
    if profile.layout == "register":
        from meterrisk.ingest.register import register_to_usage
        register_to_usage(con, file_id, profile, reasons, result)
    keys_distinct = hashes is not None and distinct_key_hashes(hashes)
    _finalize(con, file_id, delivery, sha, replace, profile, zone, result, reasons, keys_distinct)
    result.rows_quarantined = sum(reasons.values())
    result.reasons = dict(reasons)
    return result


def _in_force(profile: Profile, zone: str) -> pl.Expr:
    """Consent in force on the reading's local date (unknown dates: decided by the reason).

    A register index closes one half hour and opens the next, so it is kept when either of
    them is in consent; ``register`` drops the resulting use outside consent afterwards.
    """
    def covered(day: pl.Expr) -> pl.Expr:
        return ((day >= pl.col("consent_given_on"))
                & (pl.col("consent_withdrawn_on").is_null() | (day < pl.col("consent_withdrawn_on"))))

    known = pl.col("consent_given_on").is_not_null()
    day = pl.col("local_date")
    if profile.layout == "register":
        before = (pl.col("ts_utc") - pl.duration(minutes=30)).dt.convert_time_zone(zone).dt.date()
        return known & (day.is_null() | covered(day) | covered(before))
    return known & (day.is_null() | covered(day))


def _quarantine(con, file_id: int, bad: pl.DataFrame) -> None:
    rows = bad.select(pl.lit(file_id).alias("file_id"), "line_number", "column_name",
                      pl.col("reason").alias("reason_code"), "message", "raw_line")
    con.register("_bad", rows.to_arrow())
    con.execute("INSERT INTO quarantine SELECT * FROM _bad")
    con.unregister("_bad")


def _finalize(con, file_id: int, delivery: Delivery, sha: str, replace: bool, profile: Profile,
              zone: str, result: FileResult, reasons: Counter, keys_distinct: bool = False) -> None:
    """Resolve duplicates within the file and against the store, insert, and rebuild the
    household-days that changed (``reading_days``, in this same transaction)."""
    if replace:
        # Earlier versions of this delivery: the same delivery path, or the same file on disk
        # (``ingest DIR`` then ``ingest --replace DIR/B/201706.csv``). Never the bare name.
        old = [r[0] for r in con.execute(
            "SELECT file_id FROM ingest_files WHERE (delivery_path = ? OR path = ?) AND sha256 <> ? "
            "AND status IN ('loaded', 'loaded_with_quarantine')",
            [delivery.delivery_path, str(delivery.path.resolve()), sha]).fetchall()]
        if old:
            days.note_changed(con, f"SELECT DISTINCT household_id, local_date FROM readings "
                                   f"WHERE file_id IN ({','.join('?' * len(old))})", old)
            con.execute(f"DELETE FROM readings WHERE file_id IN ({','.join('?' * len(old))})", old)
            con.execute(f"UPDATE ingest_files SET status = 'replaced' WHERE file_id IN ({','.join('?' * len(old))})", old)
    collapse_repeats(con, file_id, column="kwh", reasons=reasons, result=result, keys_distinct=keys_distinct,
                     message="household %s has %d values for %s UTC in this file (%g to %g kWh); none loaded")
    # Against the store: only the file's time range can collide, which lets zone maps prune.
    lo_ts, hi_ts = con.execute("SELECT min(ts_utc), max(ts_utc) FROM _stage").fetchall()[0]
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _stored AS
        SELECT k.household_id, k.ts_utc, k.kwh AS lo, r.kwh AS stored_kwh, k.line_number AS first_line
        FROM _keys k JOIN (SELECT household_id, ts_utc, kwh FROM readings WHERE ts_utc BETWEEN ? AND ?) r
        USING (household_id, ts_utc)""", [lo_ts, hi_ts])
    result.rows_duplicate += con.execute("SELECT count(*) FROM _stored WHERE lo = stored_kwh").fetchall()[0][0]
    clashes = con.execute(f"""
        INSERT INTO quarantine
        SELECT ?, s.line_number, 'kwh', 'conflicts_stored_value',
               printf('household %s at %s UTC: %g kWh here, %g kWh already stored from an earlier file; stored value kept',
                      s.household_id, strftime(s.ts_utc, '%Y-%m-%d %H:%M'), x.lo, x.stored_kwh),
               {raw_text('s')}
        FROM _stored x JOIN _stage s
          ON s.household_id = x.household_id AND s.ts_utc = x.ts_utc AND s.line_number = x.first_line
        WHERE x.lo <> x.stored_kwh""", [file_id]).fetchall()[0][0]
    if clashes:
        reasons[Reason.CONFLICTS_STORED_VALUE.value] += clashes
    has_stored = con.execute("SELECT count(*) FROM _stored").fetchall()[0][0] > 0
    result.rows_loaded = con.execute(f"""
        INSERT INTO readings
        SELECT k.household_id, k.ts_utc, k.local_ts, k.local_date, k.slot, k.kwh, ?
        FROM _keys k {'ANTI JOIN _stored x USING (household_id, ts_utc)' if has_stored else ''}""",
        [file_id]).fetchall()[0][0]
    if result.rows_loaded:
        # New rows are appended, so zone maps on file_id skip everything stored before them.
        days.note_changed(con, "SELECT DISTINCT household_id, local_date FROM readings WHERE file_id = ?", [file_id])
    _extend_calendar(con, zone)  # before the rebuild: it reads each day's slot count from the calendar
    days.rebuild_changed(con, new_file=file_id if result.rows_loaded else None)
    drop_temps(con)
    con.execute("DROP TABLE IF EXISTS _stored; "
                "DROP TABLE IF EXISTS _stage")


def _extend_calendar(con, zone: str) -> None:
    """Make local_calendar cover every date from the first to the last stored reading."""
    lo, hi = con.execute("SELECT min(local_date), max(local_date) FROM _stage").fetchall()[0]
    if lo is None:
        return
    known = con.execute("SELECT min(local_date), max(local_date) FROM local_calendar").fetchall()[0]
    lo = min(lo, known[0]) if known[0] else lo
    hi = max(hi, known[1]) if known[1] else hi
    days = pl.date_range(lo, hi, "1d", eager=True).to_list()
    slots = parse.expected_slots(days, zone)
    frame = pl.DataFrame({"local_date": list(slots), "expected_slots": list(slots.values())},
                         schema={"local_date": pl.Date, "expected_slots": pl.Int16})
    con.register("_cal", frame.to_arrow())
    con.execute("INSERT OR IGNORE INTO local_calendar SELECT * FROM _cal")
    con.unregister("_cal")
