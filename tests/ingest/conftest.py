import pytest

from meterrisk import ingest

from .helpers import write_registry


@pytest.fixture
def registered(con, tmp_path):
    """A store whose registry has H1 (consent), H2 (consent, solar), H3 (no consent), H4 (withdrew 2025-04-02)."""
    ingest.load_registry(con, write_registry(tmp_path / "households.csv"))
    return con


@pytest.fixture
def default_profile():
    return ingest.load_profile("default")
