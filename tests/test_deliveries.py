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
        assert results[rel]["archived_as"] == str((day / rel).relative_to(town / "data"))  # inside the store's folder
    assert count(TOWN_DB, "SELECT count(*) FROM readings") == 5 * 96
    with store.read_only(TOWN_DB) as con:
        rows = con.execute("SELECT delivery_path, archived_as FROM ingest_files ORDER BY 1").fetchall()
    assert rows == [(rel, str((day / rel).relative_to(town / "data"))) for rel in sorted(delivered)]


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
    assert result["archived_as"] == str((day / "H1" / f"201706.{digest[:12]}.csv").relative_to(town / "data"))


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
    assert recorded == {str(p.relative_to(town / "data")) for p in failed.rglob("*") if p.is_file()}


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


# --------------------------------------------------------------------------------------------
# The delivery-pattern suite: five homes, one folder each, the same file names
# --------------------------------------------------------------------------------------------

HOUSEHOLDS = [f"H{i}" for i in range(1, 6)]
README = Path(__file__).resolve().parents[1] / "README.md"


def readme_profile() -> str:
    """The per-household profile exactly as the README's "Source profiles" section shows it."""
    text = README.read_text(encoding="utf-8")
    start = text.index("# per_household.toml")
    return text[start:text.index("```", start)]


PROFILES = {
    # headerless ``ts,hour,Wh`` with CRLF, stamps at :25/:55 (ts_offset_minutes = 5), id from the folder
    "headerless": readme_profile(),
    "header": 'unit = "Wh"\nid_from_path = "{household_id}/{_}.csv"\n[columns]\nts = "time"\nkwh = "Wh"\n',
}


def household_month(variant: str, household: str, *, days: int = 2, bump: int = 0) -> bytes:
    """A home's export: 2025-04-01 onwards, local Tokyo wall clock, Wh in 10 Wh steps.
    H4 and H5 are empty homes, all zeros: byte for byte the same file in two folders."""
    t0 = datetime(2025, 4, 1)
    step = 0 if household in ("H4", "H5") else int(household[1:])
    values = [10 * step * (i % 5) for i in range(48 * days)]
    if bump:
        values[bump] += 10  # a corrected value
    if variant == "headerless":
        stamps = [t0 + timedelta(minutes=30 * i - 5) for i in range(48 * days)]
        lines = [f"{t:%Y-%m-%d %H:%M},{(t.hour + t.minute / 60):.1f},{v}" for t, v in zip(stamps, values)]
        return ("\r\n".join(lines) + "\r\n").encode()
    lines = ["time,Wh"] + [f"{t0 + timedelta(minutes=30 * i):%Y-%m-%d %H:%M},{v}" for i, v in enumerate(values)]
    return ("\n".join(lines) + "\n").encode()


def expected_readings(variant: str, households=HOUSEHOLDS, **changes) -> set[tuple[str, str, float]]:
    """(household, local time, kWh) of every half hour the homes' files hold, once each."""
    out = set()
    for hid in households:
        days, bump = changes.get(hid, (2, 0))
        step = 0 if hid in ("H4", "H5") else int(hid[1:])
        for i in range(48 * days):
            wh = 10 * step * (i % 5) + (10 if bump and i == bump else 0)
            out.add((hid, f"{datetime(2025, 4, 1) + timedelta(minutes=30 * i):%Y-%m-%d %H:%M}", wh / 1000))
    return out


def stored_readings() -> set[tuple[str, str, float]]:
    with store.read_only(TOWN_DB) as con:
        rows = con.execute("SELECT household_id, strftime(local_ts, '%Y-%m-%d %H:%M'), round(kwh, 6) "
                           "FROM readings").fetchall()
        assert con.execute("SELECT count(*) = count(DISTINCT (household_id, ts_utc)) FROM readings").fetchall() == [
            (True,)]
    assert len(rows) == len(set(rows))
    return set(rows)


class Route:
    """How the files arrive: ``meterrisk ingest DIR`` on a folder, or the ingest flow from the inbox."""

    def __init__(self, kind: str, town: Path, variant: str):
        self.kind, self.town, self.variant = kind, town, variant
        self.profile = town / f"{variant}.toml"
        self.profile.write_text(PROFILES[variant], encoding="utf-8")
        self.delivered: list[str] = []  # SHA-256 of every file ever delivered
        self.folder = town / ("export" if kind == "cli" else "data/inbox")

    def deliver(self, files: dict[str, bytes], *, replace: bool = False) -> dict[str, str]:
        for rel, data in files.items():
            (self.folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.folder / rel).write_bytes(data)
            self.delivered.append(sha(data))
        if self.kind == "cli":
            from click.testing import CliRunner

            from meterrisk.cli import main

            args = ["ingest", "--db", str(TOWN_DB), "--profile", str(self.profile)] + (["--replace"] if replace else [])
            out = CliRunner().invoke(main, args + [str(self.folder)])
            assert out.exit_code in (0, 1) and "Traceback" not in out.output, out.output
            return {line.split(": ")[1].removeprefix(str(self.folder) + "/"): line.split("] ")[1].split(":")[0]
                    for line in out.stdout.splitlines() if line.startswith("[")}
        from pipelines.ingest import ingest_flow

        return {r["file"]: r["status"] for r in ingest_flow(db=TOWN_DB, profile=str(self.profile), replace=replace)}

    def archived_files(self) -> list[Path]:
        return sorted(p for p in (self.town / "data" / "archive").rglob("*") if p.is_file())

    def check_every_byte_kept(self) -> None:
        """Every delivered file's bytes are in the archive (flow) or still where they were delivered
        (the command line does not move files), and nothing waits in the inbox."""
        if self.kind == "cli":
            return
        assert [p for p in self.folder.rglob("*") if p.is_file()] == []
        kept = hashes_under(self.town / "data" / "archive")
        assert set(self.delivered) <= set(kept)
        with store.read_only(TOWN_DB) as con:
            recorded = {r[0] for r in con.execute("SELECT archived_as FROM ingest_files").fetchall()}
        assert {str(p.relative_to(self.town / "data")) for p in kept.values()} <= recorded  # withdrawal can find every copy


@pytest.fixture(params=["cli", "flow"])
def route(request, town):
    if request.param == "flow":
        request.getfixturevalue("prefect_harness")
    return lambda variant: Route(request.param, town, variant)


@pytest.mark.parametrize("variant", sorted(PROFILES))
def test_five_homes_twice_then_a_correction_keep_every_row_once_and_every_byte(route, variant):
    r = route(variant)
    five = {f"{h}/201706.csv": household_month(variant, h) for h in HOUSEHOLDS}
    assert five["H4/201706.csv"] == five["H5/201706.csv"]  # two empty homes: identical bytes
    assert set(r.deliver(five).values()) == {"loaded"}
    assert stored_readings() == expected_readings(variant)
    r.check_every_byte_kept()

    archived = r.archived_files()
    assert set(r.deliver(five).values()) == {"already_ingested"}  # the same delivery again
    assert stored_readings() == expected_readings(variant)
    r.check_every_byte_kept()
    assert r.archived_files() == archived  # identical bytes are not copied again

    # H2's June again, corrected: one value changed and a day more. Without --replace the stored
    # value is kept (and the new one quarantined), the new day loads.
    statuses = r.deliver({"H2/201706.csv": household_month(variant, "H2", days=3, bump=7)})
    assert statuses["H2/201706.csv"] == "loaded_with_quarantine"
    assert set(statuses.values()) - {"loaded_with_quarantine"} <= {"already_ingested"}
    assert stored_readings() == expected_readings(variant, H2=(3, 0))
    with store.read_only(TOWN_DB) as con:
        assert con.execute("SELECT reason_code, count(*) FROM quarantine GROUP BY 1").fetchall() == [
            ("conflicts_stored_value", 1)]
    r.check_every_byte_kept()


@pytest.mark.parametrize("variant", sorted(PROFILES))
def test_a_corrected_redelivery_with_replace_replaces_only_that_home(route, variant):
    r = route(variant)
    r.deliver({f"{h}/201706.csv": household_month(variant, h) for h in HOUSEHOLDS})
    statuses = r.deliver({"H2/201706.csv": household_month(variant, "H2", days=3, bump=7)}, replace=True)
    assert statuses["H2/201706.csv"] == "loaded"
    assert stored_readings() == expected_readings(variant, H2=(3, 7))
    with store.read_only(TOWN_DB) as con:
        assert con.execute("SELECT delivery_path, status FROM ingest_files WHERE status <> 'loaded'").fetchall() == [
            ("H2/201706.csv", "replaced")]
        assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
    r.check_every_byte_kept()
