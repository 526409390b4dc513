"""Schedules: served locally by ``meterrisk serve``; ``prefect.yaml`` has the same for work pools
(tests/test_deployments.py keeps the two in step), and :func:`enter_home` is its pull step.

Cron times are local (Asia/Tokyo unless METERRISK_TZ says otherwise): the daily job at
02:00 after the utility's overnight delivery, the intraday alerts every 30 minutes (today's
readings received so far), the risk list on the 1st at 06:00, training on demand (no
schedule).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect.schedules import Cron

from meterrisk import config
from meterrisk.errors import MeterriskError
from pipelines.alerts import alerts_intraday_flow
from pipelines.daily import daily_flow
from pipelines.risk_list import risk_list_flow
from pipelines.server import local_server, mark_crashed_runs
from pipelines.train import train_flow

DAILY_CRON = "0 2 * * *"
MONTHLY_CRON = "0 6 1 * *"
#: Every 30 minutes on the clock: a half hour's readings arrive ~30 min after it ends, so the
#: run at 11:30 judges the readings up to 11:00 (meterrisk.alerts.timing).
INTRADAY_CRON = "*/30 * * * *"
#: How long a stop waits for the runner to wind down (cancel running flows, pause schedules)
#: before the server goes anyway; shorter when the server is already gone (nothing to tell it).
STOP_GRACE_SECONDS = 10
SERVER_GONE_GRACE_SECONDS = 3


#: The folder a work-pool flow run works in (prefect.yaml's pull step): it holds data/ and models/.
HOME_VARIABLE = "METERRISK_HOME"


def enter_home(directory: str | None = None) -> dict:
    """prefect.yaml's pull step: make ``directory`` (METERRISK_HOME) the working directory of
    the flow run, as the flows' paths (data/, models/) are relative, after checking it holds a
    store, so that a wrong setting fails the run naming METERRISK_HOME instead of a flow
    failing later on a missing file.

    prefect.yaml passes ``"{{ $METERRISK_HOME }}"``: ``prefect deploy`` fills it in when the
    variable is set there (the value is then stored with the deployment), else Prefect fills it
    in from the worker's environment when the run starts; with neither it arrives unfilled."""
    if not directory or "{{" in directory:
        raise MeterriskError(f"{HOME_VARIABLE} is not set: neither `prefect deploy` nor the worker had it, "
                             "so this flow run has no folder to work in",
                             hint=f"export {HOME_VARIABLE}=/srv/meterrisk (the folder holding data/ and models/), "
                                  "then run `prefect deploy --all` again or restart the worker with it")
    home = Path(directory).expanduser()
    if not home.is_dir():
        raise MeterriskError(f"{HOME_VARIABLE}={home} is not a folder on the worker's machine",
                             hint="set it to the folder holding data/ and models/ and deploy again")
    db = home / config.db_path()  # METERRISK_DB, if absolute, wins over the join
    if not db.exists():
        raise MeterriskError(f"no store at {db} ({HOME_VARIABLE}={home})",
                             hint=f"{HOME_VARIABLE} must be the folder holding data/meterrisk.duckdb "
                                  "(create the store there with `meterrisk households FILE`)")
    os.chdir(home)
    return {"directory": str(home)}


def deployments(timezone: str | None = None) -> list:
    tz = config.local_timezone(timezone)
    # One writer of the DuckDB store at a time, as in prefect.yaml: a second run of a deployment
    # waits for the first instead of failing on the store's lock.
    one = {"concurrency_limit": 1}
    return [
        daily_flow.to_deployment(name="daily", **one, schedule=Cron(DAILY_CRON, timezone=tz),
                                 description="Ingest the inbox, update features, raise inactivity alerts."),
        alerts_intraday_flow.to_deployment(name="alerts-intraday", **one, schedule=Cron(INTRADAY_CRON, timezone=tz),
                                           description="Judge today's readings received so far; raise new alert episodes."),
        risk_list_flow.to_deployment(name="monthly-risk-list", **one, schedule=Cron(MONTHLY_CRON, timezone=tz),
                                     description="Score every consenting household; export the risk list."),
        train_flow.to_deployment(name="train", **one, description="Retrain; promote only if better. Run on demand."),
    ]


#: (deployment, cron or None) in the order ``deployments()`` builds them, for the serve listing.
SCHEDULES = (("daily", DAILY_CRON), ("alerts-intraday", INTRADAY_CRON),
             ("monthly-risk-list", MONTHLY_CRON), ("train", None))


def _field_matches(field: str, value: int) -> bool:
    """One cron field of the forms our schedules use: ``*``, ``*/n``, ``n`` or ``a,b``."""
    if field == "*":
        return True
    if field.startswith("*/"):
        return value % int(field[2:]) == 0
    return value in {int(x) for x in field.split(",")}


def next_run(cron: str, tz: str, now: datetime) -> datetime:
    """The first local minute after ``now`` that ``cron`` (minute hour day month weekday) fires.
    A plain minute walk (at most ~a month of minutes for our crons): no cron library is installed."""
    minute, hour, day, month, weekday = cron.split()
    t = now.astimezone(ZoneInfo(tz)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(366 * 24 * 60):
        if (_field_matches(minute, t.minute) and _field_matches(hour, t.hour) and _field_matches(day, t.day)
                and _field_matches(month, t.month) and _field_matches(weekday, t.isoweekday() % 7)):
            return t
        t = (t.astimezone(timezone.utc) + timedelta(minutes=1)).astimezone(ZoneInfo(tz))
    raise ValueError(f"cron {cron!r} never fires within a year")


def schedule_lines(tz: str, now: datetime | None = None) -> list[str]:
    """One line per deployment: name, cron, time zone and next run (local time)."""
    now = now or datetime.now(timezone.utc)
    lines = []
    for name, cron in SCHEDULES:
        if cron is None:
            lines.append(f"  {name:<18} on demand (no schedule)")
        else:
            lines.append(f"  {name:<18} cron {cron:<13} {tz:<12} next {next_run(cron, tz, now):%Y-%m-%d %H:%M %Z}")
    return lines


class _StopRequested(BaseException):
    """SIGINT or SIGTERM arrived: unwind everything (a BaseException, so no ``except Exception``
    on the way, Prefect's included, swallows it)."""


class _Signals:
    """The first SIGINT/SIGTERM stops serving, the second (during the clean-up) leaves at once
    (the server dies with this process: see pipelines/server.py).

    While starting, the first raises _StopRequested in the main thread wherever it is (even
    while the server starts). Once serving, it only sets ``stop``: an exception raised inside
    ``Thread.join`` would mark the still-running runner thread as finished (CPython 3.11
    releases the thread's state lock on the way out), and the runner would never be stopped."""

    def __init__(self):
        self.received: int | None = None
        self.raise_on_signal = True
        self.stop = threading.Event()

    def __call__(self, signum, frame):
        if self.received is not None:
            sys.stderr.write(f"meterrisk serve: {signal.Signals(signum).name} again, leaving now\n")
            os._exit(128 + signum)
        self.received = signum
        self.stop.set()
        if self.raise_on_signal:
            raise _StopRequested(signum)

    @contextmanager
    def installed(self):
        before = {s: signal.signal(s, self) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, h in before.items():
                signal.signal(s, h)


def serve_all(timezone: str | None = None) -> None:
    """Serve the deployments until SIGINT/SIGTERM (returns) or an error (MeterriskError).

    Uses Prefect's Runner as ``prefect.serve`` does, but on a local server that runs the
    scheduler (a temporary one without it never creates the cron runs) and dies with this
    process, and in a thread, so that this thread can stop on the first signal and notice a
    server that died instead of polling a dead API for ever."""
    tz = config.local_timezone(timezone)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise MeterriskError(f"unknown time zone {tz!r} for the schedules",
                             hint="an IANA name such as Asia/Tokyo (--timezone or METERRISK_TZ)") from None
    signals = _Signals()
    try:
        with signals.installed(), local_server(services=True) as server:
            from prefect.runner import Runner

            if server is not None:  # flow runs the runner starts (subprocesses) use this server too
                os.environ["PREFECT_API_URL"] = server.api_url
            mark_crashed_runs()
            runner = Runner()
            for deployment in deployments(tz):
                runner.add_deployment(deployment)
            sys.stderr.write("meterrisk serve: serving these deployments; Ctrl-C or SIGTERM stops\n"
                             + "\n".join(schedule_lines(tz)) + "\n")
            _run(runner, server, signals)
    except _StopRequested as stop:
        sys.stderr.write(f"meterrisk serve: stopped ({signal.Signals(stop.args[0]).name})\n")


def _run(runner, server, signals: _Signals) -> None:
    """Run ``runner`` in a thread until it ends, the server dies, or a signal asks to stop."""
    failed: list[BaseException] = []

    def target():
        try:
            asyncio.run(runner.start())
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failed.append(exc)

    thread = threading.Thread(target=target, name="meterrisk-serve-runner", daemon=True)
    signals.raise_on_signal = False  # from here a signal only sets signals.stop (see _Signals)
    thread.start()
    grace = STOP_GRACE_SECONDS
    try:
        while thread.is_alive() and not signals.stop.wait(0.5):
            code = server.server_process.poll() if server is not None and server.server_process else None
            if code is not None:
                grace = SERVER_GONE_GRACE_SECONDS
                raise MeterriskError(f"the local Prefect server exited (code {code}); stopped serving",
                                     hint="see the messages above, then start `meterrisk serve` again")
    finally:
        if thread.is_alive():  # a stop, or the server died: let the runner cancel and wind down
            _stop(runner, thread, grace)
    if signals.received is not None:
        raise _StopRequested(signals.received)
    if failed:
        exc = failed[0]
        raise MeterriskError(f"serving stopped: {type(exc).__name__}: {exc}",
                             hint="see the messages above, then start `meterrisk serve` again") from exc


def _stop(runner, thread: threading.Thread, grace: float) -> None:
    loop = getattr(runner, "_loop", None)
    if loop is not None and runner.started and not runner.stopping:
        try:
            runner.execute_in_background(runner.astop)
        except RuntimeError:  # the loop already closed
            pass
    deadline = time.monotonic() + grace
    while thread.is_alive() and time.monotonic() < deadline:
        thread.join(0.2)
