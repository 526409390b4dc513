from __future__ import annotations

import os
from pathlib import Path

import pytest

# Prefect must never phone home or touch the user's ~/.prefect during tests.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

REAL_LCL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "lcl_london_100hh_2013"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def con(db_path: Path):
    from meterrisk import store

    con = store.connect(db_path)
    yield con
    con.close()


@pytest.fixture
def tokyo(tmp_path: Path):
    """A store in Asia/Tokyo (the feature tests' hand-built days are Tokyo days)."""
    from meterrisk import store

    con = store.connect(tmp_path / "s.duckdb", timezone="Asia/Tokyo")
    yield con
    con.close()


@pytest.fixture(autouse=True)
def _restore_umask():
    """The CLI and the flows set an owner-only umask for the process; give each test the one it had."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)
