"""Shared fixtures for the flow, CLI and concurrency tests.

Import what a test module needs from here (``from pipelines_conftest import ...``); the
environment below is set on import, before anything imports ``prefect`` or ``pipelines``:
Prefect reads its settings (home folder, telemetry) when it is first imported.

The expensive part, a small synthetic town taken from inbox to risk list, is built once per
test session even under pytest-xdist: the first worker that needs it builds it under a file
lock in the shared base temp folder, the others wait and reuse it. Tests that change a town
work on their own copy (``town_copy``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

if "prefect" not in sys.modules:  # too late otherwise; Prefect has read its settings already
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="meterrisk-prefect-home-")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # Two xdist workers and other suites share 2 cores: the test server can be slow to start.
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "150"

# The boosted trees use OpenMP; two xdist workers (and whatever else runs) on 2 cores make its
# threads spin against each other: fitting the town's ~80 examples took 35-200 s instead of
# 6-9 s. OpenMP reads this when it loads, so it only helps if nothing imported sklearn yet;
# ``one_blas_thread`` below limits an already loaded runtime as far as it can.
os.environ.setdefault("OMP_NUM_THREADS", "1")

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "sample"

#: The town every flow test shares: big enough to train (>= 5 frail examples per class in the
#: training split with this seed), small enough to build in well under a minute.
TOWN_ARGS = {"households": 80, "days": 200, "start": date(2025, 1, 6), "seed": 3}
TOWN_DB = Path("data") / "meterrisk.duckdb"  # relative: flows resolve data/ and models/ from the cwd


def have_run_alerts() -> bool:
    try:
        from meterrisk.alerts import run_alerts  # noqa: F401
    except ImportError:
        return False
    return True


needs_run_alerts = pytest.mark.skipif(
    not have_run_alerts(),
    reason="meterrisk.alerts.run_alerts is not written yet (pipelines/alerts.py and daily_flow need it)",
)


@contextmanager
def cwd(path: Path):
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def one_blas_thread():
    """Fit models with one OpenMP/BLAS thread (see OMP_NUM_THREADS above)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@contextmanager
def _locked(lock: Path):
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _shared_root(tmp_path_factory) -> Path:
    """A folder every xdist worker of this session sees (the parent of the workers' basetemps)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect API (SQLite in a temp folder) for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=None):
        yield


@pytest.fixture(scope="session")
def cohort(tmp_path_factory) -> Path:
    """The town's synthetic cohort (generated once per session; deterministic)."""
    root = _shared_root(tmp_path_factory)
    out = root / "town-cohort"
    with _locked(root / "town-cohort.lock"):
        if not (out / "manifest.json").exists():
            from meterrisk.synth import generate

            shutil.rmtree(out, ignore_errors=True)
            generate(out, **TOWN_ARGS)
    return out


def _build_town(town: Path, cohort: Path) -> dict:
    """Inbox -> risk list with the flows, as the demo does; returns what each flow returned."""
    from pipelines.daily import daily_flow
    from pipelines.demo import stage_cohort
    from pipelines.features import features_flow
    from pipelines.ingest import ingest_flow
    from pipelines.risk_list import risk_list_flow
    from pipelines.snapshot import publish_snapshot
    from pipelines.train import train_flow

    with cwd(town), one_blas_thread():
        staged = stage_cohort(TOWN_DB, cohort, Path("data/inbox"))
        _split_and_add_late_delivery(Path("data/inbox"))
        inbox_files = sorted(p.name for p in Path("data/inbox").iterdir() if p.is_file())
        if have_run_alerts():
            daily = daily_flow(db=TOWN_DB, inbox=Path("data/inbox"))
        else:  # the daily job without its alerts step, until meterrisk.alerts.run_alerts exists
            files = ingest_flow(db=TOWN_DB, inbox=Path("data/inbox"))
            daily = {"files": files, "features": features_flow(db=TOWN_DB), "alerts": None,
                     "snapshot": publish_snapshot(TOWN_DB)}
        trained = train_flow(db=TOWN_DB, models_dir=Path("models"), truth=cohort / "truth")
        risk = risk_list_flow(db=TOWN_DB, models_dir=Path("models"))
    return {"staged": staged, "inbox_files": inbox_files, "daily": daily, "train": trained, "risk_list": risk,
            "with_alerts": have_run_alerts()}


LATE_DELIVERY = "zz-late-delivery.csv"


def _split_and_add_late_delivery(inbox: Path) -> None:
    """Make the inbox look like a utility's: several files, one of them messy.

    The cohort's single Parquet file becomes two (households split in halves), and a CSV
    arrives with two rows of a household not in the registry (rejected for consent), one
    non-numeric value (quarantined) and one reading the Parquet already delivered.
    """
    import polars as pl

    (staged,) = sorted(inbox.glob("*.parquet"))
    df = pl.read_parquet(staged)
    ids = df["household_id"].unique().sort()
    first_half = ids.head(len(ids) // 2)
    df.filter(pl.col("household_id").is_in(first_half.implode())).write_parquet(inbox / "part-a.parquet")
    df.filter(~pl.col("household_id").is_in(first_half.implode())).write_parquet(inbox / "part-b.parquet")
    staged.unlink()
    hid, ts, kwh = df.row(0)
    iso = ts.isoformat()
    (inbox / LATE_DELIVERY).write_text(
        "household_id,ts,kwh\n"
        "H99999,2025-03-01T00:00:00+09:00,0.1\n"
        "H99999,2025-03-01T00:30:00+09:00,0.1\n"
        f"{hid},{iso},not-a-number\n"
        f"{hid},{iso},{kwh!r}\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="session")
def built_town(tmp_path_factory, prefect_harness, cohort) -> tuple[Path, dict]:
    """(folder, flow results) of the shared town. Treat it as read-only: copy to change it."""
    root = _shared_root(tmp_path_factory)
    town = root / "town"
    done = town / "BUILT.json"
    with _locked(root / "town.lock"):
        if not done.exists():
            shutil.rmtree(town, ignore_errors=True)
            town.mkdir(parents=True)
            results = _build_town(town, cohort)
            done.write_text(json.dumps(results, default=str, indent=1))
    return town, json.loads(done.read_text())


@pytest.fixture
def town_copy(built_town, tmp_path) -> Path:
    """A private copy of the built town a test may change (the store, inbox, archive, models)."""
    src, _ = built_town
    dst = tmp_path / "town"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.lock", "*.tmp"))
    return dst


def count(db: Path, sql: str, params: list | None = None):
    """One value from the store, opened read-only and closed again."""
    from meterrisk import store

    con = store.read_only(db)
    try:
        return store.one(con, sql, params)[0]
    finally:
        con.close()
