"""The ``withdrawals`` table: what keeps a withdrawal final after the household is forgotten.

A row holds a salted SHA-256 of the registry id, never the id. A registry load tests its ids
against the rows that a later consent has not superseded (``active``); the salt is random per
row, so two stores, or two withdrawals of one home, share nothing an outsider could link.

A salt does not make a guessable id secret: whoever holds the store and a list of candidate ids
can test each against a row, as the town's data team (who has the registry) can anyway. What
the row protects is that the id itself is gone from every table, snapshot and copy.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime, timezone

import duckdb
import polars as pl

from meterrisk.store import frame, registered


def id_sha256(salt: str, household_id: str) -> str:
    """The tombstone's digest; equal to DuckDB's ``sha256(salt || household_id)``."""
    return hashlib.sha256((salt + household_id).encode("utf-8")).hexdigest()


def record(con: duckdb.DuckDBPyConnection, household_id: str, *, pseudonym: str, withdrawn_on: date,
           source: str, rows_deleted: dict[str, int], files_touched: list[dict]) -> tuple[int, datetime]:
    """Insert the tombstone-and-audit row; return (withdrawal_id, purged_at). Call inside the
    purge's transaction."""
    salt = secrets.token_hex(16)
    purged_at = datetime.now(timezone.utc).replace(tzinfo=None)
    withdrawal_id = con.execute("SELECT nextval('withdrawal_id')").fetchall()[0][0]
    con.execute("INSERT INTO withdrawals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [withdrawal_id, salt, id_sha256(salt, household_id), pseudonym, withdrawn_on, purged_at,
                 source, json.dumps(rows_deleted), json.dumps(files_touched)])
    return withdrawal_id, purged_at


def active(con: duckdb.DuckDBPyConnection, household_ids: list[str]) -> pl.DataFrame:
    """household_id, withdrawal_id, withdrawn_on, pseudonym for each given id that has a
    withdrawal no later consent has superseded (the newest one if several)."""
    ids = pl.DataFrame({"household_id": household_ids}, schema={"household_id": pl.String})
    with registered(con, _tomb_ids=ids.to_arrow()):
        return frame(con, """
            SELECT i.household_id, arg_max(w.withdrawal_id, w.withdrawn_on) AS withdrawal_id,
                   max(w.withdrawn_on) AS withdrawn_on, arg_max(w.pseudonym, w.withdrawn_on) AS pseudonym
            FROM _tomb_ids i JOIN withdrawals w
              ON w.superseded_by_consent_on IS NULL AND w.id_sha256 = sha256(w.id_salt || i.household_id)
            GROUP BY i.household_id""")


def supersede(con: duckdb.DuckDBPyConnection, withdrawal_id: int, consent_given_on: date) -> None:
    """A consent later than the withdrawal re-registered the household: the row stays for the
    audit but no longer blocks."""
    con.execute("UPDATE withdrawals SET superseded_by_consent_on = ? WHERE withdrawal_id = ?",
                [consent_given_on, withdrawal_id])
