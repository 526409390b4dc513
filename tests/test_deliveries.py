"""Delivered data is never lost or overwritten: how real utilities deliver, end to end.

Real exports come as one folder per household with the same file names in each
(``<household>/201706.csv``), get delivered twice, and get corrected. Every case here checks
that every row is stored exactly once and that the archive keeps every delivered byte (the
SHA-256 of every delivered file is found among the files under the archive).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipelines_conftest import TOWN_DB, count, prefect_harness  # noqa: F401  (fixtures)

from meterrisk import ingest, store

REGISTRY = ("household_id,birth_year,lives_alone,consent_given_on,consent_withdrawn_on,care_certified,"
            "has_solar,district\n")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hashes_under(folder: Path) -> dict[str, Path]:
    return {sha(p.read_bytes()): p for p in folder.rglob("*") if p.is_file()}


def month_csv(household: str, value: float, *, days: int = 2, header: bool = True) -> bytes:
    """A household's export with its id in the rows, local Tokyo time with an offset."""
    t0 = datetime(2025, 4, 1)
    lines = ["household_id,ts,kwh"] if header else []
    lines += [f"{household},{(t0 + timedelta(minutes=30 * i)).isoformat()}+09:00,{value}" for i in range(48 * days)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def town(tmp_path, monkeypatch) -> Path:
    """A store (Asia/Tokyo) with households H1..H5 consenting, and an empty inbox; cwd = the town."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h.csv").write_text(REGISTRY + "".join(
        f"H{i},1945,true,2025-01-01,,false,false,North\n" for i in range(1, 6)))
    con = store.connect(TOWN_DB)
    try:
        ingest.load_registry(con, tmp_path / "h.csv")
    finally:
        con.close()
    (tmp_path / "data" / "inbox").mkdir(parents=True)
    return tmp_path


def deliver(town: Path, files: dict[str, bytes]) -> dict[str, str]:
    """Drop files into the inbox under their relative paths; return {relative path: sha256}."""
    for rel, data in files.items():
        target = town / "data" / "inbox" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return {rel: sha(data) for rel, data in files.items()}


def run_flow() -> dict[str, dict]:
    from pipelines.ingest import ingest_flow

    return {r["file"]: r for r in ingest_flow(db=TOWN_DB)}


# --------------------------------------------------------------------------------------------
# The archive keeps the relative path and never overwrites
# --------------------------------------------------------------------------------------------

def test_flow_archives_per_household_folders_under_their_relative_paths(town, prefect_harness):
    delivered = deliver(town, {f"H{i}/201706.csv": month_csv(f"H{i}", i / 10) for i in range(1, 6)})
    results = run_flow()
    assert sorted(results) == sorted(delivered)
    assert {r["status"] for r in results.values()} == {"loaded"}
    (day,) = (town / "data" / "archive").iterdir()
    kept = hashes_under(town / "data" / "archive")
    for rel, digest in delivered.items():
        assert kept[digest] == day / rel  # the relative path survives; nothing overwritten
        assert results[rel]["archived_as"] == str((day / rel).resolve())
    assert count(TOWN_DB, "SELECT count(*) FROM readings") == 5 * 96
    with store.read_only(TOWN_DB) as con:
        rows = con.execute("SELECT delivery_path, archived_as FROM ingest_files ORDER BY 1").fetchall()
    assert rows == [(rel, str((day / rel).resolve())) for rel in sorted(delivered)]


def test_same_path_new_content_is_archived_beside_the_first_with_its_hash(town, prefect_harness):
    first = deliver(town, {"H1/201706.csv": month_csv("H1", 0.1)})
    run_flow()
    second = deliver(town, {"H1/201706.csv": month_csv("H1", 0.1, days=3)})  # a longer re-export
    (result,) = run_flow().values()
    assert result["status"] == "loaded" and result["rows_loaded"] == 48 and result["rows_duplicate"] == 96
    (day,) = (town / "data" / "archive").iterdir()
    digest = second["H1/201706.csv"]
    assert hashes_under(day) == {first["H1/201706.csv"]: day / "H1" / "201706.csv",
                                 digest: day / "H1" / f"201706.{digest[:12]}.csv"}
    assert result["archived_as"] == str((day / "H1" / f"201706.{digest[:12]}.csv").resolve())


def test_identical_redelivery_is_already_ingested_and_not_copied_again(town, prefect_harness):
    deliver(town, {"H1/201706.csv": month_csv("H1", 0.1)})
    (first,) = run_flow().values()
    deliver(town, {"H1/201706.csv": month_csv("H1", 0.1)})
    (again,) = run_flow().values()
    assert again["status"] == "already_ingested" and again["archived_as"] == first["archived_as"]
    assert [p for p in (town / "data" / "inbox").rglob("*") if p.is_file()] == []
    assert len([p for p in (town / "data" / "archive").rglob("*") if p.is_file()]) == 1


def test_failed_files_keep_their_relative_path_and_never_overwrite(town, prefect_harness):
    bad_one, bad_two = b"\x00 not an export\n", b"\x00 still not an export\n"
    deliver(town, {"H1/201706.csv": bad_one, "H2/201706.csv": bad_one + b"x"})
    results = run_flow()
    assert {r["status"] for r in results.values()} == {"failed"}
    failed = town / "data" / "inbox" / "failed"
    assert (failed / "H1" / "201706.csv").read_bytes() == bad_one
    assert (failed / "H2" / "201706.csv").read_bytes() == bad_one + b"x"
    deliver(town, {"H1/201706.csv": bad_two})  # still broken, re-sent: both versions are kept
    (again,) = run_flow().values()
    assert again["status"] == "failed"
    assert sha(bad_two) in hashes_under(failed / "H1") and sha(bad_one) in hashes_under(failed / "H1")
    with store.read_only(TOWN_DB) as con:
        recorded = {r[0] for r in con.execute("SELECT archived_as FROM ingest_files").fetchall()}
    assert recorded == {str(p.resolve()) for p in failed.rglob("*") if p.is_file()}


def test_keep_target_and_move_never_replace_a_file(tmp_path, monkeypatch):
    from meterrisk import files

    root = tmp_path / "archive"
    a, b = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    a.write_bytes(b"first")
    b.write_bytes(b"second")
    target, there = files.keep_target(root, "H1/201706.csv.gz", sha(b"first"))
    assert (target, there) == (root / "H1" / "201706.csv.gz", False)
    files.move_without_overwrite(a, target)
    assert not a.exists() and target.read_bytes() == b"first"
    with pytest.raises(FileExistsError):
        files.move_without_overwrite(b, target)
    assert b.read_bytes() == b"second" and target.read_bytes() == b"first"
    assert files.keep_target(root, "H1/201706.csv.gz", sha(b"first")) == (target, True)
    beside, there = files.keep_target(root, "H1/201706.csv.gz", sha(b"second"))
    assert beside == root / "H1" / f"201706.{sha(b'second')[:12]}.csv.gz" and not there
    monkeypatch.setattr(files.os, "link", lambda *a: (_ for _ in ()).throw(OSError(18, "Invalid cross-device link")))
    files.move_without_overwrite(b, beside)  # the copy path a different file system takes
    assert not b.exists() and beside.read_bytes() == b"second"
    assert sorted(p.name for p in (root / "H1").iterdir()) == sorted([target.name, beside.name])  # no temp left
    with pytest.raises(ValueError, match="outside"):
        files.keep_target(root, "../escape.csv", sha(b"x"))


def test_flow_refuses_a_profile_for_another_zone_before_any_file_moves(town, prefect_harness):
    from meterrisk.errors import MeterriskError
    from pipelines.ingest import ingest_flow

    deliver(town, {"H1/201706.csv": month_csv("H1", 0.1)})
    with pytest.raises(MeterriskError, match="homes in Europe/London but this store keeps local time in Asia/Tokyo"):
        ingest_flow(db=TOWN_DB, profile="lcl")
    assert (town / "data" / "inbox" / "H1" / "201706.csv").exists()
    assert count(TOWN_DB, "SELECT count(*) FROM ingest_files") == 0
