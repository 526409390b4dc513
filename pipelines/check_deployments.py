"""The work-pool path of docs/operations.md, run for real on a throwaway server and town.

    python -m pipelines.check_deployments                 # daily, train, monthly-risk-list
    python -m pipelines.check_deployments --deployments daily --keep /tmp/check

Starts ``prefect server start`` on a free loopback port (its own PREFECT_HOME, no telemetry),
creates the process work pool, runs ``prefect deploy`` from this checkout's prefect.yaml with
METERRISK_HOME set to a small synthetic town (``meterrisk synth`` + registry, temperatures and
questionnaires, readings in the inbox), starts ``prefect worker start``, runs each chosen
deployment with ``prefect deployment run`` and waits for it, then checks that every run
Completed, its artifacts are on the server (``prefect artifact ls``), its results are in the
store, and the scheduler made the next runs at the cron's local time in the schedule's zone.
Everything stops on the way out (the server, the worker, their children); the folder is
deleted unless ``--keep``. Exit 0 when all checks pass, 1 with the failed check otherwise.

The same commands an operator types, so a pass means the guide's commands work as written.
Timings (server start, deploy, each flow run) are printed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: What each deployment must leave behind: artifact keys on the server, and a check of the store.
ARTIFACTS = {
    "daily": {"daily-summary", "ingest-summary", "features-summary", "alerts-summary"},
    "train": {"train-summary"},
    "monthly-risk-list": {"risk-list-summary", "risk-list"},
    "alerts-intraday": {"alerts-intraday-summary"},
}
#: The order a new town needs: readings before a model, a model before a risk list.
ORDER = ("daily", "train", "monthly-risk-list", "alerts-intraday")
DEFAULT = ("daily", "train", "monthly-risk-list")


class CheckFailed(Exception):
    """One check did not hold; the message says which and where to look."""


@dataclass
class Check:
    work: Path
    deployments: tuple[str, ...]
    households: int = 60
    days: int = 120
    timeout: float = 600.0
    timings: dict[str, float] = field(default_factory=dict)
    port: int = 0

    @property
    def home(self) -> Path:
        return self.work / "home"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PREFECT_") and k not in ("METERRISK_DB", "METERRISK_TZ")}
        env.update(PREFECT_HOME=str(self.work / "prefect"), PREFECT_API_URL=self.api,
                   PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
                   METERRISK_HOME=str(self.home),
                   # a worker polls every 10 s by default and the scheduler every 60 s: fine
                   # for nightly jobs, slow for a check that waits on both
                   PREFECT_WORKER_QUERY_SECONDS="2", PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5",
                   COLUMNS="250")  # wide enough that Prefect's tables do not cut the artifact keys
        return env

    # ---------------------------------------------------------------------------------------
    def run(self, *args: str | os.PathLike, cwd: Path | None = None, what: str | None = None) -> str:
        proc = subprocess.run([str(a) for a in args], cwd=cwd or self.work, env=self.env(),
                              capture_output=True, text=True, timeout=self.timeout)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise CheckFailed(f"{what or ' '.join(map(str, args[:3]))} exited {proc.returncode}:\n{tail}")
        return proc.stdout

    def start(self, stack: ExitStack, name: str, *args: str) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "w")
        stack.callback(log.close)
        # its own session, so the stop reaches its children too (uvicorn, flow-run processes)
        proc = subprocess.Popen([str(a) for a in args], cwd=self.work, env=self.env(), stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        stack.callback(self.stop, name, proc)
        return proc

    def stop(self, name: str, proc: subprocess.Popen) -> None:
        t = time.monotonic()
        if not _stop(proc):
            print(f"warning: {name} ignored SIGTERM for 10 s and was killed", file=sys.stderr)
        self.timings[f"{name} stop"] = time.monotonic() - t

    def get(self, path: str):
        import httpx

        r = httpx.get(self.api + path, timeout=30)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict):
        import httpx

        r = httpx.post(self.api + path, json=body, timeout=30)
        r.raise_for_status()
        return r.json()

    # ---------------------------------------------------------------------------------------
    def town(self) -> None:
        """A small synthetic town in METERRISK_HOME: the store, and the readings in the inbox."""
        t = time.monotonic()
        cohort = self.work / "cohort"
        meterrisk = BIN / "meterrisk"
        self.run(meterrisk, "synth", "--households", self.households, "--days", self.days, "--seed", 7,
                 "--out", cohort, what="meterrisk synth")
        self.home.mkdir()
        for command, name in (("households", "households.csv"), ("temperature", "temperature.csv"),
                              ("assessments", "assessments.csv")):
            self.run(meterrisk, command, cohort / name, cwd=self.home, what=f"meterrisk {command}")
        inbox = self.home / "data" / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        for f in sorted((cohort / "readings").iterdir()):
            shutil.copy2(f, inbox / f.name)
        self.timings["synthetic town"] = time.monotonic() - t

    def server(self, stack: ExitStack) -> None:
        import httpx

        self.port = _free_port()
        t = time.monotonic()
        proc = self.start(stack, "server", BIN / "prefect", "server", "start", "--host", "127.0.0.1",
                          "--port", str(self.port))
        deadline = t + 180
        while True:
            if proc.poll() is not None:
                raise CheckFailed(f"prefect server start exited {proc.returncode}; see {self.work / 'server.log'}")
            try:
                if httpx.get(self.api + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise CheckFailed(f"the server did not answer {self.api}/health within 180 s")
            time.sleep(0.3)
        self.timings["server start"] = time.monotonic() - t

    def deploy(self, pool: str) -> dict[str, dict]:
        self.run(BIN / "prefect", "work-pool", "create", pool, "--type", "process", what="prefect work-pool create")
        t = time.monotonic()
        names = [a for d in self.deployments for a in ("--name", d)]
        self.run(BIN / "prefect", "--no-prompt", "deploy", *names, cwd=ROOT, what="prefect deploy")
        self.timings["prefect deploy"] = time.monotonic() - t
        found = {d["name"]: d for d in self.post("/deployments/filter", {})}
        for name in self.deployments:
            if name not in found:
                raise CheckFailed(f"prefect deploy did not create deployment {name!r}")
            pulled = repr(found[name]["pull_steps"])
            if str(self.home) not in pulled:
                raise CheckFailed(f"{name}: pull steps {pulled} do not carry METERRISK_HOME={self.home}")
        return found

    def flow_run(self, deployment: dict) -> dict:
        flow = self.get(f"/flows/{deployment['flow_id']}")["name"]
        t = time.monotonic()
        out = self.run(BIN / "prefect", "deployment", "run", f"{flow}/{deployment['name']}", what="prefect deployment run")
        found = re.search(r"UUID: ([0-9a-f-]{36})", out)
        if not found:
            raise CheckFailed(f"prefect deployment run printed no flow run id:\n{out}")
        while True:
            run = self.get(f"/flow_runs/{found.group(1)}")
            state = run.get("state") or {}
            if state.get("type") in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
            if time.monotonic() - t > self.timeout:
                raise CheckFailed(f"{deployment['name']}: flow run still {state.get('type')} after {self.timeout:.0f} s")
            time.sleep(1)
        self.timings[f"run {deployment['name']}"] = time.monotonic() - t
        if state["type"] != "COMPLETED":
            raise CheckFailed(f"{deployment['name']}: flow run {run['name']} ended {state['type']}: "
                              f"{state.get('message')}; see {self.work / 'worker.log'}")
        return run

    def artifacts(self, run: dict, deployment: str) -> None:
        want = ARTIFACTS[deployment]
        # the run's subflows (ingest, features, alerts) carry their own artifacts
        runs = [run["id"]] + [r["id"] for r in self.post("/flow_runs/filter", {"flow_runs": {
            "parent_flow_run_id": {"any_": [run["id"]]}}})]
        got = {a["key"] for a in self.post("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": runs}}})}
        if not want <= got:
            raise CheckFailed(f"{deployment}: artifacts {sorted(want - got)} missing (got {sorted(got)})")
        listed = self.run(BIN / "prefect", "artifact", "ls", what="prefect artifact ls")
        missing = [k for k in want if k not in listed]
        if missing:
            raise CheckFailed(f"prefect artifact ls does not list {missing}")

    def results(self, deployment: str) -> None:
        import duckdb

        data = self.home / "data"
        con = duckdb.connect(str(data / "meterrisk.duckdb"), read_only=True)
        try:
            count = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("readings", "daily_features", "risk_scores")}
        finally:
            con.close()
        if deployment == "daily" and not (count["readings"] and count["daily_features"]):
            raise CheckFailed(f"daily: the store has {count['readings']} readings, {count['daily_features']} feature days")
        if deployment == "daily" and any((data / "inbox").glob("*.parquet")):
            raise CheckFailed("daily: readings are still in the inbox")
        if deployment == "train" and not (self.home / "models" / "CURRENT").exists():
            raise CheckFailed("train: no promoted model (models/CURRENT)")
        if deployment == "monthly-risk-list" and not (count["risk_scores"] and list((data / "exports").glob("risk_list_*.parquet"))):
            raise CheckFailed(f"monthly-risk-list: {count['risk_scores']} scores, "
                              f"exports {sorted(p.name for p in (data / 'exports').iterdir())}")

    def schedules(self, spec: dict[str, dict], found: dict[str, dict]) -> None:
        """The scheduler's next runs fire at the cron's minute and hour in the schedule's zone."""
        deadline = time.monotonic() + 60
        for name in self.deployments:
            for schedule in spec[name].get("schedules") or []:
                minute, hour = schedule["cron"].split()[:2]
                zone = ZoneInfo(schedule["timezone"])
                while True:
                    runs = self.post("/flow_runs/filter", {"flow_runs": {
                        "deployment_id": {"any_": [found[name]["id"]]}, "state": {"type": {"any_": ["SCHEDULED"]}}}})
                    runs = [r for r in runs if r.get("auto_scheduled")]
                    if runs or time.monotonic() > deadline:
                        break
                    time.sleep(1)
                if not runs:
                    raise CheckFailed(f"{name}: the scheduler made no runs for cron {schedule['cron']} within 60 s")
                for r in runs:
                    local = datetime.fromisoformat(r["expected_start_time"].replace("Z", "+00:00")).astimezone(zone)
                    if not (_matches(minute, local.minute) and _matches(hour, local.hour)):
                        raise CheckFailed(f"{name}: a run at {local:%Y-%m-%d %H:%M %Z} does not fit "
                                          f"cron {schedule['cron']} in {zone}")

    # ---------------------------------------------------------------------------------------
    def __call__(self) -> None:
        spec = prefect_yaml_deployments()
        pools = {spec[d]["work_pool"]["name"] for d in self.deployments}
        if len(pools) != 1:
            raise CheckFailed(f"the deployments use several work pools: {sorted(pools)}")
        self.town()
        with ExitStack() as stack:
            self.server(stack)
            found = self.deploy(pools.pop())
            worker = self.start(stack, "worker", BIN / "prefect", "worker", "start", "--pool",
                                spec[self.deployments[0]]["work_pool"]["name"])
            for name in sorted(self.deployments, key=ORDER.index):
                if worker.poll() is not None:
                    raise CheckFailed(f"the worker exited {worker.returncode}; see {self.work / 'worker.log'}")
                run = self.flow_run(found[name])
                self.artifacts(run, name)
                self.results(name)
                print(f"ok  {name}: {run['name']} Completed in {self.timings[f'run {name}']:.1f} s", flush=True)
            self.schedules(spec, found)
            print("ok  schedules: next runs at the crons' local times", flush=True)


def prefect_yaml_deployments() -> dict[str, dict]:
    return {d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]}


def _matches(field: str, value: int) -> bool:
    from pipelines.deployments import _field_matches

    return _field_matches(field, value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> bool:
    """SIGTERM its whole session (the server's uvicorn, the worker's flow runs), then SIGKILL.
    Whether SIGTERM was enough."""
    if proc.poll() is not None:
        return True
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return sig == signal.SIGTERM
        try:
            proc.wait(wait)
            return sig == signal.SIGTERM
        except subprocess.TimeoutExpired:
            continue
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.check_deployments", description=__doc__.split("\n\n")[0])
    parser.add_argument("--deployments", default=",".join(DEFAULT),
                        help=f"comma-separated, from prefect.yaml [default: {','.join(DEFAULT)}]")
    parser.add_argument("--households", type=int, default=60)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per command or flow run")
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it: logs, store, PREFECT_HOME")
    args = parser.parse_args(argv)
    chosen = tuple(d for d in args.deployments.split(",") if d)
    spec = prefect_yaml_deployments()
    unknown = [d for d in chosen if d not in spec]
    if unknown or not chosen:
        print(f"error: no deployment {unknown} in prefect.yaml", file=sys.stderr)
        print(f"hint: --deployments takes some of {','.join(sorted(spec, key=ORDER.index))}", file=sys.stderr)
        return 2
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="meterrisk-deploy-check-"))
    check = Check(work, chosen, args.households, args.days, args.timeout)
    try:
        check()
    except CheckFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"hint: logs in {work} (kept)", file=sys.stderr)
        return 1
    finally:
        for what, seconds in check.timings.items():
            print(f"  {what:<24} {seconds:6.1f} s")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
