"""The analyst snapshot is published incrementally: readings, the one large table, live in
one Parquet file per local day written once, so a publish after one new day writes that
day only; the rest of the snapshot is small. Analysts' SQL is unchanged, and a withdrawn
household leaves the day files at once."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from meterrisk import store
from meterrisk.cli import main
from meterrisk.store.snapshot import publish, run_marker, snapshot_path

DAYS = 8


def cli(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output  # 1: ingest rejected rows outside consent
    return result


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    """30 homes x 9 days, split into the first 8 days and the 9th (tomorrow's delivery)."""
    out = tmp_path_factory.mktemp("cohort")
    cli("synth", "--households", 30, "--days", DAYS + 1, "--start", "2025-04-01", "--seed", 3, "--out", out / "synth")
    con = duckdb.connect()
    src = f"read_parquet('{out / 'synth' / 'readings' / '*.parquet'}')"
    cut = "TIMESTAMPTZ '2025-04-09 00:00:00+09:00'"
    (out / "first").mkdir()
    (out / "next").mkdir()
    con.execute(f"COPY (SELECT * FROM {src} WHERE ts < {cut}) TO '{out / 'first' / 'r.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT * FROM {src} WHERE ts >= {cut}) TO '{out / 'next' / 'r.parquet'}' (FORMAT parquet)")
    return out


@pytest.fixture
def db(cohort, tmp_path) -> Path:
    db = tmp_path / "data" / "meterrisk.duckdb"
    cli("households", "--db", db, cohort / "synth" / "households.csv")
    cli("ingest", "--db", db, cohort / "first")
    return db


def day_files(db: Path) -> dict[str, os.stat_result]:
    folder = snapshot_path(db).with_suffix(".readings")
    return {p.name: p.stat() for p in sorted(folder.glob("*.parquet"))}


def answers(con) -> dict:
    """What an analyst asks of the readings; the same whether from the store or the snapshot."""
    return {
        "totals": con.execute("SELECT count(*), round(sum(kwh), 6), min(ts_utc), max(ts_utc) FROM readings").fetchall(),
        "per_day": con.execute("SELECT local_date, count(*), round(sum(kwh), 6) FROM readings GROUP BY ALL ORDER BY ALL").fetchall(),
        "columns": [r[:2] for r in con.execute("DESCRIBE readings").fetchall()],
    }


def live_answers(db: Path) -> dict:
    con = store.read_only(db)
    try:
        con.execute("CREATE TEMP VIEW analyst_readings AS SELECT h.pseudonym, r.ts_utc, r.local_ts, r.local_date, "
                    "r.slot, r.kwh FROM readings r JOIN households h USING (household_id)")
        out = answers(con)
        out["columns"] = [r[:2] for r in con.execute("DESCRIBE analyst_readings").fetchall()]
        return {**out, "totals": con.execute(
            "SELECT count(*), round(sum(kwh), 6), min(ts_utc), max(ts_utc) FROM analyst_readings").fetchall()}
    finally:
        con.close()


def snapshot_answers(db: Path) -> dict:
    con = duckdb.connect(str(snapshot_path(db)), read_only=True)
    try:
        return answers(con)
    finally:
        con.close()


def test_a_new_day_writes_only_that_day_and_answers_stay_right(db, cohort):
    con = store.connect(db)
    publish(con, db)
    con.close()
    first = day_files(db)
    assert len(first) == DAYS  # one file per local day
    before = snapshot_answers(db)
    assert before == live_answers(db)

    cli("ingest", "--db", db, cohort / "next")
    con = store.connect(db)
    publish(con, db)
    con.close()
    second = day_files(db)
    new = set(second) - set(first)
    assert len(new) == 1 and len(second) == DAYS + 1
    for name, st in first.items():  # the unchanged days were not rewritten
        assert (second[name].st_ino, second[name].st_mtime_ns) == (st.st_ino, st.st_mtime_ns), name
    after = snapshot_answers(db)
    assert after == live_answers(db)
    assert after["per_day"][:DAYS] == before["per_day"] and len(after["per_day"]) == DAYS + 1

    # the analyst's command reads the snapshot while a flow runs, with the same SQL as ever
    run_marker(db).write_text(str(os.getpid()))
    try:
        result = CliRunner().invoke(main, ["sql", "--db", str(db), "--format", "csv",
                                           "SELECT count(*) AS n, round(sum(kwh), 6) AS kwh FROM readings"])
    finally:
        run_marker(db).unlink()
    assert result.exit_code == 0, result.output
    assert f"{after['totals'][0][0]},{after['totals'][0][1]}" in result.output
    assert "snapshot published" in result.output


def test_a_publish_with_nothing_new_writes_no_day_file(db):
    con = store.connect(db)
    publish(con, db)
    first = day_files(db)
    publish(con, db)
    con.close()
    assert {n: (s.st_ino, s.st_mtime_ns) for n, s in day_files(db).items()} == \
        {n: (s.st_ino, s.st_mtime_ns) for n, s in first.items()}


def test_a_changed_day_is_rewritten_and_its_old_file_goes_a_publish_later(db):
    con = store.connect(db)
    publish(con, db)
    first = day_files(db)
    # a late correction: a new reading on a stored day, through the writers' own path
    from meterrisk.ingest import days as day_rows

    hid, day = con.execute("SELECT household_id, min(local_date) FROM readings GROUP BY ALL ORDER BY ALL LIMIT 1").fetchone()
    con.execute("BEGIN")
    day_rows.note_changed(con, "SELECT ? AS household_id, ?::DATE AS local_date", [hid, day])
    con.execute("UPDATE readings SET kwh = kwh + 1 WHERE household_id = ? AND local_date = ? AND slot = 3", [hid, day])
    day_rows.rebuild_changed(con)
    con.execute("COMMIT")
    publish(con, db)
    second = day_files(db)
    changed = set(second) - set(first)
    assert len(changed) == 1 and next(iter(changed)).startswith(str(day))
    # the superseded file stays for one publish (a reader of the previous snapshot may still need it)
    assert set(first) <= set(second)
    publish(con, db)
    con.close()
    assert set(day_files(db)) == (set(first) | changed) - {n for n in first if n.startswith(str(day))}
    assert snapshot_answers(db) == live_answers(db)


def test_a_withdrawn_household_leaves_every_day_file_at_once(db, tmp_path, monkeypatch):
    con = store.connect(db)
    publish(con, db)
    hid, pseudonym = con.execute(
        "SELECT household_id, pseudonym FROM households JOIN readings USING (household_id) LIMIT 1").fetchone()
    con.close()
    monkeypatch.chdir(db.parent.parent)
    result = CliRunner().invoke(main, ["withdraw", "--db", str(db), hid], env={"PREFECT_HOME": str(tmp_path / "p")})
    assert result.exit_code == 0, result.output
    files = day_files(db)
    assert len(files) == DAYS
    folder = snapshot_path(db).with_suffix(".readings")
    for name in files:
        values = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{folder / name}') WHERE pseudonym = ?",
                                          [pseudonym]).fetchone()[0]
        assert values == 0, name
        assert pseudonym.encode() not in (folder / name).read_bytes()
    assert snapshot_answers(db) == live_answers(db)
