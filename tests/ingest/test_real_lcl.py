"""All 100 real Low Carbon London households through the shipped `lcl` profile."""

from datetime import timedelta

import polars as pl
import pytest

from meterrisk import ingest, store
from tests.conftest import REAL_LCL

pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not REAL_LCL.exists(), reason="../shared/data/real is not present")]

FILES = sorted((REAL_LCL / "halfhourly").glob("MAC*.csv.gz"))


@pytest.fixture(scope="module")
def lcl_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lcl")
    ids = [f.name.removesuffix(".csv.gz") for f in FILES]
    pl.DataFrame({"household_id": ids, "birth_year": 1945, "lives_alone": "true",
                  "consent_given_on": "2012-01-01", "consent_withdrawn_on": None, "care_certified": "false",
                  "has_solar": "false", "district": "London"}).write_csv(folder / "households.csv")
    con = store.connect(folder / "lcl.duckdb", timezone="Europe/London")
    ingest.load_registry(con, folder / "households.csv")
    results = ingest.ingest_paths(con, [REAL_LCL / "halfhourly"], ingest.load_profile("lcl"))
    yield con, results
    con.close()


def test_every_reading_loads_and_nothing_is_quarantined(lcl_store):
    con, results = lcl_store
    assert len(results) == 100
    assert all(r.status == "loaded" and r.balanced for r in results)
    assert sum(r.rows_loaded for r in results) == 1_674_718
    assert con.execute("SELECT count(*) FROM readings").fetchall() == [(1_674_718,)]
    assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM readings WHERE kwh = 0").fetchall() == [(48_055,)]


def test_day_coverage_matches_the_absent_half_hours(lcl_store):
    """920 half-hours are absent inside the households' spans (PROVENANCE.md). The view counts
    whole local days, so the part of a first/last day before/after the span is added back."""
    con, _ = lcl_store
    total_missing = con.execute("SELECT sum(missing_slots) FROM household_day_quality").fetchall()[0][0]
    edges = con.execute("""
        WITH span AS (
            SELECT household_id, arg_min(slot, ts_utc) AS first_slot, min(local_date) AS first_day,
                   arg_max(slot, ts_utc) AS last_slot, max(local_date) AS last_day
            FROM readings GROUP BY household_id)
        SELECT sum(s.first_slot + (c.expected_slots - 1 - s.last_slot))
        FROM span s JOIN local_calendar c ON c.local_date = s.last_day""").fetchall()[0][0]
    assert total_missing - edges == 920
    # Clock-change days in London: 46 and 50 half-hours, all present for a full-year household.
    assert con.execute("""SELECT local_date::VARCHAR, expected_slots, present_slots FROM household_day_quality
                          WHERE household_id = 'MAC000002' AND expected_slots <> 48 ORDER BY 1""").fetchall() == [
        ("2013-03-31", 46, 46), ("2013-10-27", 50, 50)]


def test_rerun_is_a_no_op(lcl_store):
    con, _ = lcl_store
    again = ingest.ingest_paths(con, FILES[:5], ingest.load_profile("lcl"))
    assert {r.status for r in again} == {"already_ingested"}
    assert con.execute("SELECT count(*) FROM readings").fetchall() == [(1_674_718,)]


def test_day_rows_hold_every_reading_at_its_slot(lcl_store):
    """reading_days on real data, clock-change days included (2013-03-31: 46, 2013-10-27: 50)."""
    con, _ = lcl_store
    misplaced = con.execute("""
        SELECT count(*) FROM readings r LEFT JOIN reading_days d USING (household_id, local_date)
        WHERE d.kwh[r.slot + 1] IS DISTINCT FROM r.kwh""").fetchall()[0][0]
    assert misplaced == 0
    extra = con.execute("""
        SELECT count(*) FROM reading_days d LEFT JOIN local_calendar c USING (local_date)
        WHERE d.n_readings <> len(list_filter(d.kwh, lambda v: v IS NOT NULL))
           OR len(d.kwh) <> c.expected_slots OR d.slots <> c.expected_slots""").fetchall()[0][0]
    assert extra == 0
    assert con.execute("SELECT sum(n_readings), count(*) FROM reading_days").fetchall() == [
        con.execute("SELECT count(*), count(DISTINCT (household_id, local_date)) FROM readings").fetchall()[0]]
    assert sorted(con.execute("SELECT DISTINCT slots FROM reading_days WHERE local_date IN "
                              "('2013-03-31', '2013-10-27')").fetchall()) == [(46,), (50,)]
