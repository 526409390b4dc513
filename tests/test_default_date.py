"""The default date of the daily job: the last local day most households covered.

A few stray readings (four half hours of tomorrow, one stamped 2031) used to become "the
latest date": features were computed as of it and alerts judged it, so the real day's alerts
were never raised. Every default (features, alerts, risk list, the daily run) is now the
last local day on which at least half of the households with readings in the 14 days up to
it have at least 80% of that day's half hours.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines_conftest import SAMPLE, cwd, needs_run_alerts, prefect_harness  # noqa: F401  (fixtures)
from test_cli import cli

from meterrisk.ingest import days as day_rows
from meterrisk import store
from meterrisk.errors import MeterriskError
from meterrisk.store.coverage import ADEQUATE_COVERAGE, last_covered_day

LAST = date(2025, 2, 16)  # the sample's last day; every household's days are complete


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("default-date") / "data" / "meterrisk.duckdb"
    cli("households", "--db", db, SAMPLE / "households.csv")
    cli("ingest", "--db", db, SAMPLE / "readings")
    return db


@pytest.fixture
def db(sample_db, tmp_path) -> Path:
    copy = tmp_path / "data" / "meterrisk.duckdb"
    copy.parent.mkdir(parents=True)
    shutil.copy2(sample_db, copy)
    return copy


def _households(db: Path, n: int) -> list[str]:
    con = store.read_only(db)
    try:
        return [h for (h,) in con.execute(
            "SELECT DISTINCT household_id FROM readings WHERE local_date = ? ORDER BY 1 LIMIT ?", [LAST, n]).fetchall()]
    finally:
        con.close()


def four_readings_of_the_next_day(db: Path, tmp_path: Path) -> None:
    day = LAST + timedelta(days=1)
    rows = [f"{h},{day}T0{i}:00:00+09:00,0.25" for i, h in enumerate(_households(db, 4))]
    f = tmp_path / "early.csv"
    f.write_text("household_id,ts,kwh\n" + "\n".join(rows) + "\n")
    cli("ingest", "--db", db, f)


def one_reading_in_2031(db: Path) -> None:
    """Loaded straight into the table, as an older version of ingest would have let it in."""
    (h,) = _households(db, 1)
    con = store.connect(db, create=False)
    try:
        con.execute("INSERT INTO readings SELECT ?, TIMESTAMP '2031-01-01 00:00:00', TIMESTAMP '2031-01-01 09:00:00', "
                    "DATE '2031-01-01', 18, 0.2, max(file_id) FROM ingest_files", [h])
        con.execute("INSERT OR IGNORE INTO local_calendar VALUES (DATE '2031-01-01', 48)")
        day_rows.note_changed(con, "SELECT ? AS household_id, DATE '2031-01-01' AS local_date", [h])
        day_rows.rebuild_changed(con)
    finally:
        con.close()


STRAYS = {"four readings of the next day": lambda db, tmp: four_readings_of_the_next_day(db, tmp),
          "one reading in 2031": lambda db, tmp: one_reading_in_2031(db)}


def _max_date(db: Path) -> date:
    con = store.read_only(db)
    try:
        return store.one(con, "SELECT max(local_date) FROM readings")[0]
    finally:
        con.close()


@pytest.mark.parametrize("stray", sorted(STRAYS))
def test_stray_readings_do_not_move_the_default_date(db, tmp_path, stray):
    from meterrisk.alerts.service import latest_date
    from pipelines.risk_list import latest_reading_date

    STRAYS[stray](db, tmp_path)
    assert _max_date(db) > LAST  # the stray is there
    con = store.connect(db, create=False)
    try:
        assert last_covered_day(con) == LAST
        assert latest_date(con) == LAST                      # alerts
    finally:
        con.close()
    assert latest_reading_date(db) == LAST                   # risk list
    assert f"features as of {LAST}:" in cli("features", "--db", db).output
    assert cli("alerts", "--db", db, "--no-show").output.startswith(f"{LAST}: ")


@needs_run_alerts
def test_the_daily_run_defaults_to_the_last_covered_day(db, tmp_path, prefect_harness):
    from pipelines.daily import daily_flow

    four_readings_of_the_next_day(db, tmp_path)
    one_reading_in_2031(db)
    with cwd(tmp_path):
        out = daily_flow(db=db, inbox=tmp_path / "inbox")
    assert out["features"]["as_of"] == str(LAST)
    assert out["alerts"]["date"] == str(LAST)


def _drop_readings(db: Path, day: date, households: list[str], keep_slots: int) -> None:
    con = store.connect(db, create=False)
    try:
        day_rows.note_changed(con, "SELECT DISTINCT household_id, local_date FROM readings "
                                   "WHERE local_date = ? AND list_contains(?, household_id)", [day, households])
        con.execute("DELETE FROM readings WHERE local_date = ? AND slot >= ? AND list_contains(?, household_id)",
                    [day, keep_slots, households])
        day_rows.rebuild_changed(con)  # as every writer of readings does
    finally:
        con.close()


def test_a_day_most_households_have_not_covered_is_not_the_default(db):
    everyone = _households(db, 1000)
    most = everyone[: len(everyone) // 2 + 1]
    _drop_readings(db, LAST, most, keep_slots=int(48 * ADEQUATE_COVERAGE) - 1)  # just under 80%
    con = store.connect(db, create=False)
    try:
        assert last_covered_day(con) == LAST - timedelta(days=1)
    finally:
        con.close()


def test_half_of_the_households_covered_is_enough(db):
    everyone = _households(db, 1000)
    half = everyone[len(everyone) - len(everyone) // 2:]  # the other half keep full days
    _drop_readings(db, LAST, half, keep_slots=10)
    con = store.connect(db, create=False)
    try:
        assert last_covered_day(con) == LAST
    finally:
        con.close()


def test_80_percent_of_the_day_counts_as_covered(db):
    everyone = _households(db, 1000)
    _drop_readings(db, LAST, everyone, keep_slots=int(48 * ADEQUATE_COVERAGE) + 1)  # 39 of 48 > 80%
    con = store.connect(db, create=False)
    try:
        assert last_covered_day(con) == LAST
    finally:
        con.close()


def test_no_covered_day_at_all_is_a_clear_error(db):
    con = store.connect(db, create=False)
    try:
        con.execute("DELETE FROM readings WHERE slot >= 10")
        day_rows.rebuild_all(con)  # as every writer of readings does
        with pytest.raises(MeterriskError, match="80%"):
            last_covered_day(con)
        con.execute("DELETE FROM readings")
        day_rows.rebuild_all(con)
        with pytest.raises(MeterriskError, match="no readings"):
            last_covered_day(con)
    finally:
        con.close()


def test_the_coverage_bar_is_the_features_one():
    from meterrisk.features.activity import MIN_COVERAGE

    assert ADEQUATE_COVERAGE == MIN_COVERAGE
