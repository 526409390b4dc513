"""Whether a newly trained model replaces the promoted one (``models/CURRENT``).

A newly trained model is promoted only if it beats the current one on its evaluation
report (precision at capacity first, then PR-AUC), so a quarterly retrain on a bad batch
of questionnaires cannot silently make the risk list worse. Which model is current, and
writing the pointer, live in the library (``meterrisk.model.registry``): ``meterrisk
score`` follows the same pointer as the flows.
"""

from __future__ import annotations

import json
from pathlib import Path



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

