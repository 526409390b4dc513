"""Profile options for real exports: the household id from the path or a constant, a clock offset.

Real exports (see ../shared/REAL_EXPORTS.md) come as one folder per household with the id
only in the folder name, headerless, with a redundant hour column, in Wh, with CRLF line
endings, and some vendors stamp every half hour at :25/:55.
"""

from datetime import datetime, timedelta, timezone

import polars as pl
import pytest

from meterrisk import ingest
from meterrisk.errors import MeterriskError

from .helpers import write_long

T0 = datetime(2025, 4, 1)  # naive Tokyo time; every test household consented on 2025-01-01


def profile_file(tmp_path, text: str, name: str = "p.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return ingest.load_profile(path)


HEADERLESS_BY_FOLDER = """
layout = "long"
header = false
unit = "Wh"
id_from_path = "{household_id}/{_}.csv"
[columns]
ts = 1
kwh = 3
"""


def headerless_month(household_wh: int, *, minutes: int = 0, n: int = 48) -> bytes:
    """``ts,hour_of_day,Wh`` CRLF lines, no header, no household id (it is in the folder name)."""
    lines = []
    for i in range(n):
        t = T0 + timedelta(minutes=30 * i + minutes)
        lines.append(f"{t:%Y-%m-%d %H:%M},{t.hour + t.minute / 60:.1f},{household_wh * (i % 3)}")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_household_id_from_the_folder_of_headerless_crlf_wh_files(registered, tmp_path):
    root = tmp_path / "export"
    for hid, wh in (("H1", 10), ("H2", 20)):
        (root / hid).mkdir(parents=True)
        (root / hid / "201706.csv").write_bytes(headerless_month(wh))
    profile = profile_file(tmp_path, HEADERLESS_BY_FOLDER)
    results = ingest.ingest_paths(registered, [root], profile)
    assert [(r.status, r.rows_read, r.rows_loaded) for r in results] == [("loaded", 48, 48)] * 2
    rows = registered.execute("SELECT household_id, count(*), round(sum(kwh), 6), min(slot), max(slot) "
                              "FROM readings GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("H1", 48, 0.48, 0, 47), ("H2", 48, 0.96, 0, 47)]


def test_identical_bytes_for_two_households_are_two_deliveries(registered, tmp_path):
    """With the id only in the path, the same bytes in two folders are two homes' readings."""
    root = tmp_path / "export"
    for hid in ("H1", "H2"):
        (root / hid).mkdir(parents=True)
        (root / hid / "201706.csv").write_bytes(headerless_month(0))  # e.g. two empty homes: all zeros
    results = ingest.ingest_paths(registered, [root], profile_file(tmp_path, HEADERLESS_BY_FOLDER))
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert registered.execute("SELECT household_id, count(*) FROM readings GROUP BY 1 ORDER BY 1").fetchall() == [
        ("H1", 48), ("H2", 48)]
    again = ingest.ingest_paths(registered, [root], profile_file(tmp_path, HEADERLESS_BY_FOLDER))
    assert [r.status for r in again] == ["already_ingested", "already_ingested"]


def test_a_path_the_pattern_does_not_match_fails_with_both_named(registered, tmp_path):
    flat = tmp_path / "201706.csv"
    flat.write_bytes(headerless_month(10))
    (result,) = ingest.ingest_paths(registered, [tmp_path / "201706.csv"], profile_file(tmp_path, HEADERLESS_BY_FOLDER))
    assert result.status == "failed"
    assert "does not match id_from_path '{household_id}/{_}.csv'" in result.message
    assert str(flat) in result.message
    assert registered.execute("SELECT count(*) FROM readings").fetchall() == [(0,)]


def test_pattern_matches_the_whole_path_relative_to_the_folder_given(registered, tmp_path, monkeypatch):
    """Relative to the folder given, so a folder above the household folders never becomes an id."""
    (tmp_path / "deliveries" / "H2").mkdir(parents=True)
    (tmp_path / "deliveries" / "H2" / "201706.csv").write_bytes(headerless_month(10))
    profile = profile_file(tmp_path, HEADERLESS_BY_FOLDER)
    monkeypatch.chdir(tmp_path)
    (wrong,) = ingest.ingest_paths(registered, ["deliveries/H2/201706.csv"], profile)
    assert wrong.status == "failed" and "meterrisk ingest export/" in wrong.message
    monkeypatch.chdir(tmp_path / "deliveries")
    (result,) = ingest.ingest_paths(registered, ["H2/201706.csv"], profile)
    assert result.rows_loaded == 48
    assert registered.execute("SELECT DISTINCT household_id FROM readings").fetchall() == [("H2",)]


def test_constant_household_id_for_a_one_home_export(registered, tmp_path):
    profile = profile_file(tmp_path, 'layout = "long"\nhousehold_id_constant = "H1"\n[columns]\nts = "time"\nkwh = "kWh"\n')
    path = write_long(tmp_path / "home.csv", ["2025-04-01 00:00,0.1", "2025-04-01 00:30,0.2"], header="time,kWh")
    assert ingest.ingest_file(registered, path, profile).rows_loaded == 2
    assert registered.execute("SELECT DISTINCT household_id FROM readings").fetchall() == [("H1",)]


@pytest.mark.parametrize("offset, first", [(5, ("00:30", 1)), (-25, ("00:00", 0))])
def test_ts_offset_minutes_is_added_to_every_stamp(registered, tmp_path, offset, first):
    """Stamps at :25/:55: +5 reads 00:25 as the half hour starting 00:30, -25 as the one starting 00:00."""
    profile = profile_file(tmp_path, HEADERLESS_BY_FOLDER + "").with_overrides(ts_offset_minutes=offset)
    (tmp_path / "x" / "H1").mkdir(parents=True)
    (tmp_path / "x" / "H1" / "201706.csv").write_bytes(headerless_month(10, minutes=25, n=4))
    (result,) = ingest.ingest_paths(registered, [tmp_path / "x"], profile)
    assert (result.rows_loaded, result.reasons) == (4, {})
    got = registered.execute("SELECT strftime(local_ts, '%H:%M'), slot FROM readings ORDER BY ts_utc").fetchall()
    assert got[0] == first and [s for _, s in got] == [first[1] + i for i in range(4)]


def test_without_the_offset_25_55_stamps_are_off_grid(registered, tmp_path):
    (tmp_path / "x" / "H1").mkdir(parents=True)
    (tmp_path / "x" / "H1" / "201706.csv").write_bytes(headerless_month(10, minutes=25, n=4))
    (result,) = ingest.ingest_paths(registered, [tmp_path / "x"], profile_file(tmp_path, HEADERLESS_BY_FOLDER))
    assert result.reasons == {"off_grid_time": 4}


def test_parquet_with_id_from_path_and_offset(registered, tmp_path):
    ts = [datetime(2025, 3, 31, 15, 25, tzinfo=timezone.utc) + timedelta(minutes=30 * i) for i in range(4)]
    (tmp_path / "x" / "H2").mkdir(parents=True)
    pl.DataFrame({"ts": ts, "wh": [100, 200, 300, 400]}).write_parquet(tmp_path / "x" / "H2" / "2025-04.parquet")
    profile = profile_file(tmp_path, 'unit = "Wh"\nid_from_path = "{household_id}/{_}.parquet"\n'
                                     'ts_offset_minutes = 5\n[columns]\nts = "ts"\nkwh = "wh"\n')
    (result,) = ingest.ingest_paths(registered, [tmp_path / "x"], profile)
    assert (result.rows_loaded, result.reasons) == (4, {})
    assert registered.execute("SELECT household_id, strftime(local_ts, '%H:%M'), kwh FROM readings "
                              "ORDER BY ts_utc LIMIT 1").fetchall() == [("H2", "00:30", 0.1)]


def test_register_layout_with_id_from_path_and_offset(registered, tmp_path):
    (tmp_path / "x" / "H1").mkdir(parents=True)
    lines = [f"{T0 + timedelta(minutes=30 * i - 5):%Y-%m-%d %H:%M},{100 + i * 0.25}" for i in range(4)]
    write_long(tmp_path / "x" / "H1" / "r.csv", lines, header="time,index")
    profile = profile_file(tmp_path, 'layout = "register"\nid_from_path = "{household_id}/{_}"\n'
                                     'ts_offset_minutes = 5\n[columns]\nts = "time"\nregister = "index"\n')
    (result,) = ingest.ingest_paths(registered, [tmp_path / "x"], profile)
    assert result.reasons == {"register_baseline": 1} and result.rows_loaded == 3
    assert registered.execute("SELECT household_id, slot, kwh FROM readings ORDER BY slot").fetchall() == [
        ("H1", 0, 0.25), ("H1", 1, 0.25), ("H1", 2, 0.25)]


@pytest.mark.parametrize("text, message", [
    ('id_from_path = "{_}.csv"\n[columns]\nts = "t"\nkwh = "k"\n', "needs {household_id} once"),
    ('id_from_path = "{household_id}/{month}.csv"\n[columns]\nts = "t"\nkwh = "k"\n', "unknown placeholder {month}"),
    ('id_from_path = "{household_id}/{_}.csv"\n[columns]\nhousehold_id = "h"\nts = "t"\nkwh = "k"\n',
     "takes the household id from one place"),
    ('id_from_path = "{household_id}/{_}.csv"\nhousehold_id_constant = "H1"\n[columns]\nts = "t"\nkwh = "k"\n',
     "takes the household id from one place"),
    ('household_id_constant = ""\n[columns]\nts = "t"\nkwh = "k"\n', "household_id_constant must not be empty"),
    ('[columns]\nts = "t"\nkwh = "k"\n', "missing ['household_id']"),
    ('ts_offset_minutes = 2.5\n[columns]\nhousehold_id = "h"\nts = "t"\nkwh = "k"\n', "whole number of minutes"),
    ('ts_offset_minutes = 1440\n[columns]\nhousehold_id = "h"\nts = "t"\nkwh = "k"\n', "whole number of minutes"),
    ('layout = "wide"\nts_offset_minutes = 5\n[columns]\nhousehold_id = "h"\ndate = "d"\n', "no timestamps"),
])
def test_bad_profile_options_are_one_clear_line(tmp_path, text, message):
    with pytest.raises(MeterriskError) as info:
        profile_file(tmp_path, text)
    assert message in str(info.value) and "\n" not in str(info.value)
