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


def test_rewriting_the_store_drops_deleted_text_from_the_file_and_keeps_the_schema(tmp_path):
    """After a DELETE, DuckDB leaves the bytes in free blocks; the rewrite a withdrawal ends with does not."""
    from meterrisk import store
    from meterrisk.store.compact import rewrite_store

    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    secret = "HWITHDRAWN-4711"
    con.execute("CREATE TABLE t (id VARCHAR, v INTEGER)")
    con.execute("INSERT INTO t SELECT CASE WHEN i % 2 = 0 THEN ? ELSE 'keep-' || i END, i FROM range(20000) r(i)",
                [secret])
    con.execute("CHECKPOINT")
    con.execute("DELETE FROM t WHERE id = ?", [secret])
    con.execute("CHECKPOINT")
    assert secret.encode() in db.read_bytes()  # what the rewrite is for
    version, seq = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0], \
        con.execute("SELECT nextval('ingest_file_id')").fetchall()[0][0]
    rewrite_store(con, db)
    assert secret.encode() not in db.read_bytes()
    con = store.connect(db, create=False)
    try:
        assert con.execute("SELECT count(*), min(v) FROM t").fetchall() == [(10000, 1)]
        assert con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0] == version
        assert con.execute("SELECT nextval('ingest_file_id')").fetchall()[0][0] == seq + 1
        assert con.execute("SELECT count(*) FROM v_data_quality").fetchall()[0][0] == 0  # views survive
    finally:
        con.close()
    assert oct(db.stat().st_mode & 0o777) == "0o600"
