"""Withdrawal, file side: delivered files, export copies and Prefect's records forget a household."""

from __future__ import annotations

import gzip
import sqlite3

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from meterrisk.consent.export_files import erase_from_exports
from meterrisk.consent.input_files import erase_household_from_file
from meterrisk.consent.prefect_home import REDACTED, erase_from_prefect_home

LONG = (b"household_id,ts,kwh\r\n"
        b"H12,2025-04-01T00:00:00+09:00,0.1\r\n"
        b"H123,2025-04-01T00:00:00+09:00,0.2\r\n"
        b"H12,2025-04-01T00:30:00+09:00,oops\r\n"
        b"H12,not-a-time\r\n"
        b"H123,2025-04-01T00:30:00+09:00,0.3\r\n")
KEPT = (b"household_id,ts,kwh\r\n"
        b"H123,2025-04-01T00:00:00+09:00,0.2\r\n"
        b"H123,2025-04-01T00:30:00+09:00,0.3\r\n")


def test_rewrites_only_the_households_lines_byte_for_byte(tmp_path):
    f = tmp_path / "d.csv"
    f.write_bytes(LONG)
    change = erase_household_from_file(f, "H12", "default")
    assert (change.action, change.lines_removed) == ("rewritten", 3)  # malformed line included
    assert f.read_bytes() == KEPT  # "H123" is not "H12"; CRLF and header kept
    assert change.sha256_after != change.sha256_before
    assert f.stat().st_mode & 0o777 == 0o600


def test_gzip_stays_gzip(tmp_path):
    f = tmp_path / "d.csv.gz"
    f.write_bytes(gzip.compress(LONG))
    erase_household_from_file(f, "H12", "default")
    assert gzip.decompress(f.read_bytes()) == KEPT


def test_parquet_rows_are_dropped(tmp_path):
    f = tmp_path / "d.parquet"
    pq.write_table(pa.table({"household_id": ["H12", "H123", "H12"], "ts": ["2025-04-01T00:00:00+09:00"] * 3,
                             "kwh": [0.1, 0.2, 0.3]}), f)
    change = erase_household_from_file(f, "H12", "default")
    assert change.lines_removed == 2
    assert pq.read_table(f)["household_id"].to_pylist() == ["H123"]


def test_a_file_of_only_that_household_is_deleted_and_immutable_archives_are_listed(tmp_path):
    only = tmp_path / "only.csv"
    only.write_bytes(b"household_id,ts,kwh\nH12,2025-04-01T00:00:00+09:00,0.1\n")
    keep = tmp_path / "keep.csv"
    keep.write_bytes(LONG)
    assert erase_household_from_file(keep, "H12", "default", immutable=True).action == "listed"
    assert keep.read_bytes() == LONG
    assert erase_household_from_file(only, "H12", "default").action == "deleted"
    assert not only.exists()
    assert erase_household_from_file(keep, "H999", "default").action == "unchanged"


def test_export_copies_lose_the_households_rows_and_keep_their_metadata(tmp_path):
    table = pa.table({"household_id": ["H12", "H123"], "rank": [1, 2]}).replace_schema_metadata({"as_of": "2025-07-31"})
    pq.write_table(table, tmp_path / "risk.parquet")
    pl.DataFrame({"household_id": ["H123", "PABC"], "rank": [1, 2]}).write_csv(tmp_path / "risk.csv")
    changes = erase_from_exports(tmp_path, ["H12", "PABC"])
    assert sorted((c.path.rsplit("/", 1)[1], c.rows_removed) for c in changes) == [("risk.csv", 1), ("risk.parquet", 1)]
    assert pq.read_table(tmp_path / "risk.parquet")["household_id"].to_pylist() == ["H123"]
    assert pq.read_schema(tmp_path / "risk.parquet").metadata[b"as_of"] == b"2025-07-31"
    assert pl.read_csv(tmp_path / "risk.csv")["household_id"].to_list() == ["H123"]


def test_prefect_home_is_redacted_in_place_and_vacuumed(tmp_path):
    db = sqlite3.connect(tmp_path / "prefect.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE artifact (id INTEGER, data JSON, n INTEGER)")
    db.execute("INSERT INTO artifact VALUES (1, ?, 5)", ('[{"household_id": "H12", "pseudonym": "PSEUDO12"}]',))
    db.execute("INSERT INTO artifact VALUES (2, '[]', 6)")
    db.commit()
    db.close()
    (tmp_path / "storage").mkdir()
    (tmp_path / "storage" / "result").write_text("H12 was here")
    (tmp_path / "storage" / "other").write_text("nothing")
    erased = erase_from_prefect_home(tmp_path, ["H12", "PSEUDO12"])
    assert erased.cells_redacted == {"artifact.data": 2}
    assert erased.files_deleted == ["storage/result"]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"H12" not in path.read_bytes() and b"PSEUDO12" not in path.read_bytes(), path
    rows = sqlite3.connect(tmp_path / "prefect.db").execute("SELECT id, data, n FROM artifact ORDER BY id").fetchall()
    assert rows == [(1, f'[{{"household_id": "{REDACTED}", "pseudonym": "{REDACTED}"}}]', 5), (2, "[]", 6)]


@pytest.mark.parametrize("profile", ["no-such-profile"])
def test_an_unloadable_profile_is_a_clear_error(tmp_path, profile):
    from meterrisk.errors import MeterriskError

    f = tmp_path / "d.csv"
    f.write_bytes(LONG)
    with pytest.raises(MeterriskError, match="cannot be told apart"):
        erase_household_from_file(f, "H12", profile)


def test_files_outside_the_data_folder_are_listed_never_changed(tmp_path):
    """`meterrisk ingest` reads the town's own export folder in place: a withdrawal lists those
    files for the town and rewrites only what lies in the data folder."""
    from click.testing import CliRunner

    from meterrisk.cli import main

    db = tmp_path / "data" / "meterrisk.duckdb"
    registry = tmp_path / "households.csv"
    registry.write_text("household_id,birth_year,lives_alone,consent_given_on,consent_withdrawn_on,care_certified,"
                        "has_solar,district\nH12,1940,true,2025-01-01,,false,false,North\n"
                        "H123,1941,true,2025-01-01,,false,false,South\n")
    town_copy = tmp_path / "town-exports" / "d.csv"
    town_copy.parent.mkdir()
    town_copy.write_bytes(LONG)
    run = lambda *a: CliRunner().invoke(main, [str(x) for x in a])  # noqa: E731
    assert run("households", "--db", db, registry).exit_code == 0
    run("ingest", "--db", db, town_copy)  # exits 1: the file has quarantined lines
    result = run("withdraw", "--db", db, "H12")
    assert result.exit_code == 0, result.output
    assert town_copy.read_bytes() == LONG
    assert "0 rewritten or deleted, 1 listed" in result.output and str(town_copy) in result.output
