"""``meterrisk run-sharded``: the daily job with features and alerts on household shards (Dask).

Prefect and Dask are imported only when it runs, so the other commands stay quick.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from meterrisk import store
from meterrisk.cli._options import db_option
from meterrisk.errors import MeterriskError


@click.command("run-sharded")
@db_option
@click.option("--inbox", type=click.Path(file_okay=False), default=None, help="Folder of new files [data/inbox].")
@click.option("--profile", default="default", show_default=True, help="Source profile for the inbox files.")
@click.option("--shards", type=int, default=4, show_default=True,
              help="Household shards (one DuckDB store each, data/shards/shard=K/). Fixed once a store is split.")
@click.option("--dask-address", default=None, envvar="METERRISK_DASK_ADDRESS", show_envvar=True,
              help="Scheduler of a running Dask cluster (tcp://host:8786). Default: a LocalCluster on this machine.")
@click.option("--workers", type=int, default=None,
              help="LocalCluster worker processes [the CPUs this process may use]. Ignored with --dask-address.")
@click.option("--rebuild", is_flag=True, help="Rebuild every shard store from the main store (also: change --shards).")
def run_sharded(db, inbox, profile, shards, dask_address, workers, rebuild):
    """Run the daily job with features and alerts on household shards, as Dask tasks.

    Ingest, the default date, and later training and the risk list stay on the main store;
    each shard's daily and window features and alerts run as one Dask task, and their rows
    are gathered into the main store: the same rows the single-process `meterrisk run`
    stores. All Prefect records go to one server: PREFECT_API_URL if set, else a temporary
    one this command starts (whose address it gives the LocalCluster's workers). A cluster
    elsewhere (--dask-address) needs PREFECT_API_URL, reachable from its workers, set here
    and on them (docs/scale-out.md).

    \b
    Example:
      meterrisk run-sharded --shards 8
      PREFECT_API_URL=http://10.0.0.5:4200/api meterrisk run-sharded --shards 64 --dask-address tcp://10.0.0.5:8786
    """
    if shards < 1:
        raise MeterriskError(f"--shards must be at least 1, not {shards}")
    if workers is not None and workers < 1:
        raise MeterriskError(f"--workers must be at least 1, not {workers}")
    if dask_address and not os.environ.get("PREFECT_API_URL"):
        raise MeterriskError(
            "--dask-address needs a Prefect server the Dask workers can reach (PREFECT_API_URL is not set): "
            "a temporary server on this machine would leave the workers' task runs nowhere",
            hint="`prefect server start --host 0.0.0.0`, then set PREFECT_API_URL=http://HOST:4200/api "
                 "here and in every Dask worker's environment")
    store.require_store(db)  # before Prefect starts: one line, at once
    # Dask's start/stop chatter (INFO, every run); read when distributed is first imported.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    from meterrisk.cli.flows import quiet_user_errors
    from pipelines.daily import DeliveryFailed, summary
    from pipelines.server import local_server, mark_crashed_runs, runs_tagged_with_this_process
    from pipelines.sharded import dask_task_runner, sharded_flow

    quiet_user_errors()
    with local_server(), runs_tagged_with_this_process():
        mark_crashed_runs()
        runner = dask_task_runner(dask_address, workers)
        flow = sharded_flow.with_options(task_runner=runner)
        try:
            out = flow(db=Path(db) if db else None, inbox=Path(inbox) if inbox else None, profile=profile,
                       shards=shards, rebuild=rebuild)
        except DeliveryFailed as exc:
            click.echo(summary(exc.result))
            raise
        finally:
            _send_logs()  # while the server is up: at exit it would be gone
    click.echo(summary(out))
    gathered = out["shards"]["rows_gathered"]
    click.echo(f"shards:      {out['shards']['count']}: {gathered['daily_features']} daily rows, "
               f"{gathered['household_features']} windows, {gathered['alerts']} alerts gathered into the main store")


def _send_logs() -> None:
    """Send the run's queued log records to the Prefect server now."""
    from prefect.logging.handlers import APILogHandler

    try:
        APILogHandler().flush()
    except Exception:  # noqa: BLE001 - logs only; the run's result stands
        pass


COMMANDS = [run_sharded]
