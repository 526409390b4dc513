"""``meterrisk demo | run | serve``: the Prefect flows from the command line.

Prefect is imported only here and only when one of these runs, so the other commands stay quick.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import click

from meterrisk import store
from meterrisk.cli._options import db_option
from meterrisk.errors import MeterriskError


def _no_traceback_for_user_errors(record: logging.LogRecord) -> bool:
    """Prefect logs a failed run with its traceback; for an error meant for the person at the
    terminal (MeterriskError, shown by the command as ``error:``/``hint:``) keep the log line only."""
    if record.exc_info and _is_user_error(record.exc_info[1]):
        record.exc_info, record.exc_text = None, None
    return True


def _is_user_error(exc: BaseException | None) -> bool:
    """Errors the command shows as ``error:`` lines: ours, and a folder this user may not write."""
    from meterrisk.cli import not_writable

    return isinstance(exc, MeterriskError) or not_writable(exc)


def quiet_user_errors() -> None:
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if _no_traceback_for_user_errors not in logger.filters:
            logger.addFilter(_no_traceback_for_user_errors)


@click.command("demo")
@db_option
@click.option("--households", default=600, show_default=True, help="Synthetic households.")
@click.option("--days", default=400, show_default=True, help="Days of readings.")
@click.option("--seed", default=20250106, show_default=True)
def demo(db, households, days, seed):
    """Generate a synthetic town and run everything: ingest, features, alerts, training, risk list.

    Runs the Prefect flows without a server (a temporary local one) and offline.

    \b
    Example:
      meterrisk demo --households 300 --days 300
    """
    from pipelines.demo import demo_flow
    from pipelines.server import local_server, mark_crashed_runs, runs_tagged_with_this_process

    quiet_user_errors()

    with local_server(), runs_tagged_with_this_process():
        mark_crashed_runs()
        out = demo_flow(households=households, days=days, seed=seed, db=Path(db) if db else None)
    risk = out["risk_list"]
    score = risk["score"]
    click.echo("")
    click.echo(f"cohort:     {out['cohort']}")
    click.echo(f"model:      {out['models']}/{risk['model']} ({'promoted' if out['train']['promoted'] else 'kept ' + str(out['train']['current'])})")
    click.echo(f"scored:     {scored_line(score)}")
    click.echo(f"risk list:  {risk['export']['path']}   <- care staff download this (Parquet, registry ids)")
    click.echo(f"report:     {risk['report']['path']}   ({risk['report']['pages']} household pages; opens offline)")
    click.echo(f"store:      {out['db']}   (analysts: {out['snapshot']})")
    click.echo(f"try:        meterrisk sql \"SELECT * FROM v_risk_latest LIMIT 10\"")


def scored_line(score: dict) -> str:
    """The scoring summary as a person reads it (not a dict repr)."""
    n, high, medium = score.get("scored", 0), score.get("high", 0), score.get("medium", 0)
    not_scored = ", ".join(f"{c} {why}" for why, c in sorted(score.get("not_scored", {}).items(), key=lambda kv: -kv[1]))
    return (f"{n} residents as of {score.get('as_of')}: {high} high, {medium} medium, {n - high - medium} low; "
            f"{score.get('new_concern', 0)} on the new-concern list (experimental)"
            + (f"; not scored: {not_scored}" if not_scored else ""))


@click.command("run")
@db_option
@click.option("--inbox", type=click.Path(file_okay=False), default=None, help="Folder of new files [data/inbox].")
@click.option("--profile", default="default", show_default=True, help="Source profile for the inbox files.")
def run(db, inbox, profile):
    """Run the daily flow now: ingest the inbox, update features, raise alerts, publish a snapshot.

    Exits 1, naming them by their path in the inbox, if any file could not be read (the rest
    of the job still runs for the other files; the unreadable ones wait in the inbox's failed/).

    \b
    Example:
      cp export-2025-06-01.csv data/inbox/ && meterrisk run
    """
    store.require_store(db)  # before Prefect starts: one line, at once
    from pipelines.daily import DeliveryFailed, daily_flow, summary
    from pipelines.server import local_server, mark_crashed_runs, runs_tagged_with_this_process

    quiet_user_errors()

    with local_server(), runs_tagged_with_this_process():
        mark_crashed_runs()
        try:
            out = daily_flow(db=Path(db) if db else None, inbox=Path(inbox) if inbox else None, profile=profile)
        except DeliveryFailed as exc:  # the job ran for the other files: say what it did, then fail
            click.echo(summary(exc.result))
            raise
    click.echo(summary(out))


@click.command("serve")
@click.option("--timezone", default=None, help="Zone of the cron schedules [METERRISK_TZ or Asia/Tokyo].")
def serve(timezone):
    """Serve the scheduled deployments (daily 02:00, risk list on the 1st at 06:00, train on demand).

    Blocks until Ctrl-C or SIGTERM (then stops, with its local Prefect server, and exits 0);
    exits non-zero if serving fails (e.g. that server dies). Runs of an earlier process that
    was killed are marked Crashed at the start. For a Prefect server and work pools use
    prefect.yaml.

    \b
    Example:
      meterrisk serve --timezone Asia/Tokyo
    """
    from pipelines.deployments import serve_all

    serve_all(timezone)


COMMANDS = [demo, run, serve]
