"""Who sees what, and which model scores (issue 11).

* the care-staff risk list names residents by registry id and district; research extracts
  (``export --pseudonymize``) by an HMAC whose key never enters the store, the snapshot or
  the output; every export is audited;
* the analyst snapshot holds pseudonymised data only;
* data files are owner-only whatever the umask;
* ``score``, ``export`` and ``v_risk_latest`` follow ``models/CURRENT``, and a withdrawn
  resident leaves the export and ``v_risk_latest`` without re-scoring.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import stat
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from pipelines_conftest import (  # noqa: F401  (fixtures)
    SAMPLE,
    TOWN_DB,
    built_town,
    cohort,
    count,
    cwd,
    one_blas_thread,
    prefect_harness,
    town_copy,
)

from meterrisk import ingest, store
from meterrisk.cli import main
from meterrisk.errors import MeterriskError

RAW_ID = re.compile(r"H\d{5}")
KEY_VARS = ("METERRISK_PSEUDONYM_KEY", "METERRISK_PSEUDONYM_KEY_FILE")
CLI_EXPORTS_WHERE = "command LIKE 'meterrisk export%'"  # the built town also has its flow's export
CLI_EXPORTS = f"SELECT count(*) FROM exports WHERE {CLI_EXPORTS_WHERE}"


def cli(*args, ok: bool = True):
    result = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def one_line_error(result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert lines and lines[0].startswith("error: "), result.output
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def no_key(monkeypatch):
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def town(town_copy, no_key):
    """(db, as_of, current model version) of a private copy of the built town."""
    db = town_copy / TOWN_DB
    as_of = count(db, "SELECT max(as_of) FROM risk_scores")
    current = (town_copy / "models" / "CURRENT").read_text().strip()
    return db, as_of, current


def registry_of(db: Path) -> dict[str, dict]:
    con = store.read_only(db)
    try:
        rows = store.frame(con, "SELECT household_id, pseudonym, district FROM households").to_dicts()
    finally:
        con.close()
    return {r["household_id"]: r for r in rows}


def expected_hmac(key: str, household_id: str) -> str:
    return hmac.new(key.encode(), household_id.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------------------------
# Pseudonyms: random surrogates, no key in the store
# --------------------------------------------------------------------------------------------

def test_store_keeps_no_pseudonym_key(db_path):
    con = store.connect(db_path)
    try:
        settings = dict(con.execute("SELECT key, value FROM settings").fetchall())
    finally:
        con.close()
    assert "pseudonym_key" not in settings
    assert not [k for k, v in settings.items() if re.fullmatch(r"[0-9a-f]{32,}", v)], settings


def test_pseudonyms_are_random_surrogates_kept_on_reload(tmp_path):
    stores = []
    for name in ("a", "b"):
        con = store.connect(tmp_path / f"{name}.duckdb")
        ingest.load_registry(con, SAMPLE / "households.csv")
        first = dict(con.execute("SELECT household_id, pseudonym FROM households").fetchall())
        ingest.load_registry(con, SAMPLE / "households.csv")  # a re-load keeps every pseudonym
        assert dict(con.execute("SELECT household_id, pseudonym FROM households").fetchall()) == first
        con.close()
        stores.append(first)
    a, b = stores
    assert all(re.fullmatch(r"P[0-9A-F]{15}", p) for p in a.values())
    assert len(set(a.values())) == len(a)
    assert not set(a.values()) & set(b.values())  # not a function of the registry id


def test_migration_drops_the_old_key_and_draws_new_pseudonyms(db_path):
    """A store made before the surrogates: settings.pseudonym_key, HMAC pseudonyms. Analysts'
    snapshots carried that key, so the old pseudonyms are replaced, not just the key deleted."""
    from meterrisk.privacy import keyed_id

    con = store.connect(db_path)
    ingest.load_registry(con, SAMPLE / "households.csv")
    old_key = secrets.token_hex(32)
    con.execute("INSERT INTO settings VALUES ('pseudonym_key', ?)", [old_key])
    old = {h: "P" + keyed_id(old_key, h)[:15].upper()
           for (h,) in con.execute("SELECT household_id FROM households").fetchall()}
    for h, p in old.items():
        con.execute("UPDATE households SET pseudonym = ? WHERE household_id = ?", [p, h])
    con.execute("DELETE FROM schema_migrations WHERE name = 'pseudonyms_without_key'")
    store.migrate(con)
    assert store.setting(con, "pseudonym_key") is None
    new = dict(con.execute("SELECT household_id, pseudonym FROM households").fetchall())
    con.close()
    assert new.keys() == old.keys() and not set(new.values()) & set(old.values())
    assert all(re.fullmatch(r"P[0-9A-F]{15}", p) for p in new.values()) and len(set(new.values())) == len(new)


# --------------------------------------------------------------------------------------------
# The care-staff list and research extracts
# --------------------------------------------------------------------------------------------

def test_care_staff_list_names_residents_by_registry_id_and_district(town, tmp_path):
    from meterrisk.export.parquet import COLUMNS, read_metadata

    db, as_of, current = town
    out = tmp_path / "care.parquet"
    cli("export", "--db", db, "--as-of", as_of, "--out", out)
    df = pl.read_parquet(out)
    assert df.columns == COLUMNS and "district" in COLUMNS and df.height > 0
    registry = registry_of(db)
    assert set(df["household_id"]) <= set(registry)
    assert all(registry[h]["district"] == d for h, d in zip(df["household_id"], df["district"]))
    md = read_metadata(out)
    assert md["id_kind"] == "registry_id" and md["model_version"] == current and md["promoted"] == "true"


def test_pseudonymize_without_a_key_refuses(town, tmp_path):
    db, as_of, _ = town
    out = tmp_path / "research.parquet"
    line = one_line_error(cli("export", "--db", db, "--as-of", as_of, "--out", out, "--pseudonymize", ok=False),
                          "METERRISK_PSEUDONYM_KEY")
    assert "key" in line
    assert not out.exists() and not list(tmp_path.glob(".research*"))
    assert count(db, CLI_EXPORTS) == 0


def test_pseudonymize_gives_a_stable_hmac_of_the_registry_id(town, tmp_path, monkeypatch):
    from meterrisk.export.parquet import read_metadata

    db, as_of, _ = town
    care = tmp_path / "care.parquet"
    cli("export", "--db", db, "--as-of", as_of, "--out", care)
    ids = pl.read_parquet(care)["household_id"].to_list()

    key = secrets.token_hex(32)
    monkeypatch.setenv("METERRISK_PSEUDONYM_KEY", key)
    first, again = tmp_path / "r1.parquet", tmp_path / "r2.csv"
    cli("export", "--db", db, "--as-of", as_of, "--out", first, "--pseudonymize")
    cli("export", "--db", db, "--as-of", as_of, "--out", again, "--pseudonymize")
    research = pl.read_parquet(first)
    assert research["household_id"].to_list() == [expected_hmac(key, h) for h in ids]  # same order: by rank
    assert pl.read_csv(again)["household_id"].to_list() == research["household_id"].to_list()
    assert "district" not in research.columns  # a district narrows a small town's residents down
    assert read_metadata(first)["id_kind"] == "hmac_sha256"

    # The same key from a file outside the data folder gives the same ids; another key others.
    monkeypatch.delenv("METERRISK_PSEUDONYM_KEY")
    key_file = tmp_path / "keys" / "research.key"
    key_file.parent.mkdir()
    key_file.write_text(key + "\n")
    from_file = tmp_path / "r3.parquet"
    cli("export", "--db", db, "--as-of", as_of, "--out", from_file, "--pseudonymize", "--key-file", key_file)
    assert pl.read_parquet(from_file)["household_id"].to_list() == research["household_id"].to_list()
    monkeypatch.setenv("METERRISK_PSEUDONYM_KEY", secrets.token_hex(32))
    other = tmp_path / "r4.parquet"
    cli("export", "--db", db, "--as-of", as_of, "--out", other, "--pseudonymize")
    assert not set(pl.read_parquet(other)["household_id"]) & set(research["household_id"])


def test_key_file_in_the_data_folder_or_two_keys_are_refused(town, tmp_path, monkeypatch):
    db, as_of, _ = town
    inside = db.parent / "research.key"
    inside.write_text(secrets.token_hex(32))
    out = tmp_path / "r.parquet"
    one_line_error(cli("export", "--db", db, "--as-of", as_of, "--out", out, "--pseudonymize",
                       "--key-file", inside, ok=False), "outside")
    monkeypatch.setenv("METERRISK_PSEUDONYM_KEY_FILE", str(inside))  # the same from the environment
    one_line_error(cli("export", "--db", db, "--as-of", as_of, "--out", out, "--pseudonymize", ok=False), "outside")
    outside = tmp_path / "research.key"
    outside.write_text(secrets.token_hex(32))
    monkeypatch.setenv("METERRISK_PSEUDONYM_KEY_FILE", str(outside))
    monkeypatch.setenv("METERRISK_PSEUDONYM_KEY", secrets.token_hex(32))
    one_line_error(cli("export", "--db", db, "--as-of", as_of, "--out", out, "--pseudonymize", ok=False),
                   "two keys")
    monkeypatch.delenv("METERRISK_PSEUDONYM_KEY_FILE")
    monkeypatch.setenv("METERRISK_PSEUDONYM_KEY", "short")
    one_line_error(cli("export", "--db", db, "--as-of", as_of, "--out", out, "--pseudonymize", ok=False),
                   "too short")
    assert not out.exists() and count(db, CLI_EXPORTS) == 0


def _files_under(*roots: Path):
    for root in roots:
        for p in root.rglob("*"):
            if p.is_file():
                yield p


def test_the_key_is_nowhere_in_the_store_snapshot_or_outputs(town, tmp_path, monkeypatch):
    from meterrisk.store.snapshot import publish, snapshot_path

    db, as_of, _ = town
    key = secrets.token_hex(32)
    monkeypatch.setenv("METERRISK_PSEUDONYM_KEY", key)
    out = tmp_path / "research.parquet"
    result = cli("export", "--db", db, "--as-of", as_of, "--out", out, "--pseudonymize")
    cli("export", "--db", db, "--as-of", as_of, "--out", tmp_path / "research.csv", "--pseudonymize")
    con = store.connect(db)
    try:
        publish(con, db)
        audit = json.dumps(store.frame(con, "SELECT * FROM exports").to_dicts(), default=str)
        settings = dict(con.execute("SELECT key, value FROM settings").fetchall())
    finally:
        con.close()
    assert snapshot_path(db).exists()
    town_dir = db.parent.parent
    needle = key.encode()
    leaks = [p for p in [*_files_under(town_dir, tmp_path)] if needle in p.read_bytes()]
    assert leaks == []
    assert key not in result.output and key not in audit and key not in settings.values()


def test_every_export_is_audited(town, tmp_path, monkeypatch):
    from meterrisk.files import sha256_of

    db, as_of, current = town
    care = tmp_path / "care.csv"
    cli("export", "--db", db, "--as-of", as_of, "--out", care)
    monkeypatch.setenv("METERRISK_PSEUDONYM_KEY", secrets.token_hex(32))
    research = tmp_path / "research.parquet"
    cli("export", "--db", db, "--as-of", as_of, "--out", research, "--pseudonymize")
    con = store.read_only(db)
    try:
        rows = store.frame(con, f"SELECT * FROM exports WHERE {CLI_EXPORTS_WHERE} ORDER BY export_id").to_dicts()
    finally:
        con.close()
    assert len(rows) == 2
    for row, path, kind, fmt in ((rows[0], care, "registry_id", "csv"), (rows[1], research, "hmac_sha256", "parquet")):
        assert row["path"] == str(path.resolve()) and row["sha256"] == sha256_of(path)
        assert row["id_kind"] == kind and row["format"] == fmt
        assert row["as_of"] == as_of and row["model_version"] == current and row["promoted"] is True
        assert row["rows_exported"] == (pl.read_csv(path) if fmt == "csv" else pl.read_parquet(path)).height > 0
        assert row["command"].startswith("meterrisk export") and row["exported_at"] is not None
    assert "--pseudonymize" in rows[1]["command"]


def test_risk_list_flow_audits_its_export_and_keeps_registry_ids_out_of_artifacts(town_copy, prefect_harness):
    from prefect.artifacts import Artifact

    from pipelines.risk_list import risk_list_flow

    town = town_copy  # the flow runs here, so its artifact is in this test process's Prefect API
    with cwd(town):
        out = {"risk_list": risk_list_flow(db=TOWN_DB, models_dir=Path("models"))}
    path = (town / out["risk_list"]["export"]["path"]).resolve()
    con = duckdb.connect(str(town / TOWN_DB), read_only=True)
    try:
        rows = con.execute("SELECT command, path, id_kind, rows_exported FROM exports").fetchall()
    finally:
        con.close()
    assert ("risk-list flow", str(path), "registry_id", out["risk_list"]["export"]["rows"]) in rows
    artifact = Artifact.get("risk-list")
    table = json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data
    assert table and all("pseudonym" in r and "household_id" not in r for r in table)
    assert not RAW_ID.search(json.dumps(table))


# --------------------------------------------------------------------------------------------
# The analyst snapshot
# --------------------------------------------------------------------------------------------

SNAPSHOT_TABLES = {
    "households", "readings", "household_day_quality", "daily_features", "household_features",
    "risk_scores", "risk_lists", "alerts", "alert_episodes", "local_calendar", "temperature", "feature_catalog",
    "v_risk_latest", "v_household_daily", "v_alerts_open", "v_alerts_acknowledged", "v_data_quality", "snapshot_info",
}


def test_snapshot_holds_only_what_analysts_may_see(town):
    from meterrisk.store.snapshot import publish, snapshot_path

    db, _, _ = town
    con = store.connect(db)
    try:
        publish(con, db)
        live = {
            "readings": store.one(con, "SELECT count(*) FROM readings")[0],
            "pseudonyms": {r[0] for r in con.execute("SELECT pseudonym FROM households").fetchall()},
            "risk": store.frame(con, "SELECT pseudonym, rank, risk_score FROM v_risk_latest ORDER BY ALL"),
        }
    finally:
        con.close()
    ids = set(registry_of(db))
    snap = duckdb.connect(str(snapshot_path(db)), read_only=True)
    try:
        tables = {r[0] for r in snap.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert tables == SNAPSHOT_TABLES
        columns = snap.execute("SELECT table_name, column_name, data_type FROM information_schema.columns").fetchall()
        assert not [(t, c) for t, c, _ in columns if c == "household_id"]
        texty = [(t, c) for t, c, ty in columns if "VARCHAR" in ty or "JSON" in ty]
        for t, c in texty:  # no registry id in any text value, lists and JSON included
            found = snap.execute(f'SELECT count(*) FROM "{t}" WHERE regexp_matches(CAST("{c}" AS VARCHAR), ?)',
                                 [RAW_ID.pattern]).fetchall()[0][0]
            assert found == 0, (t, c)
        assert snap.execute("SELECT count(*) FROM readings").fetchall()[0][0] == live["readings"]
        assert {r[0] for r in snap.execute("SELECT DISTINCT pseudonym FROM readings").fetchall()} <= live["pseudonyms"]
        got = store.frame(snap, "SELECT pseudonym, rank, risk_score FROM v_risk_latest ORDER BY ALL")
        assert got.height > 0 and got.equals(live["risk"])
        info = dict(snap.execute("SELECT key, value FROM snapshot_info").fetchall())
        assert info["timezone"] and info["published_at"]
    finally:
        snap.close()
    data = snapshot_path(db).read_bytes()
    assert not [h for h in ids if h.encode() in data]  # not even in free blocks: a fresh file


# --------------------------------------------------------------------------------------------
# Owner-only files
# --------------------------------------------------------------------------------------------

def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_files_are_owner_only_whatever_the_umask(town, tmp_path, prefect_harness, monkeypatch):
    db, as_of, _ = town
    town_dir = db.parent.parent
    os.umask(0o022)  # a usual login umask: files 0644, folders 0755 (conftest restores it)

    fresh = tmp_path / "fresh" / "data" / "s.duckdb"
    cli("households", "--db", fresh, SAMPLE / "households.csv")
    assert (mode(fresh), mode(fresh.parent)) == (0o600, 0o700)

    models = town_dir / "models"
    with one_blas_thread():
        cli("train", "--db", db, "--models-dir", models, "--version", "perm-test", "--seed", 1)
    assert mode(models / "perm-test") == 0o700
    assert {p.name: mode(p) for p in (models / "perm-test").iterdir()} == \
        {p.name: 0o600 for p in (models / "perm-test").iterdir()}

    export = town_dir / "data" / "exports" / "new" / "care.parquet"
    cli("export", "--db", db, "--as-of", as_of, "--out", export)
    assert (mode(export), mode(export.parent)) == (0o600, 0o700)

    sql_out = town_dir / "data" / "queries" / "q.csv"
    sql_out.parent.mkdir(mode=0o700)
    cli("sql", "--db", db, "SELECT count(*) FROM readings", "--format", "csv", "--out", sql_out)
    assert mode(sql_out) == 0o600

    from meterrisk.store.snapshot import snapshot_path

    monkeypatch.chdir(town_dir)
    shutil.rmtree(town_dir / "data" / "exports")  # the flow makes it again
    os.chmod(snapshot_path(db), 0o644)  # as main's byte copy left it
    cli("run", "--db", TOWN_DB)  # the daily flow on an empty inbox: publishes a new snapshot
    assert mode(snapshot_path(db)) == 0o600
    assert mode(town_dir / "data" / "exports") == 0o700


def test_archived_files_are_owner_only(tmp_path, monkeypatch, prefect_harness):
    from pipelines.ingest import ingest_flow

    monkeypatch.chdir(tmp_path)
    os.umask(0o022)
    con = store.connect(TOWN_DB)
    ingest.load_registry(con, SAMPLE / "households.csv")
    con.close()
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    dropped = inbox / "delivery.parquet"
    shutil.copyfile(SAMPLE / "readings" / "part-00000.parquet", dropped)
    os.chmod(dropped, 0o644)  # as a utility's transfer leaves it
    ingest_flow(db=TOWN_DB)
    (archived,) = (tmp_path / "data" / "archive").rglob("delivery.parquet")
    assert mode(archived.parent) == 0o700
    assert mode(archived) == 0o600


# --------------------------------------------------------------------------------------------
# The promoted model is the one that scores
# --------------------------------------------------------------------------------------------

def _copy_model(models: Path, source: str, version: str) -> Path:
    """Another model folder: the same fitted pipeline under another version name."""
    target = models / version
    shutil.copytree(models / source, target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["version"] = version
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def test_score_uses_the_promoted_model_not_the_newest_folder(town):
    db, as_of, current = town
    models = db.parent.parent / "models"
    _copy_model(models, current, "29991231-000000")  # newer, never promoted
    out = cli("score", "--db", db, "--as-of", as_of, "--models-dir", models).output
    assert f"model {current}:" in out
    assert count(db, "SELECT count(*) FROM risk_scores WHERE model_version = '29991231-000000'") == 0


def test_v_risk_latest_and_export_show_the_promoted_list(town, tmp_path):
    db, as_of, current = town
    models = db.parent.parent / "models"
    newer = _copy_model(models, current, "29991231-000000")
    out = cli("score", "--db", db, "--as-of", as_of, "--model", newer, "--models-dir", models).output
    assert "not the promoted model" in out
    con = store.read_only(db)
    try:
        listed = con.execute("SELECT model_version, promoted FROM risk_lists WHERE as_of = ? ORDER BY 1",
                             [as_of]).fetchall()
        view = {r[0] for r in con.execute("SELECT DISTINCT model_version FROM v_risk_latest").fetchall()}
    finally:
        con.close()
    assert listed == [(current, True), ("29991231-000000", False)]
    assert view == {current}
    care = tmp_path / "care.parquet"
    cli("export", "--db", db, "--as-of", as_of, "--out", care)
    assert set(pl.read_parquet(care)["model_version"]) == {current}
    named = tmp_path / "named.parquet"  # an unpromoted list only when asked for by name
    cli("export", "--db", db, "--as-of", as_of, "--out", named, "--model-version", "29991231-000000")
    assert set(pl.read_parquet(named)["model_version"]) == {"29991231-000000"}


def test_which_model_is_current(tmp_path):
    from meterrisk.model import registry

    models = tmp_path / "models"
    with pytest.raises(MeterriskError, match="no trained model"):
        registry.current(models)

    def model(version):
        (models / version).mkdir(parents=True)
        (models / version / "manifest.json").write_text(json.dumps({"version": version}))
        return models / version

    only = model("20250101-000000")
    (models / "20250301-000000").mkdir()  # an interrupted training: no manifest, not a model
    assert registry.current(models) == only  # one model and no pointer: nothing else it could be
    model("20250201-000000")
    with pytest.raises(MeterriskError, match="CURRENT") as info:  # two: which one is a decision
        registry.current(models)
    assert "--model" in info.value.hint
    registry.promote(models, only)
    assert registry.current(models) == only and (models / "CURRENT").read_text().strip() == only.name
    shutil.rmtree(only)
    with pytest.raises(MeterriskError, match="20250101-000000"):  # a dangling pointer is not "the newest"
        registry.current(models)


def test_score_with_two_models_and_no_pointer_refuses(town):
    db, as_of, current = town
    models = db.parent.parent / "models"
    _copy_model(models, current, "29991231-000000")
    (models / "CURRENT").unlink()
    one_line_error(cli("score", "--db", db, "--as-of", as_of, "--models-dir", models, ok=False), "CURRENT")


# --------------------------------------------------------------------------------------------
# Consent: a withdrawn resident leaves the export and v_risk_latest at once
# --------------------------------------------------------------------------------------------

def _top(db: Path, as_of: date, version: str) -> tuple[str, str]:
    con = store.read_only(db)
    try:
        return store.one(con, "SELECT r.household_id, h.pseudonym FROM risk_scores r JOIN households h "
                              "USING (household_id) WHERE as_of = ? AND model_version = ? AND rank = 1",
                         [as_of, version])
    finally:
        con.close()


def _in_export(db, as_of, tmp_path, name) -> pl.DataFrame:
    out = tmp_path / f"{name}.parquet"
    cli("export", "--db", db, "--as-of", as_of, "--out", out)
    return pl.read_parquet(out)


def _view(db) -> pl.DataFrame:
    con = store.read_only(db)
    try:
        return store.frame(con, "SELECT pseudonym, rank, status FROM v_risk_latest")
    finally:
        con.close()


def test_withdrawn_resident_leaves_the_export_and_v_risk_latest(town, cohort, tmp_path):
    db, as_of, current = town
    hid, pseud = _top(db, as_of, current)
    before = _in_export(db, as_of, tmp_path, "before")
    assert hid in set(before["household_id"]) or pseud in set(before["household_id"])

    lines = list(csv.DictReader(io.StringIO((cohort / "households.csv").read_text())))
    (row,) = [r for r in lines if r["household_id"] == hid]
    row["consent_withdrawn_on"] = str(as_of)  # the registry records the withdrawal; nobody re-scores
    registry_csv = tmp_path / "households.csv"
    with open(registry_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    con = store.connect(db)
    try:
        ingest.load_registry(con, registry_csv)
    finally:
        con.close()

    after = _in_export(db, as_of, tmp_path, "after")
    assert not {hid, pseud} & set(after["household_id"])
    assert after.height == before.height - 1
    assert after["rank"].to_list() == list(range(1, after.height + 1))  # no gap where they were
    view = _view(db)
    assert pseud not in set(view["pseudonym"])
    scored = view.filter(pl.col("status") == "scored").sort("rank")
    assert scored["rank"].to_list() == list(range(1, scored.height + 1))


def test_household_gone_from_the_registry_leaves_the_export(town, tmp_path):
    db, as_of, current = town
    hid, pseud = _top(db, as_of, current)
    con = store.connect(db)
    try:
        con.execute("DELETE FROM households WHERE household_id = ?", [hid])  # risk_scores keeps its row
    finally:
        con.close()
    after = _in_export(db, as_of, tmp_path, "after")
    assert after.height > 0 and not {hid, pseud} & set(after["household_id"])
    assert pseud not in set(_view(db)["pseudonym"])
