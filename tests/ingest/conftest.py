from datetime import date

import pytest

from meterrisk import ingest

from .helpers import write_registry


@pytest.fixture
def registered(con, tmp_path):
    """A store whose registry has H1 (consent), H2 (consent, solar), H3 (no consent), H4 (withdraws 2025-04-02).

    Loaded on 1 April 2025, when H4's withdrawal was still ahead: a withdrawal that has come
    purges the household (tests/test_consent.py), so only an announced one keeps its window.
    """
    ingest.load_registry(con, write_registry(tmp_path / "households.csv"), today=date(2025, 4, 1))
    return con


@pytest.fixture
def default_profile():
    return ingest.load_profile("default")
