"""Opening the store: one writer process, read-only readers that fail fast when it is busy."""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

from meterrisk import config
from meterrisk.errors import MeterriskError


class StoreBusyError(RuntimeError):
    """Another process holds the write lock on the store."""


def _is_permission_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "permission denied" in text or "read-only file system" in text


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text


class StoreMissingError(MeterriskError, FileNotFoundError):
    """No store at the path given: a command that needs data never starts an empty one.
    (Also a FileNotFoundError, which ``read_only`` raised for this before.)"""

    def __init__(self, db: Path):
        super().__init__(f"no store at {db}",
                         hint=f"`meterrisk households FILE --db {db}` creates one "
                              "(or check --db / METERRISK_DB for a typo)")
        self.path = db


class StoreNotWritableError(MeterriskError):
    """The store, or the folder it lives in, cannot be written by this user."""


def _why_not_writable(path: Path) -> str:
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        pass
    return "permission denied"


def check_writable(db: Path) -> None:
    """Raise StoreNotWritableError unless this process can write the store and its folder.

    DuckDB opens the file for writing and keeps a write-ahead log (``<store>.wal``) beside
    it, so both must be writable; checked up front because DuckDB reports either only when
    it first writes, mid-command, as a traceback. ``os.access`` asks the kernel with this
    process's real credentials, so it also answers correctly for root (which may write)."""
    if db.exists() and not os.access(db, os.R_OK | os.W_OK):
        raise StoreNotWritableError(
            f"cannot write the store {db}: {_why_not_writable(db)}",
            hint=f"run as the user who owns it or grant write access (chmod u+rw {db}); "
                 "`meterrisk sql` can still read it")
    folder = db.parent
    while not folder.exists() and folder != folder.parent:  # where a new store's folders would be made
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        what = ("the store's folder: " if folder == db.parent else f"so {db.parent} cannot be created: ")
        raise StoreNotWritableError(
            f"cannot write in {folder}, {what}{_why_not_writable(folder)} "
            "(DuckDB keeps a write-ahead log beside the store)",
            hint=f"grant write access to the folder (chmod u+rwx {folder}) or put the store in a writable one")


def require_store(path: str | os.PathLike | None = None, *, create: bool = False) -> Path:
    """The store's path, once it is known to exist (unless ``create``) and to be writable."""
    db = config.db_path(path)
    if not create and not db.exists():
        raise StoreMissingError(db)
    check_writable(db)
    return db


def connect(
    path: str | os.PathLike | None = None, *, create: bool = True, timezone: str | None = None,
    wait_seconds: float | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open (migrating if needed) the store for writing; create it only if ``create``.

    Commands and flows that need data pass ``create=False``, so a mistyped ``--db`` is
    StoreMissingError rather than a new, empty store; only loading the registry, the demo
    and an explicit ``--create`` make one. (The default stays True for library callers and
    tests that build stores.)

    If another process holds the store (a flow, or someone's read-only session on the live
    file), retry for ``wait_seconds`` (default ``METERRISK_LOCK_WAIT``, 30 s), then raise
    StoreBusyError rather than hang.

    ``timezone`` (else ``METERRISK_TZ``, else Asia/Tokyo) sets the local zone of a new store:
    the zone is a property of the store (local dates and slots are stored with each reading),
    so it cannot change afterwards without reloading. Asking an existing store for a
    different zone, by argument or by ``METERRISK_TZ``, raises a MeterriskError.
    """
    from meterrisk.store.migrations import migrate

    db = require_store(path, create=create)
    db.parent.mkdir(parents=True, exist_ok=True)
    wait = float(os.environ.get("METERRISK_LOCK_WAIT", 30)) if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        try:
            con = duckdb.connect(str(db))
            break
        except duckdb.IOException as exc:
            if _is_permission_error(exc):  # e.g. the file changed hands since the check
                raise StoreNotWritableError(f"cannot write the store {db}: {_why_not_writable(db)}",
                                            hint="check the store's owner and permissions") from exc
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"the store {db} is in use by another process (waited {wait:.0f} s); retry later"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    _no_progress_bar(con)
    # Bound DuckDB's memory so staging a big file spills to disk instead of growing with it.
    con.execute("SET memory_limit = ?", [os.environ.get("METERRISK_MEMORY_LIMIT", "1GB")])
    migrate(con)
    _init_settings(con, timezone)
    return con


def read_only(path: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """Open the store read-only for ad hoc queries; raise StoreBusyError instead of hanging."""
    db = config.db_path(path)
    if not Path(db).exists():
        raise StoreMissingError(db)
    try:
        return _no_progress_bar(duckdb.connect(str(db), read_only=True))
    except duckdb.IOException as exc:
        if _is_lock_error(exc):
            raise StoreBusyError(
                f"the store {db} is being updated by another process; retry in a few seconds"
            ) from exc
        raise


def _no_progress_bar(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """DuckDB draws a progress bar on stdout for slow queries when stdout is a terminal: it
    landed in the middle of ``meterrisk evaluate``'s JSON. Our own progress goes to stderr."""
    con.execute("SET enable_progress_bar = false")
    return con


def setting(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = one(con, "SELECT value FROM settings WHERE key = ?", [key])
    return row[0] if row else None


def _init_settings(con: duckdb.DuckDBPyConnection, timezone: str | None) -> None:
    tz = setting(con, "timezone")
    asked, source = (timezone, "timezone") if timezone else (os.environ.get("METERRISK_TZ"), "METERRISK_TZ")
    if tz is None:
        zone = config.local_timezone(timezone)
        if not config.is_zone(zone):
            raise MeterriskError(f"unknown time zone {zone!r} for a new store (an IANA name such as Asia/Tokyo "
                                 "or Europe/London)")
        con.execute("INSERT INTO settings VALUES ('timezone', ?)", [zone])
    elif asked and asked != tz:
        raise MeterriskError(
            f"this store keeps local time in {tz} but {source} asks for {asked}; a store's zone is fixed when it is "
            f"created (local dates and slots are stored with each reading): "
            f"{'unset METERRISK_TZ' if source == 'METERRISK_TZ' else f'drop --timezone {asked}'}, or create a new "
            f"store for {asked} with another --db"
        )


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    """Run a query with bound parameters and return a Polars DataFrame (via Arrow, no pandas)."""
    # DuckDB 2 refuses relation work while an execute() result on the connection is
    # unfinished (e.g. after a caller's fetchone()); finish it first.
    con.complete()
    return con.sql(sql, params=params or None).pl()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row of a query, or None. Reads the whole result: DuckDB 2 refuses further work
    on a connection while an ``execute`` result is only partly fetched (``fetchone``)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **frames):
    """``frames`` (Polars/Arrow) registered as views for the duration of the block."""
    for name, data in frames.items():
        con.register(name, data)
    try:
        yield con
    finally:
        for name in frames:
            con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, **frames):
    """One all-or-nothing write, with ``frames`` (Polars/Arrow) registered as views meanwhile.

    >>> with transaction(con, _new=frame):
    ...     con.execute("DELETE FROM t USING _new WHERE t.k = _new.k")
    ...     con.execute("INSERT INTO t SELECT * FROM _new")
    """
    with registered(con, **frames):
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:  # a failed COMMIT has already rolled back
                pass
            raise
