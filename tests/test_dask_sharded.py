"""The daily job over household shards on a Dask LocalCluster gives what the single-process
daily job gives, row for row; its Prefect records land in one API; a withdrawal reaches the
shard stores.

The reference is the shared town (``built_town``: the single-process daily flow, training and
the risk list). The same cohort, staged the same way, runs here through ``sharded_flow`` on a
LocalCluster of two worker *processes* (threads would share this process's Prefect settings
and hide a worker reporting to a server of its own), split three ways so one worker takes two
shards; then the risk list is scored on the main store with the reference's model.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines_conftest import (  # noqa: F401  (fixtures)
    TOWN_DB, _split_and_add_late_delivery, built_town, cohort, cwd, one_blas_thread, prefect_harness,
)

from meterrisk import store
from meterrisk.errors import MeterriskError

SHARDS = 3

#: Columns that record when a row was written, not what it holds.
CLOCK_COLUMNS = {"computed_at", "scored_at", "updated_at", "exported_at", "synced_at"}


@pytest.fixture(scope="module")
def sharded_town(built_town, cohort, prefect_harness, tmp_path_factory):
    from pipelines.demo import stage_cohort
    from pipelines.risk_list import risk_list_flow
    from pipelines.sharded import dask_task_runner, sharded_flow

    ref, _ = built_town
    town = tmp_path_factory.mktemp("sharded-town")
    started = time.perf_counter()
    with cwd(town), one_blas_thread():
        stage_cohort(TOWN_DB, cohort, Path("data/inbox"))
        _split_and_add_late_delivery(Path("data/inbox"))
        runner = dask_task_runner(workers=2)
        state = sharded_flow.with_options(task_runner=runner)(db=TOWN_DB, inbox=Path("data/inbox"), shards=SHARDS,
                                                              return_state=True)
        daily = state.result()
        shutil.copytree(ref / "models", "models", dirs_exist_ok=True)  # training stays on one node: the reference's model
        risk = risk_list_flow(db=TOWN_DB, models_dir=Path("models"))
    print(f"sharded town: {time.perf_counter() - started:.1f} s")
    return town, {"flow_run_id": state.state_details.flow_run_id, "daily": daily, "risk_list": risk}


def _table(db: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        df = store.frame(con, sql)
    finally:
        con.close()
    df = df.drop([c for c in df.columns if c in CLOCK_COLUMNS])
    return df.sort(df.columns)


@pytest.mark.parametrize("table", ["daily_features", "daily_profiles", "household_features", "alerts",
                                   "alert_episodes", "risk_scores"])
def test_sharded_run_stores_what_the_single_process_run_stores(built_town, sharded_town, table):
    ref, _ = built_town
    town, _ = sharded_town
    single = _table(ref / TOWN_DB, f"SELECT * FROM {table}")
    sharded = _table(town / TOWN_DB, f"SELECT * FROM {table}")
    assert single.height > 0 or table in ("alerts", "alert_episodes")
    if table == "household_features":
        # The reference also stores the windows its training evaluated (lead times every few
        # weeks); this town was not trained. Every window the sharded run has must be there.
        assert sharded.join(single, on=["household_id", "as_of"], how="anti").height == 0
        single = single.join(sharded.select("household_id", "as_of"), on=["household_id", "as_of"], how="semi")
    assert sharded.columns == single.columns
    assert sharded.equals(single), f"{table}: {sharded.height} rows sharded vs {single.height} single-process"


def test_sharded_risk_list_file_is_the_single_process_one(built_town, sharded_town):
    ref, ref_results = built_town
    town, results = sharded_town
    single = pl.read_parquet(ref / ref_results["risk_list"]["export"]["path"])
    sharded = pl.read_parquet(town / results["risk_list"]["export"]["path"])
    assert single.height > 0 and sharded.equals(single)
    assert results["daily"]["alerts"]["alerts"] == ref_results["daily"]["alerts"]["alerts"]
    assert results["daily"]["features"]["windows_computed"] == ref_results["daily"]["features"]["windows_computed"]


def test_each_shard_store_holds_only_its_own_households(sharded_town):
    from meterrisk.shards.layout import shard_store
    from meterrisk.shards.partition import shard_of

    town, _ = sharded_town
    main = _table(town / TOWN_DB, "SELECT household_id, pseudonym FROM households")
    seen = set()
    for k in range(SHARDS):
        held = _table(shard_store(town / "data" / "shards", k), "SELECT DISTINCT household_id FROM reading_days")
        expected = {h for h, p in main.iter_rows() if shard_of(p, SHARDS) == k}
        assert set(held["household_id"]) <= expected and held.height > 0
        seen |= set(held["household_id"])
    assert seen == set(_table(town / TOWN_DB, "SELECT DISTINCT household_id FROM reading_days")["household_id"])
    assert not (town / "data" / "shards" / "transfer").exists() or not any((town / "data" / "shards" / "transfer").iterdir())


def test_the_flow_run_and_every_shard_task_run_are_in_one_api(sharded_town):
    """With the API's address handed to the worker processes, their task runs are recorded
    where the flow run is (a worker without it would start a temporary server of its own)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    _, results = sharded_town
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(results["flow_run_id"])
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
    assert run.state.is_completed()
    shard_runs = [t for t in tasks if t.task_key.startswith("shard_task")]
    assert len(shard_runs) == SHARDS and all(t.state.is_completed() for t in shard_runs)


def test_a_store_is_split_one_way_unless_rebuilt(tmp_path):
    from meterrisk.shards.layout import COUNT_KEY, VERSION_KEY
    from meterrisk.shards.transfer import shard_count

    con = store.connect(tmp_path / "s.duckdb")
    try:
        assert shard_count(con, 4) == (4, 0)
        con.execute("INSERT INTO settings VALUES (?, '4'), (?, '17')", [COUNT_KEY, VERSION_KEY])
        assert shard_count(con, 4) == (4, 17)
        with pytest.raises(MeterriskError, match="split into 4 shards, not 8"):
            shard_count(con, 8)
        assert shard_count(con, 8, rebuild=True) == (8, 0)
    finally:
        con.close()



def _shard_files(town: Path) -> list[Path]:
    return [p for p in sorted((town / "data" / "shards").rglob("*")) if p.is_file()]


def test_a_withdrawal_leaves_no_trace_in_the_shard_stores(sharded_town, tmp_path, monkeypatch, prefect_harness):
    """The purge deletes the household from its shard store and rewrites the file; one it could
    not reach (a run held the store) is dropped by the next run, which sends only the
    registry's consenting households: rows and bytes. That run needs no rebuild."""
    import meterrisk.consent.files_side as files_side
    from meterrisk.consent.purge import withdraw
    from meterrisk.shards.purge import ShardErasure
    from pipelines.sharded import dask_task_runner, sharded_flow

    src, _ = sharded_town
    town = tmp_path / "town"
    shutil.copytree(src, town)
    db = town / TOWN_DB
    (first, p1), (second, p2) = _table(db, "SELECT household_id, pseudonym FROM households WHERE household_id IN "
                                           "(SELECT household_id FROM alerts UNION SELECT household_id FROM reading_days) "
                                           "ORDER BY 1 LIMIT 2").rows()
    con = store.connect(db, create=False)
    (reached,) = files_side.forget_outside_store(con, db, [withdraw(con, first)])
    assert reached.shards is not None and len(reached.shards.stores_rewritten) == 1 and reached.shards.rows_deleted > 0
    monkeypatch.setattr(files_side, "erase_from_shards",
                        lambda db, household_id: ShardErasure(problems=["shard store busy"]))
    (blocked,) = files_side.forget_outside_store(con, db, [withdraw(con, second)])
    files_side.finish_withdrawals(con, db)
    assert "shard store busy" in blocked.problems
    for path in _shard_files(town):
        assert first.encode() not in path.read_bytes() and p1.encode() not in path.read_bytes(), path
    assert any(second.encode() in p.read_bytes() for p in _shard_files(town))  # as the blocked purge left it
    with cwd(town):
        result = sharded_flow.with_options(task_runner=dask_task_runner(workers=1, processes=False))(
            db=TOWN_DB, inbox=Path("data/inbox"), shards=SHARDS)
    assert sum(r["households_dropped"] for r in result["shards"]["results"]) == 1
    for path in _shard_files(town):
        data = path.read_bytes()
        assert all(needle.encode() not in data for needle in (first, p1, second, p2)), path
    assert _table(db, "SELECT count(*) AS n FROM daily_features WHERE household_id IN (?, ?)"
                  .replace("?", "'{}'").format(first, second))["n"][0] == 0


def _deliver_next_day(town: Path) -> None:
    """Every household's last day again, one day later, as a CSV in the inbox (the next delivery)."""
    con = duckdb.connect(str(town / TOWN_DB), read_only=True)
    try:
        rows = store.frame(con, "SELECT household_id, ts_utc + INTERVAL 1 DAY AS ts, kwh FROM readings "
                                "WHERE local_date = (SELECT max(local_date) FROM readings) ORDER BY 1, 2")
    finally:
        con.close()
    inbox = town / "data" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    rows.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ")).write_csv(inbox / "next-day.csv")


def test_the_next_days_delivery_gives_the_single_process_rows_too(built_town, sharded_town, tmp_path, prefect_harness):
    """The incremental path: only the changed day rows go to the shards, and the shards'
    incremental features and alerts are still the single-process ones."""
    from pipelines.daily import daily_flow
    from pipelines.sharded import dask_task_runner, sharded_flow

    towns = {}
    for name, src in (("single", built_town[0]), ("sharded", sharded_town[0])):
        towns[name] = tmp_path / name
        shutil.copytree(src, towns[name], ignore=shutil.ignore_patterns("*.lock"))
        _deliver_next_day(towns[name])
    with cwd(towns["single"]):
        single = daily_flow(db=TOWN_DB, inbox=Path("data/inbox"))
    with cwd(towns["sharded"]):
        sharded = sharded_flow.with_options(task_runner=dask_task_runner(workers=1, processes=False))(
            db=TOWN_DB, inbox=Path("data/inbox"), shards=SHARDS)
    assert sharded["features"]["as_of"] == single["features"]["as_of"] != sharded_town[1]["daily"]["features"]["as_of"]
    assert 0 < sharded["features"]["days_recomputed"] == single["features"]["days_recomputed"]
    for table in ("daily_features", "daily_profiles", "alerts", "alert_episodes"):
        a, b = (_table(towns[n] / TOWN_DB, f"SELECT * FROM {table}") for n in ("single", "sharded"))
        assert b.equals(a), table
    keys = ["household_id", "as_of"]
    a, b = (_table(towns[n] / TOWN_DB, f"SELECT * FROM household_features WHERE as_of = '{single['features']['as_of']}'")
            for n in ("single", "sharded"))
    assert a.height > 0 and b.equals(a.join(b.select(keys), on=keys, how="semi")) and b.height == a.height
