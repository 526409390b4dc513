"""`meterrisk alerts list/ack` (issue 14): episodes for the duty worker, acknowledged once."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from test_alerts import _day, _history, _load

from meterrisk import store
from meterrisk.cli import main

START = date(2025, 6, 1)
DAY = START + timedelta(days=28)


@pytest.fixture
def db(tmp_path):
    from meterrisk.alerts.service import run_alerts

    path = tmp_path / "m.duckdb"
    con = store.connect(path)
    rng = np.random.default_rng(6)
    _load(con, "a", [*_history(rng), _day(rng, flat_from=20)], START)
    _load(con, "b", [*_history(rng), _day(rng)], START)
    run_alerts(con, DAY)
    con.close()
    return path


def cli(*args, ok=True):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert (r.exit_code == 0) == ok, r.output
    return r


def _ids(db, *extra):
    out = cli("alerts", "--db", db, "list", *extra).output
    return [line.split()[0] for line in out.splitlines() if line.startswith("  ")]


def test_list_ack_and_views(db, tmp_path):
    out = cli("alerts", "--db", db, "list").output
    assert "Alerts about the resident" in out and "Meter problems, not the resident: 0" in out
    ids = _ids(db, "--open")
    assert ids and all(len(i) == 8 for i in ids)
    assert " a " in out and " b " not in out  # the registry id of the home that went still, only it
    csv, pq = tmp_path / "e.csv", tmp_path / "e.parquet"
    cli("alerts", "--db", db, "list", "--out", csv)
    cli("alerts", "--db", db, "list", "--open", "--out", pq)
    assert pl.read_csv(csv)["episode_id"].to_list() == ids == pl.read_parquet(pq)["episode_id"].to_list()
    r = cli("alerts", "--db", db, "ack", ids[0], "--note", "called: SECRET-NOTE", "--by", "Sato")
    assert "acknowledged" in r.output and "SECRET-NOTE" not in r.output
    assert ids[0] not in _ids(db, "--open") and ids[0] in _ids(db)
    r = cli("alerts", "--db", db, "ack", ids[0], "--note", "again", ok=False)
    assert "already acknowledged" in r.output and len(r.output.strip().splitlines()) <= 2
    r = cli("alerts", "--db", db, "ack", "deadbeef", "--note", "x", ok=False)
    assert "no alert episode" in r.output
    con = store.read_only(db)
    try:
        (n_open,) = con.execute("SELECT count(*) FROM v_alerts_open").fetchall()[0]
        acked = con.execute("SELECT pseudonym, acked_at IS NOT NULL, has_note FROM v_alerts_acknowledged").fetchall()
        by = con.execute("SELECT acked_by FROM alert_acks").fetchall()
    finally:
        con.close()
    assert n_open == len(ids) - 1 and acked == [("P-a", True, True)] and by == [("Sato",)]


def test_list_out_rejects_other_suffix(db, tmp_path):
    r = cli("alerts", "--db", db, "list", "--out", tmp_path / "e.txt", ok=False)
    assert ".csv or .parquet" in r.output


def test_withdrawal_purges_episodes_and_acks(db):
    from meterrisk.alerts.workflow import acknowledge, list_episodes
    from meterrisk.consent.purge import withdraw

    con = store.connect(db, create=False)
    try:
        acknowledge(con, list_episodes(con)["episode_id"][0], "n")
        con.execute("INSERT INTO ingest_files (file_id, path, file_name, sha256, profile, layout, rows_read, rows_loaded, "
                    "rows_quarantined, rows_duplicate, rows_rejected_consent, started_at, status) VALUES "
                    "(1, '/nonexistent/r.csv', 'r.csv', 'x', 'p', 'long', 0, 0, 0, 0, 0, now(), 'loaded')")
        withdraw(con, "a")
        left = [con.execute(f"SELECT count(*) FROM {t} WHERE household_id = 'a'").fetchall()[0][0]
                for t in ("alert_episodes", "alert_acks", "alerts")]
        assert list_episodes(con).height == 0
    finally:
        con.close()
    assert left == [0, 0, 0]
