"""reading_days: one row per household and local day, kept by ingest in the readings' transaction.

Known answers for Tokyo (48 slots) and London (46/50) days, days split over two files, re-
deliveries and ``--replace``, consent purges, withdrawals, crashes, the store rewrite, the
migration's backfill, and a property check on a synthetic cohort: every day row equals the
aggregation of that day's readings.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from meterrisk import ingest, store
from meterrisk.consent import withdraw
from meterrisk.ingest import days, loader
from meterrisk.store.compact import rewrite_store

from .helpers import day_lines, write_long, write_registry

COLUMNS = "household_id, local_date, slots, n_readings, kwh, file_ids, version"


def day_row(con, household: str, day: date) -> dict | None:
    rows = con.execute(f"SELECT {COLUMNS} FROM reading_days WHERE household_id = ? AND local_date = ?",
                       [household, day]).fetchall()
    assert len(rows) <= 1, f"{household} {day} has {len(rows)} day rows"
    return dict(zip(COLUMNS.split(", "), rows[0])) if rows else None


def all_days(con) -> dict[tuple[str, date], dict]:
    rows = con.execute(f"SELECT {COLUMNS} FROM reading_days").fetchall()
    out = {(r[0], r[1]): dict(zip(COLUMNS.split(", "), r)) for r in rows}
    assert len(out) == len(rows), "duplicate (household_id, local_date) in reading_days"
    return out


def expected_from_readings(con) -> dict[tuple[str, date], dict]:
    """The day rows recomputed in Python from readings + local_calendar (the reference)."""
    slots = dict(con.execute("SELECT local_date, expected_slots FROM local_calendar").fetchall())
    out: dict[tuple[str, date], dict] = {}
    for hid, day, slot, kwh, fid in con.execute(
            "SELECT household_id, local_date, slot, kwh, file_id FROM readings").fetchall():
        d = out.setdefault((hid, day), {"values": {}, "files": set()})
        d["values"][slot] = kwh
        d["files"].add(fid)
    for (hid, day), d in out.items():
        n = max(slots[day], max(d["values"]) + 1)
        d.update(slots=slots[day], n_readings=len(d["values"]), kwh=[d["values"].get(i) for i in range(n)],
                 file_ids=sorted(d["files"]))
    return out


def assert_days_match_readings(con) -> None:
    stored, expected = all_days(con), expected_from_readings(con)
    present = {k: v for k, v in stored.items() if v["n_readings"] > 0}
    assert present.keys() == expected.keys()
    for key, want in expected.items():
        got = present[key]
        assert (got["slots"], got["n_readings"], got["kwh"], got["file_ids"]) == (
            want["slots"], want["n_readings"], want["kwh"], want["file_ids"]), key
    for key, got in stored.items():
        if got["n_readings"] == 0:  # an emptied day: no values, no files
            assert key not in expected and got["kwh"] == [None] * got["slots"] and got["file_ids"] == []


# --- Tokyo: 48 slots, a missing slot is NULL, 0 kWh is 0.0 ---------------------------------

def test_tokyo_day_known_answer(registered, default_profile, tmp_path):
    values = [round(0.1 + i / 100, 2) for i in range(48)]
    values[7] = 0.0
    lines = [line for i, line in enumerate(day_lines("H1", "2025-03-10", values)) if i != 5]
    lines += day_lines("H1", "2025-03-11", [0.3, 0.0, 0.5])  # three half hours of the next day
    result = ingest.ingest_file(registered, write_long(tmp_path / "a.csv", lines), default_profile)
    assert result.rows_loaded == 50
    full = day_row(registered, "H1", date(2025, 3, 10))
    want = [None if i == 5 else values[i] for i in range(48)]
    assert (full["slots"], full["n_readings"], full["kwh"], full["file_ids"]) == (48, 47, want, [result.file_id])
    assert full["kwh"][7] == 0.0 and full["kwh"][5] is None  # DuckDB's element 8 / 6
    assert registered.execute("SELECT kwh[8], kwh[6] FROM reading_days WHERE local_date = '2025-03-10'"
                              ).fetchall() == [(0.0, None)]
    part = day_row(registered, "H1", date(2025, 3, 11))
    assert (part["slots"], part["n_readings"], part["kwh"]) == (48, 3, [0.3, 0.0, 0.5] + [None] * 45)
    assert full["version"] == part["version"] > 0  # one version per writing transaction
    assert_days_match_readings(registered)


def test_a_full_day_delivered_backwards_is_still_in_slot_order(registered, default_profile, tmp_path):
    values = [i / 100 for i in range(48)]
    lines = day_lines("H1", "2025-03-10", values)[::-1]
    ingest.ingest_file(registered, write_long(tmp_path / "a.csv", lines), default_profile)
    assert day_row(registered, "H1", date(2025, 3, 10))["kwh"] == values


def test_rejected_rows_make_no_day(registered, default_profile, tmp_path):
    lines = day_lines("H3", "2025-03-10", [0.1] * 4) + ["H1,2025-03-10T00:15:00+09:00,0.1"]  # no consent; off grid
    result = ingest.ingest_file(registered, write_long(tmp_path / "a.csv", lines), default_profile)
    assert result.rows_loaded == 0
    assert registered.execute("SELECT count(*) FROM reading_days").fetchall() == [(0,)]


# --- London: 46- and 50-slot days ------------------------------------------------------------

def london(tmp_path):
    con = store.connect(tmp_path / "london.duckdb", timezone="Europe/London")
    ingest.load_registry(con, write_registry(tmp_path / "h.csv"))
    return con, ingest.load_profile("default").with_overrides(timezone="UTC")


def utc_day_lines(household: str, day: date, zone: str, value=lambda i: i / 100) -> list[str]:
    """Every half hour of ``day`` in ``zone``, stamped in UTC, in elapsed order."""
    t = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
    lines, i = [], 0
    while t.astimezone(ZoneInfo(zone)).date() == day:
        lines.append(f"{household},{t:%Y-%m-%dT%H:%M}:00Z,{value(i)}")
        t, i = t + timedelta(minutes=30), i + 1
    return lines


def test_london_clock_change_days_have_46_and_50_slots(tmp_path):
    con, utc = london(tmp_path)
    spring, autumn = date(2025, 3, 30), date(2025, 10, 26)
    lines = utc_day_lines("H1", spring, "Europe/London") + utc_day_lines("H1", autumn, "Europe/London")
    # H2: only the repeated hour's second pass of the fall-back day: 01:00 and 01:30 GMT. Midnight
    # is 23:00Z (BST), so the first pass (01:00, 01:30 BST) is slots 2-3 and the second slots 4-5.
    lines += ["H2,2025-10-26T01:00:00Z,0.7", "H2,2025-10-26T01:30:00Z,0.0"]
    assert ingest.ingest_file(con, write_long(tmp_path / "l.csv", lines), utc).rows_loaded == 46 + 50 + 2
    short, long_ = day_row(con, "H1", spring), day_row(con, "H1", autumn)
    assert (short["slots"], short["n_readings"], short["kwh"]) == (46, 46, [i / 100 for i in range(46)])
    assert (long_["slots"], long_["n_readings"], long_["kwh"]) == (50, 50, [i / 100 for i in range(50)])
    second_pass = day_row(con, "H2", autumn)
    assert (second_pass["slots"], second_pass["n_readings"]) == (50, 2)
    assert con.execute("SELECT slot FROM readings WHERE household_id = 'H2' ORDER BY slot").fetchall() == [(4,), (5,)]
    assert second_pass["kwh"] == [None] * 4 + [0.7, 0.0] + [None] * 44
    assert_days_match_readings(con)


def test_wide_hh49_on_a_48_slot_day_is_quarantined_so_no_list_outgrows_its_day(registered, tmp_path):
    header = "household_id,date," + ",".join(f"hh{i:02d}" for i in range(1, 50))
    path = tmp_path / "w.csv"
    path.write_text(f"{header}\nH1,2025-03-10,{','.join(['0.1'] * 48)},0.9\n", encoding="utf-8")
    result = ingest.ingest_file(registered, path, ingest.load_profile("wide"))
    assert result.reasons == {"slot_outside_day": 1} and result.rows_loaded == 48
    row = day_row(registered, "H1", date(2025, 3, 10))
    assert (row["slots"], len(row["kwh"]), row["n_readings"]) == (48, 48, 48)


def test_a_reading_beyond_the_days_slots_still_gets_its_place(registered, default_profile, tmp_path):
    # Ingest cannot produce one (slots are elapsed time inside the day), but a reading written
    # by hand can: the list grows to hold it rather than drop it.
    ingest.ingest_file(registered, write_long(tmp_path / "a.csv", day_lines("H1", "2025-03-10", [0.2])),
                       default_profile)
    registered.execute("INSERT INTO readings VALUES ('H1', '2025-03-10 15:00', '2025-03-11 00:00', "
                       "'2025-03-10', 48, 0.4, 99)")
    days.note_changed(registered, "SELECT 'H1' AS household_id, DATE '2025-03-10' AS local_date")
    assert days.rebuild_changed(registered) == 1
    row = day_row(registered, "H1", date(2025, 3, 10))
    assert (row["slots"], row["n_readings"], len(row["kwh"]), row["kwh"][48], row["file_ids"]) == (48, 2, 49, 0.4, [1, 99])


# --- days over several files, redelivery, replace -------------------------------------------

def test_a_local_day_split_over_two_utc_day_files_holds_both(registered, default_profile, tmp_path):
    # Tokyo 2025-03-10 is 2025-03-09T15:00Z .. 2025-03-10T14:30Z: two UTC-day deliveries.
    def utc_day(day: str, hours: range) -> list[str]:
        return [f"H1,{day}T{h:02d}:{m:02d}:00Z,{(h * 2 + m // 30) / 100}" for h in hours for m in (0, 30)]
    first = ingest.ingest_file(registered, write_long(tmp_path / "0309.csv", utc_day("2025-03-09", range(24))),
                               default_profile)
    before = day_row(registered, "H1", date(2025, 3, 10))
    assert (before["n_readings"], before["file_ids"]) == (18, [first.file_id])  # 15:00Z-23:30Z = slots 0..17
    second = ingest.ingest_file(registered, write_long(tmp_path / "0310.csv", utc_day("2025-03-10", range(24))),
                                default_profile)
    after = day_row(registered, "H1", date(2025, 3, 10))
    assert (after["n_readings"], after["file_ids"]) == (48, [first.file_id, second.file_id])
    assert after["kwh"] == [((h + 15) % 24 * 2 + s) / 100 for h in range(24) for s in (0, 1)]
    assert after["version"] > before["version"]
    assert_days_match_readings(registered)


def test_new_content_at_the_same_path_updates_only_the_days_it_adds_to(registered, default_profile, tmp_path):
    path = tmp_path / "h1.csv"
    ingest.ingest_file(registered, write_long(path, day_lines("H1", "2025-03-10", [0.1] * 48)
                                              + day_lines("H1", "2025-03-11", [0.2] * 10)), default_profile)
    v10, v11 = (day_row(registered, "H1", date(2025, 3, d))["version"] for d in (10, 11))
    # Again with day 10 unchanged, 11 completed, and one conflicting value on day 10 (stored value kept).
    lines = day_lines("H1", "2025-03-10", [0.1] * 47 + [0.9]) + day_lines("H1", "2025-03-11", [0.2] * 48)
    result = ingest.ingest_file(registered, write_long(path, lines), default_profile)
    assert (result.rows_loaded, result.reasons) == (38, {"conflicts_stored_value": 1})
    d10, d11 = (day_row(registered, "H1", date(2025, 3, d)) for d in (10, 11))
    assert d10["version"] == v10 and d10["kwh"] == [0.1] * 48            # nothing loaded there
    assert d11["version"] > v11 and (d11["n_readings"], d11["kwh"]) == (48, [0.2] * 48)
    assert d11["file_ids"] == [1, result.file_id]
    assert_days_match_readings(registered)


def test_replace_rebuilds_its_days_and_empties_the_ones_it_no_longer_has(registered, default_profile, tmp_path):
    path = tmp_path / "h1.csv"
    old = ingest.ingest_file(registered, write_long(path, day_lines("H1", "2025-03-10", [0.1] * 48)
                                                    + day_lines("H1", "2025-03-11", [0.2] * 48)
                                                    + day_lines("H2", "2025-03-11", [0.3] * 48)), default_profile)
    other = ingest.ingest_file(registered, write_long(tmp_path / "h2.csv", day_lines("H2", "2025-03-12", [0.4] * 4)),
                               default_profile)
    before = all_days(registered)
    new = ingest.ingest_file(registered, write_long(path, day_lines("H1", "2025-03-10", [0.5] * 48)),
                             default_profile, replace=True)
    assert new.rows_loaded == 48
    d10, d11, h2 = (day_row(registered, h, date(2025, 3, d)) for h, d in (("H1", 10), ("H1", 11), ("H2", 11)))
    assert (d10["n_readings"], d10["kwh"], d10["file_ids"]) == (48, [0.5] * 48, [new.file_id])
    for emptied in (d11, h2):
        assert (emptied["slots"], emptied["n_readings"], emptied["kwh"], emptied["file_ids"]) == (48, 0, [None] * 48, [])
    assert d10["version"] == d11["version"] == h2["version"] > before[("H1", date(2025, 3, 10))]["version"]
    assert day_row(registered, "H2", date(2025, 3, 12)) == before[("H2", date(2025, 3, 12))]  # another file's day
    assert other.file_id not in d10["file_ids"]
    # The emptied day comes back when a later file brings readings for it.
    back = ingest.ingest_file(registered, write_long(tmp_path / "late.csv", day_lines("H1", "2025-03-11", [0.0])),
                              default_profile)
    d11_back = day_row(registered, "H1", date(2025, 3, 11))
    assert (d11_back["n_readings"], d11_back["kwh"][:2], d11_back["file_ids"]) == (1, [0.0, None], [back.file_id])
    assert d11_back["version"] > d11["version"]
    assert_days_match_readings(registered)


# --- deletions outside ingest ------------------------------------------------------------------

def test_registry_consent_purge_empties_the_days_it_deletes(registered, default_profile, tmp_path):
    lines = day_lines("H1", "2025-03-10", [0.1] * 48) + day_lines("H1", "2025-03-20", [0.2] * 48)
    lines += day_lines("H2", "2025-03-10", [0.3] * 48)
    ingest.ingest_file(registered, write_long(tmp_path / "a.csv", lines), default_profile)
    before = all_days(registered)
    rows = ["H1,1945,true,2025-03-15,,false,false,North",  # consent now starts later
            "H2,1950,true,2025-01-01,,false,true,South"]
    result = ingest.load_registry(registered, write_registry(tmp_path / "later.csv", rows), today=date(2025, 4, 1))
    assert result.readings_purged == 48
    gone = day_row(registered, "H1", date(2025, 3, 10))
    assert (gone["n_readings"], gone["kwh"], gone["file_ids"]) == (0, [None] * 48, [])
    assert gone["version"] > before[("H1", date(2025, 3, 10))]["version"]
    for key in [("H1", date(2025, 3, 20)), ("H2", date(2025, 3, 10))]:
        assert all_days(registered)[key] == before[key]  # untouched days keep their version
    assert_days_match_readings(registered)


def test_withdrawal_deletes_the_households_day_rows(registered, default_profile, tmp_path):
    lines = day_lines("H1", "2025-03-10", [0.1] * 48) + day_lines("H2", "2025-03-10", [0.3] * 48)
    ingest.ingest_file(registered, write_long(tmp_path / "a.csv", lines), default_profile)
    report = withdraw(registered, "H1", on=date(2025, 3, 11))
    assert report.rows_deleted["reading_days"] == 1
    assert registered.execute("SELECT DISTINCT household_id FROM reading_days").fetchall() == [("H2",)]


# --- all or nothing ------------------------------------------------------------------------------

def test_a_failure_before_commit_leaves_readings_and_days_unchanged(registered, default_profile, tmp_path, monkeypatch):
    ingest.ingest_file(registered, write_long(tmp_path / "a.csv", day_lines("H1", "2025-03-10", [0.1] * 10)),
                       default_profile)
    readings = registered.execute("SELECT * FROM readings ORDER BY ts_utc").fetchall()
    day_rows = all_days(registered)

    def boom(*args, **kwargs):
        raise RuntimeError("crash after the day rows were written")
    monkeypatch.setattr(loader, "_record", boom)
    with pytest.raises(RuntimeError):
        ingest.ingest_file(registered, write_long(tmp_path / "b.csv", day_lines("H1", "2025-03-10", [0.1] * 48)),
                           default_profile)
    assert registered.execute("SELECT * FROM readings ORDER BY ts_utc").fetchall() == readings
    assert all_days(registered) == day_rows


def test_the_store_rewrite_keeps_day_rows_and_carries_the_version_on(tmp_path, default_profile):
    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    ingest.load_registry(con, write_registry(tmp_path / "h.csv"), today=date(2025, 4, 1))
    ingest.ingest_file(con, write_long(tmp_path / "a.csv", day_lines("H1", "2025-03-10", [0.1] * 48)), default_profile)
    before = all_days(con)
    rewrite_store(con, db)
    con = store.connect(db)
    assert all_days(con) == before
    result = ingest.ingest_file(con, write_long(tmp_path / "b.csv", day_lines("H1", "2025-03-11", [0.1])),
                                default_profile)
    assert result.rows_loaded == 1
    assert day_row(con, "H1", date(2025, 3, 11))["version"] > max(d["version"] for d in before.values())
    con.close()


# --- the migration's backfill -----------------------------------------------------------------

def test_migration_backfills_what_the_writer_would_have_written(tmp_path):
    con, utc = london(tmp_path)
    lines = utc_day_lines("H1", date(2025, 10, 26), "Europe/London")[3:] + utc_day_lines("H2", date(2025, 3, 30),
                                                                                          "Europe/London")
    ingest.ingest_file(con, write_long(tmp_path / "a.csv", lines), utc)
    written = {k: {c: v for c, v in row.items() if c != "version"} for k, row in all_days(con).items()}
    # A store from before V0004: no day table; migrating builds it from the readings.
    con.execute("DROP TABLE reading_days; DROP SEQUENCE reading_days_version; "
                "DELETE FROM schema_migrations WHERE version = 4")
    store.migrate(con)
    backfilled = all_days(con)
    assert {k: {c: v for c, v in row.items() if c != "version"} for k, row in backfilled.items()} == written
    assert {row["version"] for row in backfilled.values()} == {1}
    assert_days_match_readings(con)


# --- property: the synthetic cohort ---------------------------------------------------------------

@pytest.fixture(scope="module")
def cohort_store(tmp_path_factory):
    from meterrisk import synth
    out = tmp_path_factory.mktemp("days")
    synth.generate(out / "c", households=12, days=20, start=date(2025, 3, 1), seed=5, layout="csv", faults=0.3)
    con = store.connect(out / "s.duckdb")
    ingest.load_registry(con, out / "c" / "households.csv")
    ingest.ingest_paths(con, [out / "c" / "readings"], ingest.load_profile("default"))
    yield con
    con.close()


def test_every_cohort_day_row_is_the_aggregation_of_its_readings(cohort_store):
    con = cohort_store
    assert con.execute("SELECT count(*) FROM readings").fetchall()[0][0] > 10_000
    assert_days_match_readings(con)
    # The same, in SQL users' terms: sums and counts per household-day agree.
    diff = con.execute("""
        SELECT count(*) FROM (SELECT household_id, local_date, count(*) AS n, sum(kwh) AS s FROM readings GROUP BY ALL) r
        FULL JOIN (SELECT household_id, local_date, n_readings AS n, list_sum(kwh) AS s FROM reading_days) d
        USING (household_id, local_date)
        WHERE r.n IS DISTINCT FROM d.n OR abs(r.s - d.s) > 1e-9""").fetchall()[0][0]
    assert diff == 0
    zeros = con.execute("SELECT count(*) FROM readings WHERE kwh = 0").fetchall()[0][0]
    assert zeros == con.execute("SELECT coalesce(sum(len(list_filter(kwh, lambda v: v = 0))), 0) "
                                "FROM reading_days").fetchall()[0][0]
    assert not math.isnan(con.execute("SELECT sum(list_sum(kwh)) FROM reading_days").fetchall()[0][0])


def test_polars_reads_the_day_table_as_fixed_length_days(cohort_store):
    frame = cohort_store.sql("SELECT * FROM reading_days").pl()
    assert frame.schema["kwh"] == pl.List(pl.Float64)
    assert (frame["kwh"].list.len() == frame["slots"]).all()


def test_rebuild_all_brings_hand_written_readings_in(registered, default_profile, tmp_path):
    ingest.ingest_file(registered, write_long(tmp_path / "a.csv", day_lines("H1", "2025-03-10", [0.1] * 48)),
                       default_profile)
    registered.execute("DELETE FROM readings WHERE slot < 40")  # by hand: no day row follows
    registered.execute("INSERT INTO readings VALUES ('H2', '2025-03-31 15:00', '2025-04-01 00:00', "
                       "'2025-04-01', 0, 0.0, 7)")  # a date the calendar does not have yet
    assert days.rebuild_all(registered) == 2
    h2 = day_row(registered, "H2", date(2025, 4, 1))
    assert (h2["slots"], h2["n_readings"], h2["kwh"][:2], h2["file_ids"]) == (48, 1, [0.0, None], [7])  # slots: the zone's
    assert day_row(registered, "H1", date(2025, 3, 10))["kwh"] == [None] * 40 + [0.1] * 8
