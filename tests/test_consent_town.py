"""Withdrawal on the shared synthetic town, taken inbox to risk list by the flows: after
``meterrisk withdraw`` nothing of the household is left in any table or view of the store but
the audit row, and the next feature and alert runs carry on."""

from __future__ import annotations

import json

from click.testing import CliRunner
from pipelines_conftest import (  # noqa: F401  (fixtures)
    TOWN_DB,
    built_town,
    cohort,
    needs_run_alerts,
    prefect_harness,
    town_copy,
)
from test_consent import household_tables, text_hits

from meterrisk import store
from meterrisk.cli import main


def _most_present_household(con) -> str:
    """The household with rows in the most household tables (readings, features, scores, ...)."""
    union = " UNION ALL ".join(f"SELECT DISTINCT household_id, '{t}' AS t FROM \"{t}\"" for t in household_tables(con))
    return store.one(con, f"SELECT household_id FROM ({union}) GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")[0]


def test_withdraw_leaves_nothing_of_the_household_in_the_store(town_copy):
    db = town_copy / TOWN_DB
    con = store.connect(db)
    try:
        hid = _most_present_household(con)
        pseudonym = store.one(con, "SELECT pseudonym FROM households WHERE household_id = ?", [hid])[0]
        # Tables the flows leave empty get a row too, so every household table is exercised.
        con.execute("INSERT INTO absences VALUES (?, '2025-05-01', '2025-05-03', 'hospital')", [hid])
        con.execute("INSERT INTO alert_acks (household_id, local_date, kind, acked_at, note) VALUES (?, '2025-05-02', 'stuck_on', now(), 'visited')", [hid])
        present = {t: store.one(con, f'SELECT count(*) FROM "{t}" WHERE household_id = ?', [hid])[0]
                   for t in household_tables(con)}
        assert {t for t, n in present.items() if n == 0} <= {"alerts"}, present  # alerts: if the town raised one
        assert store.one(con, "SELECT count(*) FROM v_risk_latest WHERE pseudonym = ?", [pseudonym])[0] == 1
        others = store.one(con, "SELECT count(*) FROM readings WHERE household_id <> ?", [hid])[0]
    finally:
        con.close()

    r = CliRunner().invoke(main, ["withdraw", "--db", str(db), hid, "--on", "2025-06-30"])
    assert r.exit_code == 0, r.output
    assert pseudonym in r.output and hid not in r.output

    con = store.connect(db)
    try:
        assert text_hits(con, hid) == []
        assert text_hits(con, pseudonym) == [("withdrawals", "pseudonym", 1)]
        assert store.one(con, "SELECT count(*) FROM readings")[0] == others
        deleted = store.one(con, "SELECT rows_deleted FROM withdrawals WHERE pseudonym = ?", [pseudonym])[0]
        assert {t: n for t, n in json.loads(deleted).items() if t in present} == present
    finally:
        con.close()

    # The stages carry on: features stay incremental (by day-row version), alerts run.
    con = store.connect(db)
    try:
        from meterrisk.features import changes
        assert changes.last_synced(con) is not None
    finally:
        con.close()
    for args in (["features"], ["alerts", "--no-show"]):
        r = CliRunner().invoke(main, [*args, "--db", str(db)])
        assert r.exit_code == 0, r.output
    con = store.connect(db)
    try:
        assert text_hits(con, hid) == []
    finally:
        con.close()


def test_the_daily_run_forgets_a_household_whose_announced_withdrawal_has_come(town_copy, prefect_harness):
    """A withdrawal date given ahead in the registry takes effect on its day, with no registry load."""
    from pipelines.daily import daily_flow
    from pipelines_conftest import cwd

    db = town_copy / TOWN_DB
    con = store.connect(db)
    try:
        hid = _most_present_household(con)
        con.execute("UPDATE households SET consent_withdrawn_on = current_date - 1 WHERE household_id = ?", [hid])
    finally:
        con.close()
    with cwd(town_copy):
        daily_flow(db=TOWN_DB)
    con = store.read_only(db)
    try:
        assert text_hits(con, hid) == []
        assert store.one(con, "SELECT source FROM withdrawals ORDER BY withdrawal_id DESC LIMIT 1")[0] == "scheduled"
    finally:
        con.close()
