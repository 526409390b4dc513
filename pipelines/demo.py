"""The demo: a synthetic town, end to end, on the embedded defaults.

Generates (or reuses) a cohort, drops its readings into the inbox, loads the registry,
questionnaires and temperatures, runs the daily job, trains and promotes a model, and
writes the risk list. Everything lands under ``data/`` and ``models/``.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from prefect import flow, task

from meterrisk import ingest, store
from meterrisk.consent.files_side import finish_withdrawals, forget_outside_store
from meterrisk.errors import MeterriskError
from meterrisk.progress import stage
from pipelines.daily import daily_flow
from pipelines.snapshot import publish_snapshot
from pipelines.risk_list import risk_list_flow
from pipelines.train import train_flow
from pipelines.workspace import Workspace, marks_run


@task(name="generate-cohort")
def generate_cohort(out: Path, households: int, days: int, start: date, seed: int) -> str:
    """Reuse a cohort generated with the same arguments (generation is deterministic)."""
    from meterrisk.synth import generate

    wanted = {"households": households, "days": days, "start": str(start), "seed": seed}
    manifest = out / "manifest.json"
    if manifest.exists():
        have = json.loads(manifest.read_text())
        params = have.get("arguments", have)
        if all(str(params.get(k)) == str(v) for k, v in wanted.items()):
            return str(out)
    generate(out, households=households, days=days, start=start, seed=seed)
    return str(out)


@task(name="stage-cohort")
def stage_cohort(db: Path, cohort: Path, inbox: Path) -> dict:
    """Registry, questionnaires and temperatures into the store; readings into the inbox."""
    from meterrisk.model.dataset import load_assessments

    con = store.connect(db, create=True)  # the demo starts its own store
    try:
        reg = ingest.load_registry(con, cohort / "households.csv")
        if forget_outside_store(con, db, reg.withdrawn):
            finish_withdrawals(con, db)  # closes it
            con = store.connect(db, create=False)
        temps = ingest.load_temperature(con, cohort / "temperature.csv")
        assessed = load_assessments(con, cohort / "assessments.csv")
    finally:
        con.close()
    inbox.mkdir(parents=True, exist_ok=True)
    staged = 0
    for f in sorted((cohort / "readings").iterdir()):
        shutil.copy2(f, inbox / f"{cohort.name}-{f.name}")
        staged += 1
    return {"households": reg.households, "temperature_days": temps, "assessments": assessed, "files": staged}


@flow(name="demo")
@marks_run
def demo_flow(households: int = 600, days: int = 400, start: date = date(2025, 1, 6), seed: int = 20250106,
              db: Path | None = None, data_dir: Path = Path("data"), models_dir: Path = Path("models")) -> dict:
    if households < 50 or days < 180:
        raise MeterriskError("the demo needs at least 50 households and 180 days (a 12-week baseline plus survey waves)",
                             hint="meterrisk demo --households 300 --days 300")
    ws = Workspace.default(db or Path(data_dir) / "meterrisk.duckdb", data_dir=data_dir, models_dir=models_dir).ensure(create_store=True)
    stage(1, 5, f"generating the synthetic town ({households} households x {days} days; reused if generated before)")
    cohort = Path(generate_cohort(Path(data_dir) / "synthetic" / f"demo-{households}x{days}-s{seed}",
                                  households, days, start, seed))
    stage(2, 5, "loading the registry, questionnaires and temperatures")
    staged = stage_cohort(ws.db, cohort, ws.inbox)
    stage(3, 5, "daily job: ingest, features, alerts (the longest step)")
    daily = daily_flow(db=ws.db, inbox=ws.inbox)
    stage(4, 5, "training a model")
    trained = train_flow(db=ws.db, models_dir=ws.models, truth=cohort / "truth")
    stage(5, 5, "scoring, exporting the risk list, writing the report")
    risk = risk_list_flow(db=ws.db, models_dir=ws.models)
    snapshot = publish_snapshot(ws.db)
    return {"cohort": str(cohort), "staged": staged, "daily": daily, "train": trained, "risk_list": risk,
            "db": str(ws.db), "snapshot": snapshot, "models": str(ws.models)}
