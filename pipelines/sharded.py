"""The daily job over household shards, with the shard work as Dask tasks (prefect-dask).

Due withdrawals -> ingest (main store) -> split (what changed, per shard, as Parquet) ->
per shard on Dask: its store brought up to date, daily and window features, alerts ->
gather (features and alerts into the main store) -> alert hook -> snapshot. Training,
scoring and the risk list then run on the main store as they always do (``train``,
``risk-list``): the labelled subset is a few hundred households, one machine's work.
The results are those of the single-process ``daily`` flow, row for row
(tests/test_dask_sharded.py).

Every Prefect record of a run (the flow run, the shard task runs on the Dask workers) must
go to one Prefect API: a worker process without ``PREFECT_API_URL`` would start a temporary
server of its own and keep its task runs there. :func:`dask_task_runner` hands the API's
address to the LocalCluster it starts; the workers of a cluster started elsewhere must be
given it by whoever starts them (docs/scale-out.md).
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from pathlib import Path

from prefect import flow, task

from meterrisk import store
from meterrisk.errors import MeterriskError
from meterrisk.progress import stage
from meterrisk.shards import layout
from pipelines.alerts import deliver_new_episodes
from pipelines.artifacts import fields, markdown
from pipelines.consent import forget_due_withdrawals
from pipelines.daily import DeliveryFailed, summary
from pipelines.ingest import ingest_flow
from pipelines.retries import retry_on_transient_io
from pipelines.snapshot import publish_snapshot
from pipelines.workspace import Workspace, marks_run


def dask_task_runner(address: str | None = None, workers: int | None = None, *, api_url: str | None = None,
                     processes: bool = True):
    """Prefect's Dask task runner: on the cluster at ``address``, or on a LocalCluster of
    ``workers`` processes (default: the CPUs this process may use), one thread each (the
    feature engine and DuckDB use their own threads), whose workers send their records to
    ``api_url`` (default: the Prefect API this process uses)."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    api_url = api_url or prefect_api_url()
    if not api_url:
        raise MeterriskError("no Prefect API for the Dask workers to report to",
                             hint="start the run inside pipelines.server.local_server(), or set PREFECT_API_URL")
    workers = workers or len(os.sched_getaffinity(0))
    env = {"PREFECT_API_URL": api_url}
    for name in ("PREFECT_HOME", "PREFECT_SERVER_ANALYTICS_ENABLED", "DO_NOT_TRACK", "PREFECT_LOGGING_LEVEL",
                 "METERRISK_MEMORY_LIMIT", "METERRISK_FEATURE_THREADS", "PYTHONPATH"):
        if name in os.environ:
            env[name] = os.environ[name]
    cluster = {"n_workers": workers, "threads_per_worker": 1, "processes": processes, "dashboard_address": ":0"}
    if processes:  # threads share this process's settings already
        cluster["env"] = env
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=cluster)


def prefect_api_url() -> str | None:
    """The Prefect API this process reports to: ``PREFECT_API_URL`` (or a test harness's), else
    the temporary server :func:`pipelines.server.local_server` started; None if neither."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return PREFECT_API_URL.value()
    server = SubprocessASGIServer._instances.get(None)
    return server.api_url if server is not None and server.running else None


@task(name="split-into-shards", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def split_into_shards(db: Path, shards: int, rebuild: bool) -> dict:
    """Write what changed since the shards' last run as Parquet; decide the town's default date."""
    from meterrisk.shards.transfer import export_inputs, shard_count
    from meterrisk.store.coverage import last_covered_day

    root = layout.shards_root(db)
    con = store.connect(db, create=False)
    try:
        shards, base = shard_count(con, shards, rebuild=rebuild)
        if rebuild:
            for old in layout.shard_stores(root):
                shutil.rmtree(old.parent)
        run = layout.transfer_root(root) / uuid.uuid4().hex
        version = export_inputs(con, run, shards, base)
        try:
            as_of, no_day = last_covered_day(con), None
        except MeterriskError as exc:  # features still run; alerts fail the run, as in daily
            as_of, no_day = None, str(exc)
        zone = store.setting(con, "timezone")
    finally:
        con.close()
    return {"root": str(root), "run": str(run), "shards": shards, "base": base, "version": version,
            "as_of": as_of, "no_day": no_day, "timezone": zone}


@task(name="shard", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def shard_task(root: str, run: str, shard: int, shards: int, base: int, version: int,
               as_of: date | None, timezone: str) -> dict:
    from meterrisk.shards.worker import process_shard

    return process_shard(Path(root), Path(run), shard, shards, base, version, as_of, timezone)


@task(name="gather-shards", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_on_transient_io)
def gather_shards(db: Path, run: str, shards: int, version: int) -> dict:
    from meterrisk.shards.transfer import gather

    con = store.connect(db, create=False)
    try:
        rows = gather(con, Path(run), shards, version)
    finally:
        con.close()
    shutil.rmtree(run, ignore_errors=True)  # it holds readings: nothing left once gathered
    return rows


def combine(results: list[dict], as_of: date | None) -> tuple[dict, dict | None]:
    """The shards' feature and alert summaries as one, as the single-process flow reports them."""
    feats = {"as_of": as_of.isoformat() if as_of else None, "shards": len(results)}
    for key in ("households_updated", "days_recomputed", "windows_computed"):
        feats[key] = sum(r["features"].get(key, 0) or 0 for r in results)
    feats["changes_found_by"] = ", ".join(sorted({r["features"].get("changes_found_by") for r in results} - {None}))
    parts = [r["alerts"] for r in results if r["alerts"] is not None]
    if not parts:
        return feats, None
    alerts = {"date": parts[0]["date"]}
    for key in ("households_checked", "suppressed_by_absence", "alerts", "data_events"):
        alerts[key] = sum(p[key] for p in parts)
    for key in ("by_kind", "data_by_kind"):
        merged: dict[str, int] = {}
        for p in parts:
            for kind, n in p[key].items():
                merged[kind] = merged.get(kind, 0) + n
        alerts[key] = merged
    alerts["new_episodes"] = sorted((e for p in parts for e in p["new_episodes"]),
                                    key=lambda e: (e["started_at"], e["household_id"], e["kind"]))
    return feats, alerts


@flow(name="daily-sharded")
@marks_run
def sharded_flow(db: Path | None = None, inbox: Path | None = None, profile: str = "default",
                 shards: int = 4, rebuild: bool = False) -> dict:
    """The daily job with features and alerts on ``shards`` household shards, as Dask tasks
    (the task runner is chosen by the caller: ``sharded_flow.with_options(task_runner=...)``)."""
    ws = Workspace.default(db).ensure()
    withdrawn = forget_due_withdrawals(ws.db)
    stage(1, 5, "ingesting the inbox")
    files = ingest_flow(db=ws.db, inbox=inbox, profile=profile)
    stage(2, 5, "splitting the changes into shards")
    plan = split_into_shards(ws.db, shards, rebuild)
    stage(3, 5, f"features and alerts on {plan['shards']} shards")
    futures = [shard_task.submit(plan["root"], plan["run"], k, plan["shards"], plan["base"], plan["version"],
                                 plan["as_of"], plan["timezone"]) for k in range(plan["shards"])]
    results = [f.result() for f in futures]
    stage(4, 5, "gathering the shards' features and alerts")
    gathered = gather_shards(ws.db, plan["run"], plan["shards"], plan["version"])
    feats, alerts = combine(results, plan["as_of"])
    if plan["no_day"] is not None:  # as the daily flow's alert step does, once the features are in
        raise MeterriskError(plan["no_day"], hint="pass the date explicitly (meterrisk alerts --date)")
    if alerts is not None and alerts["households_checked"] == 0 and alerts["suppressed_by_absence"] == 0:
        raise MeterriskError(f"no readings on or before {alerts['date']}", hint="ingest readings first")
    alerts["hook"] = deliver_new_episodes(ws.db, alerts, None)
    stage(5, 5, "publishing the analysts' snapshot")
    snap = publish_snapshot(ws.db)
    result = {"withdrawn": withdrawn, "files": files, "features": feats, "alerts": alerts, "snapshot": snap,
              "shards": {"count": plan["shards"], "rows_gathered": gathered,
                         "results": [{k: r[k] for k in ("shard", "households_dropped")} for r in results]}}
    markdown("daily-sharded-summary", "# Daily run on shards\n\n"
             + "\n".join(f"- {line}" for line in summary(result).splitlines())
             + f"\n- shards: {plan['shards']}\n\n" + fields(gathered), "Daily run summary")
    if any(f["status"] == "failed" for f in files):
        raise DeliveryFailed(result)
    return result
