"""Prefect's local server as a child that cannot outlive us, and runs left behind by a kill.

Without a Prefect server configured (``PREFECT_API_URL``), Prefect starts a temporary one: a
``uvicorn`` child process (``prefect.server.api.server.SubprocessASGIServer``), stopped by an
``atexit`` handler. A process killed with SIGKILL (or by the OOM killer, or a SIGTERM before
anything handles it) runs no ``atexit``, so that child kept running, holding a port and
PREFECT_HOME's database, and the flow run it was serving stayed RUNNING for ever.

* :func:`local_server` starts that server up front, from the main thread, with a parent-death
  signal: Linux's ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` in the child before exec, so the kernel
  kills the server the moment its parent dies, however it died (no watchdog to kill too, no
  polling). The kernel ties this to the thread that forked, hence the main thread, which lives
  as long as the process; Prefect then reuses this server instead of starting its own. SIGKILL,
  not SIGTERM: with its client gone the server has nothing left to finish, and its SQLite
  database is transactional.
* :func:`runs_tagged_with_this_process` (runs created by this process carry a
  ``meterrisk-process:host:pid`` tag from creation) and :func:`claim_flow_run` (a flow run
  records ``infrastructure_pid`` = ``host:pid``, Prefect's convention, once its body starts)
  say which process runs a flow run; :func:`mark_crashed_runs`, at the next start, sets
  RUNNING/PENDING runs whose process is gone to Crashed (and their unfinished task runs).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from meterrisk.processes import pid_alive

logger = logging.getLogger("meterrisk.server")

_PR_SET_PDEATHSIG = 1
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None
except (OSError, AttributeError):  # pragma: no cover - no libc prctl
    _prctl = None


def _die_with(parent: int) -> None:
    """In the child between fork and exec: be killed when ``parent`` dies. Only a resolved C
    call and os calls here (no imports, no locks): the parent may have other threads."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the prctl: nobody would signal us
        os._exit(1)


def _server_class():
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    import prefect

    class OwnedServer(SubprocessASGIServer):
        """Prefect's temporary server, started as a child that dies with this process.

        The command and environment are Prefect 3.9's (``SubprocessASGIServer._run_uvicorn_command``)
        plus the parent-death signal; ``services`` runs the server's background services
        (the scheduler above all), as ``prefect server start`` does, for a long-lived ``serve``:
        an ephemeral server never creates the scheduled runs of a cron deployment."""

        services = False

        def _run_uvicorn_command(self) -> subprocess.Popen:
            env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_FINAL": "1",
                   **get_current_settings().to_environment_variables(exclude_unset=True)}
            if self.services:
                env.pop("PREFECT__SERVER_EPHEMERAL", None)
            else:
                env["PREFECT__SERVER_EPHEMERAL"] = "1"
            preexec = (lambda parent=os.getpid(): _die_with(parent)) \
                if _prctl is not None and threading.current_thread() is threading.main_thread() else None
            return subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                 "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
                env=env, preexec_fn=preexec)

    return OwnedServer


@contextmanager
def local_server(*, services: bool = False) -> Iterator[object | None]:
    """Start Prefect's temporary server now, tied to this process; stop it on the way out.

    Does nothing (yields None) when a Prefect server is configured (``PREFECT_API_URL``, or a
    test harness's server). ``services``: run the scheduler and the other background services
    (``meterrisk serve``); short runs do not need them."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value() or SubprocessASGIServer._instances.get(None) is not None:
        yield None
        return
    # ``SubprocessASGIServer()`` is a per-port singleton that subclasses share: created first,
    # this one is the temporary server every Prefect client in this process then uses.
    server = _server_class()(None)
    server.services = services
    try:
        server.start()
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------
# Which process runs a flow run, and runs whose process is gone
# --------------------------------------------------------------------------------------------

#: Prefix of the tag naming the process that created a run (``meterrisk-process:host:pid``).
PROCESS_TAG = "meterrisk-process:"


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def runs_tagged_with_this_process() -> Iterator[None]:
    """Tag every flow and task run created inside with this process (``PROCESS_TAG``).

    A tag is set when Prefect creates the run, before it starts, so a kill at any moment
    leaves a run the next start can judge; :func:`claim_flow_run`, from inside the flow,
    covers runs created elsewhere (a served deployment's)."""
    from prefect import tags

    with tags(PROCESS_TAG + this_process()):
        yield


def claim_flow_run() -> None:
    """Record this process on the current flow run (``infrastructure_pid``) unless something
    (a worker, the runner) already did. Never fails a run: the record only helps the next start."""
    try:
        from prefect.client.orchestration import get_client
        from prefect.context import FlowRunContext

        ctx = FlowRunContext.get()
        if ctx is None or ctx.flow_run is None or ctx.flow_run.infrastructure_pid:
            return
        with get_client(sync_client=True) as client:
            client.update_flow_run(ctx.flow_run.id, infrastructure_pid=this_process())
    except Exception:  # noqa: BLE001 - bookkeeping only
        logger.debug("could not record the process of this flow run", exc_info=True)


def _boot_time() -> datetime | None:
    try:
        with open("/proc/stat") as fh:
            for line in fh:
                if line.startswith("btime "):
                    return datetime.fromtimestamp(int(line.split()[1]), tz=timezone.utc)
    except OSError:
        return None
    return None


def _process_started(pid: int) -> datetime | None:
    """When process ``pid`` started (None if unknown: no /proc)."""
    boot = _boot_time()
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if boot is None:
        return None
    return boot + timedelta(seconds=int(fields[19]) / os.sysconf("SC_CLK_TCK"))


def _alive(pid: int, since: datetime | None) -> bool:
    """Whether the process that ran a flow run since ``since`` still runs: ``pid`` exists, is
    not a zombie, and did not start after the run (a reused pid is another process)."""
    if not pid_alive(pid):
        return False
    started = _process_started(pid)
    return started is None or since is None or started <= since + timedelta(seconds=2)


def _owner(run) -> str:
    if run.infrastructure_pid:
        return run.infrastructure_pid
    tagged = [t for t in run.tags or [] if t.startswith(PROCESS_TAG)]
    return tagged[0][len(PROCESS_TAG):] if tagged else ""


def orphaned(run, host: str | None = None) -> bool:
    """A RUNNING/PENDING flow run recorded as run by a process of this host that is gone."""
    run_host, _, pid = _owner(run).rpartition(":")
    if run_host != (host or socket.gethostname()) or not pid.isdigit():
        return False  # not ours to judge: another machine, a worker's container, or unrecorded
    return not _alive(int(pid), run.start_time or run.created)


def mark_crashed_runs() -> int:
    """Set flow runs left RUNNING/PENDING by a process that died to Crashed; returns how many.

    Their unfinished task runs become Crashed too. Runs of live processes (another ``meterrisk
    run`` sharing PREFECT_HOME), of other hosts, and runs without a recorded process are left."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        TaskRunFilter,
        TaskRunFilterFlowRunId,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    unfinished = [StateType.RUNNING, StateType.PENDING]
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=unfinished))))
        dead = [r for r in runs if orphaned(r)]
        for run in dead:
            client.set_flow_run_state(run.id, Crashed(
                message=f"its process ({_owner(run)}) ended without finishing the run "
                        "(killed?); marked at the next start"), force=True)
        if dead:
            tasks = client.read_task_runs(task_run_filter=TaskRunFilter(
                flow_run_id=TaskRunFilterFlowRunId(any_=[r.id for r in dead]),
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=unfinished))))
            for t in tasks:
                client.set_task_run_state(t.id, Crashed(message="its flow run's process ended"), force=True)
    if dead:
        logger.warning("marked %d flow run(s) of processes that had died as Crashed", len(dead))
    return len(dead)
