"""One local zone per store: a profile for homes in another zone is refused, not shifted.

A store keeps local dates and slots in its zone (``settings.timezone``). A Sydney 00:00
reading loaded into a Tokyo store would land at 22:00 of the previous day, and every day
would have 48 slots, so ingest refuses it; UTC-stamped exports are fine in any store whose
zone is the homes' zone (``local_timezone``), or in any store when the profile names none.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from meterrisk import ingest, store
from meterrisk.cli import main
from meterrisk.errors import MeterriskError

from .helpers import write_long, write_registry

LCL_LINES = ["MAC1,2013-10-27 00:00:00.0000000, 0.219 ", "MAC1,2013-10-27 01:00:00.0000000, 0.5 ",
             "MAC1,2013-10-27 01:30:00.0000000, 0.6 "]
LCL_REGISTRY = ["MAC1,1945,true,2012-01-01,,false,false,London"]


def zoned_store(tmp_path, zone, registry=None):
    con = store.connect(tmp_path / f"{zone.replace('/', '_')}.duckdb", timezone=zone)
    ingest.load_registry(con, write_registry(tmp_path / "h.csv", registry))
    return con


def test_profile_for_another_zone_is_refused_in_one_line_naming_both_zones(registered, tmp_path):
    sydney = ingest.load_profile("default").with_overrides(timezone="Australia/Sydney")
    path = write_long(tmp_path / "syd.csv", ["H1,2025-04-01 00:00,0.1"])
    with pytest.raises(MeterriskError) as info:
        ingest.ingest_file(registered, path, sydney)
    text = str(info.value)
    assert "\n" not in text and info.value.hint is None
    assert "Australia/Sydney" in text and "Asia/Tokyo" in text
    assert "METERRISK_TZ=Australia/Sydney meterrisk households --db NEW.duckdb" in text
    assert registered.execute("SELECT count(*) FROM readings").fetchall() == [(0,)]
    assert registered.execute("SELECT count(*) FROM ingest_files").fetchall() == [(0,)]


def test_in_a_store_of_the_profiles_zone_local_midnight_is_slot_0(tmp_path):
    con = zoned_store(tmp_path, "Australia/Sydney")
    sydney = ingest.load_profile("default").with_overrides(timezone="Australia/Sydney")
    path = write_long(tmp_path / "syd.csv", ["H1,2025-04-01 00:00,0.1"])
    assert ingest.ingest_file(con, path, sydney).rows_loaded == 1
    assert con.execute("SELECT local_date::VARCHAR, slot, strftime(ts_utc, '%H:%M') FROM readings").fetchall() == [
        ("2025-04-01", 0, "13:00")]  # AEDT is UTC+11 on 1 April


def test_utc_stamped_london_export_needs_a_london_store(registered, tmp_path):
    lcl = ingest.load_profile("lcl")
    assert lcl.local_timezone == "Europe/London"
    path = write_long(tmp_path / "MAC1.csv", LCL_LINES, header="LCLid,tstp,energy(kWh/hh)")
    with pytest.raises(MeterriskError, match="homes in Europe/London.*Asia/Tokyo"):
        ingest.ingest_file(registered, path, lcl)
    london = zoned_store(tmp_path, "Europe/London", LCL_REGISTRY)
    result = ingest.ingest_file(london, path, lcl)
    assert result.rows_loaded == 3
    # 2013-10-27 is a fall-back day in London: 00:00 UTC is 01:00 BST, 01:00 UTC is 01:00 GMT again.
    assert london.execute("SELECT strftime(local_ts, '%H:%M'), slot FROM readings ORDER BY ts_utc").fetchall() == [
        ("01:00", 2), ("01:00", 4), ("01:30", 5)]


def test_a_utc_profile_naming_no_homes_zone_loads_anywhere(registered, tmp_path):
    utc = ingest.load_profile("default").with_overrides(timezone="UTC")
    path = write_long(tmp_path / "utc.csv", ["H1,2025-03-31 15:00,0.1"])
    assert ingest.ingest_file(registered, path, utc).rows_loaded == 1
    assert registered.execute("SELECT slot FROM readings").fetchall() == [(0,)]  # Tokyo midnight


def test_local_timezone_must_be_a_zone(tmp_path):
    bad = tmp_path / "p.toml"
    bad.write_text('timezone = "UTC"\nlocal_timezone = "Mars/Olympus"\n[columns]\nhousehold_id="h"\nts="t"\nkwh="k"\n')
    with pytest.raises(MeterriskError, match="unknown time zone 'Mars/Olympus'"):
        ingest.load_profile(bad)


def test_meterrisk_tz_on_an_existing_store_with_another_zone_is_an_error(tmp_path, monkeypatch):
    db = tmp_path / "s.duckdb"
    store.connect(db, timezone="Europe/London").close()
    monkeypatch.setenv("METERRISK_TZ", "Asia/Tokyo")
    with pytest.raises(MeterriskError) as info:
        store.connect(db)
    assert "Europe/London" in str(info.value) and "Asia/Tokyo" in str(info.value) and "METERRISK_TZ" in str(info.value)
    monkeypatch.setenv("METERRISK_TZ", "Europe/London")
    store.connect(db).close()  # the same zone is fine
    with pytest.raises(MeterriskError, match="Europe/London"):
        store.connect(db, timezone="Asia/Tokyo")


def test_unknown_zone_for_a_new_store_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("METERRISK_TZ", "Asia/Tokio")
    with pytest.raises(MeterriskError, match="unknown time zone 'Asia/Tokio'"):
        store.connect(tmp_path / "s.duckdb")


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_households_timezone_creates_the_store_in_that_zone_and_ingest_refuses_others(tmp_path):
    db = tmp_path / "syd.duckdb"
    reg = write_registry(tmp_path / "h.csv")
    out = _cli("households", "--db", db, "--timezone", "Australia/Sydney", reg)
    assert out.exit_code == 0, out.output
    con = store.connect(db)
    assert store.setting(con, "timezone") == "Australia/Sydney"
    con.close()
    again = _cli("households", "--db", db, "--timezone", "Asia/Tokyo", reg)
    assert again.exit_code == 2 and again.stderr.count("\n") == 1 and "Australia/Sydney" in again.stderr
    path = write_long(tmp_path / "r.csv", ["H1,2025-04-01 00:00,0.1"])
    refused = _cli("ingest", "--db", db, path)  # the default profile is Asia/Tokyo
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1, refused.output
    assert refused.stderr.startswith("error: ") and "Asia/Tokyo" in refused.stderr
    ok = _cli("ingest", "--db", db, "--timezone", "Australia/Sydney", path)
    assert ok.exit_code == 0, ok.output
