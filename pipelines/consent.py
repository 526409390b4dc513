"""Withdrawals announced ahead take effect on their day, whether or not a registry is loaded."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from meterrisk import store
from meterrisk.consent import local_today
from meterrisk.consent.files_side import finish_withdrawals, forget_outside_store
from meterrisk.consent.purge import purge_due_withdrawals
from pipelines.retries import retry_on_transient_io


@task(name="forget-due-withdrawals", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def forget_due_withdrawals(db: Path) -> int:
    """Purge every household whose ``consent_withdrawn_on`` has come, in the store and outside it."""
    con = store.connect(db, create=False)
    try:
        with store.transaction(con):
            reports = purge_due_withdrawals(con, today=local_today(con), source="scheduled")
        if forget_outside_store(con, db, reports):
            finish_withdrawals(con, db)
    finally:
        con.close()
    return len(reports)
