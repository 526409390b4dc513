"""Which model scores: ``models/CURRENT`` names the promoted version.

A newly trained model is promoted only if it beats the current one on its evaluation
report (precision at capacity first, then PR-AUC), so a quarterly retrain on a bad batch
of questionnaires cannot silently make the risk list worse.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from meterrisk.errors import MeterriskError

POINTER = "CURRENT"


def current_model(models_dir: Path) -> Path:
    pointer = Path(models_dir) / POINTER
    if pointer.exists():
        path = Path(models_dir) / pointer.read_text(encoding="utf-8").strip()
        if (path / "manifest.json").exists():
            return path
    found = sorted(p for p in Path(models_dir).glob("*") if (p / "manifest.json").exists())
    if not found:
        raise MeterriskError(f"no trained model in {models_dir}/", hint="run `meterrisk train` first")
    return found[-1]


def _key(manifest: dict) -> tuple[float, float]:
    m = manifest.get("metrics", {})
    def num(x):
        return float(x) if isinstance(x, (int, float)) and x == x else float("-inf")
    return num(m.get("precision_at_capacity")), num(m.get("pr_auc"))


def should_promote(candidate: Path, current: Path | None) -> tuple[bool, str]:
    new = json.loads((candidate / "manifest.json").read_text())
    if current is None or current == candidate:
        return True, "no current model"
    old = json.loads((current / "manifest.json").read_text())
    if _key(new) > _key(old):
        return True, f"precision@capacity, PR-AUC {_key(new)} beat {_key(old)} of {current.name}"
    return False, f"{_key(new)} does not beat {_key(old)} of {current.name}"


def promote(models_dir: Path, candidate: Path) -> None:
    pointer = Path(models_dir) / POINTER
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(candidate.name + "\n", encoding="utf-8")
    os.replace(tmp, pointer)
