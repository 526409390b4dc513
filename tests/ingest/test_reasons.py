"""One test per reason code: the row is quarantined with that code and a message naming the value."""

import pytest

from meterrisk import ingest

from .helpers import counts, write_long

CASES = [
    ("H1,2025-04-01T00:00:00+09:00,0.1,extra", "malformed_line", "4 fields"),
    (",2025-04-01T00:00:00+09:00,0.1", "missing_household_id", "empty"),
    ("H1,yesterday,0.1", "bad_timestamp", "'yesterday'"),
    ("H1,2025-04-01T00:17:00+09:00,0.1", "off_grid_time", "00:17"),
    ("H1,2025-04-01T00:00:00+09:00,abc", "non_numeric_value", "'abc'"),
    ("H1,2025-04-01T00:00:00+09:00,nan", "non_numeric_value", "'nan'"),
    ("H1,2025-04-01T00:00:00+09:00,-0.2", "negative_value", "-0.2"),
    ("H1,2025-04-01T00:00:00+09:00,55", "implausible_value", "55"),
]


@pytest.mark.parametrize("line,code,quoted", CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)])
def test_reason_code(registered, default_profile, tmp_path, line, code, quoted):
    path = write_long(tmp_path / "in.csv", ["H1,2025-04-01T01:00:00+09:00,0.3", line])
    result = ingest.ingest_file(registered, path, default_profile)
    assert result.reasons == {code: 1}
    assert result.rows_loaded == 1 and result.balanced
    line_no, got, message, raw = registered.execute(
        "SELECT line_number, reason_code, message, raw_line FROM quarantine").fetchall()[0]
    assert (line_no, got, raw) == (3, code, line)
    assert quoted in message


def test_negative_value_is_a_reading_for_a_solar_home(registered, default_profile, tmp_path):
    path = write_long(tmp_path / "in.csv", ["H2,2025-04-01T12:00:00+09:00,-0.4"])
    result = ingest.ingest_file(registered, path, default_profile)
    assert (result.rows_loaded, result.reasons) == (1, {})


def test_conflicting_duplicate_quarantines_every_copy(registered, default_profile, tmp_path):
    path = write_long(tmp_path / "in.csv", ["H1,2025-04-01T00:00:00+09:00,0.1",
                                            "H1,2025-04-01T00:00:00+09:00,0.2",
                                            "H1,2025-04-01T00:30:00+09:00,0.1",
                                            "H1,2025-04-01T00:30:00+09:00,0.1"])
    result = ingest.ingest_file(registered, path, default_profile)
    assert result.reasons == {"conflicting_duplicate": 2}
    assert (result.rows_loaded, result.rows_duplicate) == (1, 1)
    assert counts(registered, result.file_id)["read"] == 4


def test_nonexistent_and_ambiguous_local_times(tmp_path):
    from meterrisk import store

    con = store.connect(tmp_path / "london.duckdb", timezone="Europe/London")
    from .helpers import write_registry
    ingest.load_registry(con, write_registry(tmp_path / "h.csv"))
    profile = ingest.load_profile("default").with_overrides(timezone="Europe/London")
    path = write_long(tmp_path / "in.csv", ["H1,2025-03-30 01:30:00,0.1",   # clocks jump 01:00 -> 02:00
                                            "H1,2025-10-26 01:30:00,0.1",   # 01:00-02:00 happens twice
                                            "H1,2025-10-26 01:30:00+01:00,0.1",
                                            "H1,2025-10-26 01:30:00+00:00,0.2"])
    result = ingest.ingest_file(con, path, profile)
    assert result.reasons == {"nonexistent_local_time": 1, "ambiguous_local_time": 1}
    assert result.rows_loaded == 2  # with offsets the same wall time is two different half hours
    slots = con.execute("SELECT slot FROM readings ORDER BY ts_utc").fetchall()
    assert slots == [(3,), (5,)]  # 00:00, 00:30, 01:00 BST, 01:30 BST, 01:00 GMT, 01:30 GMT


def test_future_readings_are_quarantined_and_do_not_move_the_latest_date(registered, default_profile, tmp_path,
                                                                       monkeypatch):
    from datetime import datetime, timezone

    from meterrisk.ingest import parse

    monkeypatch.setattr(parse, "utc_now", lambda: datetime(2025, 4, 1, 12, 0, tzinfo=timezone.utc))
    path = write_long(tmp_path / "in.csv", [
        "H1,2025-04-01T00:00:00+09:00,0.1",
        "H1,2025-04-02T21:00:00+09:00,0.1",   # 12:00 UTC tomorrow: exactly now + 1 day, kept
        "H1,2025-04-02T21:30:00+09:00,0.1",   # beyond now + 1 day
        "H1,2031-01-01T00:00:00+09:00,0.1",
    ])
    result = ingest.ingest_file(registered, path, default_profile)
    assert result.reasons == {"future_time": 2} and result.rows_loaded == 2 and result.balanced
    assert registered.execute("SELECT max(local_date)::VARCHAR FROM readings").fetchall() == [("2025-04-02",)]
    messages = [m for (m,) in registered.execute("SELECT message FROM quarantine ORDER BY line_number").fetchall()]
    assert "'2031-01-01T00:00:00+09:00'" in messages[1] and "2025-04-01 12:00 UTC" in messages[1]


def test_a_2031_reading_is_in_the_future_today(registered, default_profile, tmp_path):
    path = write_long(tmp_path / "in.csv", ["H1,2025-04-01T00:00:00+09:00,0.1", "H1,2031-06-01T00:00:00+09:00,0.1"])
    result = ingest.ingest_file(registered, path, default_profile)
    assert result.reasons == {"future_time": 1}
    assert registered.execute("SELECT max(local_date)::VARCHAR FROM readings").fetchall() == [("2025-04-01",)]
