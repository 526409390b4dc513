"""Wide and register layouts, Parquet, encodings, compressed files and unreadable files."""

import gzip
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

from meterrisk import ingest, store

from .helpers import write_long, write_registry

WIDE_HEADER = "household_id,date," + ",".join(f"hh{i:02d}" for i in range(1, 51))


def _wide_line(household, day, values):
    cells = [("" if v is None else str(v)) for v in values] + [""] * (50 - len(values))
    return f"{household},{day}," + ",".join(cells)


def test_wide_layout_on_clock_change_days(tmp_path):
    con = store.connect(tmp_path / "s.duckdb", timezone="Europe/London")
    ingest.load_registry(con, write_registry(tmp_path / "h.csv"))
    profile = ingest.load_profile("wide").with_overrides(timezone="Europe/London")
    lines = [
        _wide_line("H1", "2025-03-30", [0.1] * 46),          # spring forward: 46 half hours
        _wide_line("H1", "2025-10-26", [0.0] * 50),          # fall back: 50, zeros are readings
        _wide_line("H1", "2025-06-01", [0.2] * 20 + [None] * 4 + [0.2] * 24),  # empty cells are gaps
        _wide_line("H1", "2025-06-02", [0.2] * 49),          # hh49 on a 48-slot day
        _wide_line("H1", "2025-13-40", [0.2] * 48),
    ]
    path = write_long(tmp_path / "wide.csv", lines, header=WIDE_HEADER)
    result = ingest.ingest_file(con, path, profile)
    assert result.reasons == {"slot_outside_day": 1, "bad_date": 48}
    assert result.rows_loaded == 46 + 50 + 44 + 48 and result.balanced
    q = dict(con.execute("SELECT local_date::VARCHAR, present_slots FROM household_day_quality "
                         "WHERE present_slots > 0").fetchall())
    assert q == {"2025-03-30": 46, "2025-10-26": 50, "2025-06-01": 44, "2025-06-02": 48}
    # 2025-03-30: hh03 is the third half hour after midnight = 02:00 BST (01:00 UTC).
    assert con.execute("SELECT strftime(local_ts, '%H:%M'), slot FROM readings "
                       "WHERE local_date = '2025-03-30' ORDER BY slot LIMIT 3").fetchall() == [
        ("00:00", 0), ("00:30", 1), ("02:00", 2)]
    assert con.execute("SELECT expected_slots FROM local_calendar WHERE local_date = '2025-10-26'").fetchall() == [(50,)]


def _register_lines(household, start, values, step=30):
    t0 = datetime.fromisoformat(start)
    return [f"{household},{(t0 + timedelta(minutes=step * i)).isoformat()},{v}" for i, v in enumerate(values)]


def test_register_layout_turns_indexes_into_use_and_reports_resets_and_rollovers(registered, tmp_path):
    profile = ingest.load_profile("register")
    series = [99999.5, 99999.9, 0.3, 0.5, 0.2, 0.4, 0.4]     # rollover after 2nd, reset at 0.2
    lines = _register_lines("H1", "2025-04-01T00:00:00+09:00", series)
    lines += _register_lines("H1", "2025-04-01T06:00:00+09:00", [10.0, 10.5])  # after a gap
    path = write_long(tmp_path / "reg.csv", lines, header="household_id,ts,register_kwh")
    result = ingest.ingest_file(registered, path, profile)
    assert result.reasons == {"register_baseline": 1, "meter_reset": 1, "register_gap": 1}
    assert result.rollovers == 1 and result.balanced and result.needs_attention
    use = registered.execute("SELECT slot, round(kwh, 6) FROM readings ORDER BY slot").fetchall()
    assert use == [(0, 0.4), (1, 0.4), (2, 0.2), (4, 0.2), (5, 0.0), (12, 0.5)]
    assert min(kwh for _, kwh in use) >= 0


def test_parquet_with_typed_timestamps(registered, default_profile, tmp_path):
    ts = [datetime(2025, 3, 31, 15, 0, tzinfo=timezone.utc) + timedelta(minutes=30 * i) for i in range(48)]
    frame = pl.DataFrame({"household_id": ["H1"] * 48, "ts": ts, "kwh": [0.1] * 47 + [-1.0]})
    path = tmp_path / "r.parquet"
    frame.write_parquet(path)
    result = ingest.ingest_file(registered, path, default_profile)
    assert (result.rows_loaded, result.reasons) == (47, {"negative_value": 1})
    assert registered.execute("SELECT raw_line FROM quarantine").fetchall()[0][0].startswith("H1,2025-04-01 14:30")
    assert registered.execute("SELECT min(local_date)::VARCHAR, min(slot), max(slot) FROM readings").fetchall() == [
        ("2025-04-01", 0, 46)]


def test_shift_jis_export_in_wh_with_japanese_headers(registered, tmp_path):
    path = write_long(tmp_path / "jp.csv", ["H1,2025/04/01 0:00,120", "H1,2025/04/01 0:30, 80 "],
                      header="お客様番号,日時,使用量(Wh)", encoding="cp932")
    result = ingest.ingest_file(registered, path, ingest.load_profile("jp_cp932"))
    assert result.rows_loaded == 2
    assert registered.execute("SELECT kwh FROM readings ORDER BY ts_utc").fetchall() == [(0.12,), (0.08,)]


def test_gzip_csv_is_read(registered, default_profile, tmp_path):
    path = tmp_path / "r.csv.gz"
    path.write_bytes(gzip.compress(b"household_id,ts,kwh\nH1,2025-04-01T00:00:00+09:00,0.1\n"))
    assert ingest.ingest_file(registered, path, default_profile).rows_loaded == 1


@pytest.mark.parametrize("name,content,expect", [
    ("bad_encoding.csv", "household_id,ts,kwh\nH1,2025-04-01T00:00:00+09:00,0.1\n".encode() + "H1,日時,1\n".encode("cp932"),
     ["line 3 is not valid utf-8", "expected text encoded as utf-8"]),
    ("columns.csv", b"id,time,value\nH1,2025-04-01T00:00:00+09:00,0.1\n",
     ["no column 'household_id'", "found ['id', 'time', 'value']"]),
    ("truncated.csv.gz", gzip.compress(b"household_id,ts,kwh\n" + b"H1,2025-04-01T00:00:00+09:00,0.1\n" * 2000)[:150],
     ["gzip stream is truncated"]),
    ("empty.csv", b"", ["the file is empty"]),
    ("broken.parquet", b"PAR1" + b"\0" * 40, ["not a readable Parquet file"]),
])
def test_unreadable_files_fail_cleanly_with_file_and_expectation(registered, default_profile, tmp_path, name, content, expect):
    path = tmp_path / name
    path.write_bytes(content)
    result = ingest.ingest_file(registered, path, default_profile)
    assert result.status == "failed"
    assert str(path) in result.message
    for text in expect:
        assert text in result.message
    assert registered.execute("SELECT count(*) FROM readings").fetchall() == [(0,)]
    assert registered.execute("SELECT status, message FROM ingest_files").fetchall() == [("failed", result.message)]


def test_failed_file_loads_once_fixed(registered, default_profile, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"id,ts,kwh\nH1,2025-04-01T00:00:00+09:00,0.1\n")
    assert ingest.ingest_file(registered, path, default_profile).status == "failed"
    path.write_bytes(b"household_id,ts,kwh\nH1,2025-04-01T00:00:00+09:00,0.1\n")
    assert ingest.ingest_file(registered, path, default_profile).status == "loaded"


def test_profile_file_with_positions_and_no_header(registered, tmp_path):
    toml = tmp_path / "utility.toml"
    toml.write_text('layout = "long"\nheader = false\ndelimiter = ";"\ndecimal = ","\nunit = "Wh"\n'
                    '[columns]\nhousehold_id = 2\nts = 1\nkwh = 3\n', encoding="utf-8")
    path = tmp_path / "u.csv"
    path.write_text("2025-04-01 00:00;H1;1 250,5\n2025-04-01 00:30;H1;0,0\n", encoding="utf-8")
    result = ingest.ingest_file(registered, path, ingest.load_profile(toml))
    assert result.rows_loaded == 2
    assert registered.execute("SELECT kwh FROM readings ORDER BY ts_utc").fetchall() == [(1.2505,), (0.0,)]


def test_unknown_profile_and_bad_profile_keys_say_what_is_allowed(tmp_path):
    from meterrisk.errors import MeterriskError

    with pytest.raises(MeterriskError) as info:
        ingest.load_profile("nope")
    assert "lcl" in info.value.hint
    bad = tmp_path / "bad.toml"
    bad.write_text('layout = "long"\ncolour = "red"\n[columns]\nhousehold_id="a"\nts="b"\nkwh="c"\n')
    with pytest.raises(MeterriskError, match="unknown keys \\['colour'\\]"):
        ingest.load_profile(bad)


def test_register_consent_covers_the_closing_index_of_the_last_consented_half_hour(registered, tmp_path):
    # H4 withdrew on 2025-04-02: the index at 00:00 on that day closes 23:30-00:00 of the 1st.
    lines = _register_lines("H4", "2025-04-01T23:00:00+09:00", [5.0, 5.2, 5.5, 5.9])
    path = write_long(tmp_path / "reg.csv", lines, header="household_id,ts,register_kwh")
    result = ingest.ingest_file(registered, path, ingest.load_profile("register"))
    assert result.balanced and result.reasons == {"register_baseline": 1}
    assert registered.execute("SELECT strftime(local_ts, '%H:%M'), round(kwh, 6) FROM readings ORDER BY ts_utc").fetchall() == [
        ("23:00", 0.2), ("23:30", 0.3)]
    assert result.rows_rejected_consent == 1  # the 00:30 index: both its half hours are on the 2nd
