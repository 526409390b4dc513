import duckdb
import pytest

from meterrisk import store
from meterrisk.errors import MeterriskError


def test_new_store_is_migrated_and_reopens_idempotently(db_path):
    con = store.connect(db_path)
    version = store.schema_version(con)
    assert version == max(v for v, _, _ in store.MIGRATIONS)
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"readings", "households", "ingest_files", "quarantine", "household_day_quality"} <= tables
    tz = store.setting(con, "timezone")
    con.close()
    con = store.connect(db_path)
    assert store.schema_version(con) == version
    assert store.setting(con, "timezone") == tz
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(store.MIGRATIONS)


def test_store_timezone_is_fixed_at_creation(db_path):
    store.connect(db_path, timezone="Europe/London").close()
    con = store.connect(db_path)
    assert store.setting(con, "timezone") == "Europe/London"
    con.close()
    with pytest.raises(MeterriskError, match="Europe/London"):
        store.connect(db_path, timezone="Asia/Tokyo")


def test_unknown_future_migration_is_refused(db_path):
    con = store.connect(db_path)
    con.execute("INSERT INTO schema_migrations VALUES (9999, 'future', now())")
    with pytest.raises(RuntimeError, match="upgrade meterrisk"):
        store.migrate(con)


def test_read_only_on_missing_store_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="no store at") as caught:
        store.read_only(tmp_path / "nope.duckdb")
    assert "meterrisk households" in caught.value.hint
