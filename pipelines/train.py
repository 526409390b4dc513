"""Training flow: fit, evaluate, and promote only a model that beats the current one."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task

from meterrisk import store
from meterrisk.errors import MeterriskError
from meterrisk.model.registry import current, promote
from pipelines.artifacts import markdown
from pipelines.promotion import should_promote
from pipelines.workspace import Workspace, marks_run


@task(name="train-model")
def train_model(db: Path, models_dir: Path, capacity: float, truth: Path | None, seed: int) -> str:
    from meterrisk.model.training import train

    con = store.connect(db, create=False)
    try:
        path, _ = train(con, models_dir=models_dir, capacity=capacity, truth_dir=truth, seed=seed)
    finally:
        con.close()
    return str(path)


@flow(name="train")
@marks_run
def train_flow(db: Path | None = None, models_dir: Path | None = None, capacity: float = 0.10,
               truth: Path | None = None, seed: int = 0) -> dict:
    if not 0 < capacity < 1:
        raise ValueError(f"capacity must be a share between 0 and 1, not {capacity}")
    ws = Workspace.default(db, models_dir=models_dir or "models").ensure()
    try:
        before = current(ws.models)
    except MeterriskError:  # no model yet, or none promoted among several: the candidate has no rival
        before = None
    candidate = Path(train_model(ws.db, ws.models, capacity, truth, seed))
    promoted, why = should_promote(candidate, before)
    if promoted:
        promote(ws.models, candidate)
    markdown("train-summary", f"# Training\n\nCandidate `{candidate.name}`: "
             f"{'promoted' if promoted else 'not promoted'} ({why}).\n\nSee `{candidate}/MODEL_CARD.md`.",
             "Model trained and promotion decision")
    return {"candidate": candidate.name, "promoted": promoted, "why": why,
            "current": (candidate if promoted else before).name if (promoted or before) else None}
