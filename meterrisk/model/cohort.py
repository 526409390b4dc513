"""End-to-end evaluation of a trained model on a generated cohort it has never seen.

The cohort (readings/, households.csv, assessments.csv, truth/) is loaded into a fresh
store through the ingest API, features are computed by the features stage, and the model
is judged on every assessment; baselines are the age-only logistic (out-of-fold, grouped by
household) and the activity rule. Lead time uses truth/onsets.csv.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.model_selection import GroupKFold, cross_val_predict

from meterrisk import store
from meterrisk.errors import MeterriskError
from meterrisk.model import metrics, registry
from meterrisk.model.dataset import build_examples, feature_columns, load_assessments, to_matrix
from meterrisk.model.evaluation import activity_rule_score
from meterrisk.model.pipeline import make_age_baseline
from meterrisk.model.threads import capped
from meterrisk.model.training import lead_time


def load_cohort(con, cohort: Path) -> dict:
    """households.csv, readings/ and assessments.csv of a synth cohort into ``con``."""
    from meterrisk import ingest

    reg = ingest.load_registry(con, cohort / "households.csv")
    # Synth stamps carry offsets; naive ones would be the cohort's zone, which is the store's.
    profile = ingest.load_profile("default").with_overrides(timezone=store.setting(con, "timezone"))
    results = ingest.ingest_paths(con, [cohort / "readings"], profile)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise MeterriskError(f"{len(failed)} reading files of {cohort} failed to load: {failed[0].message}")
    temps = None
    if (cohort / "temperature.csv").exists() and hasattr(ingest, "load_temperature"):
        temps = ingest.load_temperature(con, cohort / "temperature.csv")
    counts = load_assessments(con, cohort / "assessments.csv")
    return {"households": reg.households, "reading_files": len(results), "assessments": counts,
            "temperature_loaded": temps is not None}


def _timezone(cohort: Path) -> str | None:
    m = cohort / "manifest.json"
    if m.exists():
        return json.loads(m.read_text()).get("arguments", {}).get("timezone")
    return None


@capped
def evaluate_on_cohort(model_dir: str | Path, cohort: str | Path, *, capacity: float | None = None,
                       workdir: str | Path | None = None, lead_every_days: int = 14,
                       lead_sample: int | None = None, seed: int = 0, concern_capacity: float | None = None) -> dict:
    cohort = Path(cohort)
    for need in ("households.csv", "assessments.csv", "readings"):
        if not (cohort / need).exists():
            raise MeterriskError(f"{cohort} has no {need}", hint="point --cohort at a folder written by meterrisk synth")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        con = store.connect(Path(tmp) / "eval.duckdb", timezone=_timezone(cohort))
        try:
            loaded_counts = load_cohort(con, cohort)
            ex = build_examples(con)
            loaded = registry.load(model_dir, available_features=feature_columns(ex))
            cap = capacity if capacity is not None else float(loaded.manifest.get("capacity", 0.10))
            y = ex["label"].to_numpy()
            prob = loaded.pipeline.predict_proba(ex.select(loaded.features).cast(pl.Float64))[:, 1]
            groups = ex["household_id"].to_numpy()
            age_prob = cross_val_predict(make_age_baseline(), to_matrix(ex, ["age"]), y, groups=groups,
                                         cv=GroupKFold(n_splits=5), method="predict_proba")[:, 1]
            out = {
                "model_version": loaded.version,
                "cohort": str(cohort),
                "loaded": loaded_counts,
                "examples": ex.height,
                "households_assessed": int(ex["household_id"].n_unique()),
                "model": metrics.classification_report(y, prob, capacity=cap),
                **({"trend": metrics.classification_report(
                    y, loaded.trend.predict_proba(ex.select(loaded.trend_features).cast(pl.Float64))[:, 1],
                    capacity=cap)} if loaded.trend is not None else {}),
                "baselines": {
                    "age_logistic_out_of_fold": metrics.classification_report(y, age_prob, capacity=cap),
                    "activity_rule": metrics.classification_report(y, activity_rule_score(ex), capacity=cap,
                                                                   calibrated=False),
                },
            }
            if (cohort / "truth" / "onsets.csv").exists():
                ids = [r[0] for r in con.execute(
                    "SELECT DISTINCT household_id FROM readings ORDER BY 1").fetchall()]
                out["new_concern"] = _new_concern(con, loaded, ids, cohort / "truth", high_capacity=cap,
                                                  capacity=concern_capacity, every_days=lead_every_days, seed=seed)
                if lead_sample is not None and lead_sample < len(ids):
                    # every declining resident plus a random sample as the population they rank in
                    from meterrisk.model.evaluation import read_onsets

                    dec = set(read_onsets(cohort / "truth").filter(pl.col("kind") == "declining")["household_id"])
                    rest = [h for h in ids if h not in dec]
                    rng = np.random.default_rng(seed)
                    keep = rng.choice(len(rest), size=max(0, lead_sample - len(dec & set(ids))), replace=False)
                    ids = sorted((dec & set(ids)) | {rest[i] for i in keep})
                trend = (loaded.trend, loaded.trend_features) if loaded.trend is not None else None
                out["lead_time"] = lead_time(con, loaded.pipeline, loaded.features, ids, cohort / "truth",
                                             capacity=cap, every_days=lead_every_days, trend=trend)
                out["model"]["lead_time_weeks_median"] = out["lead_time"]["lead_time_weeks_median"]
        finally:
            con.close()
    return out


def _new_concern(con, loaded, ids: list[str], truth: Path, *, high_capacity: float, capacity: float | None,
                 every_days: int, seed: int) -> dict:
    """The new-concern list replayed over the whole cohort against its controls, and the ceiling."""
    from meterrisk.model import concern, concern_ceiling
    from meterrisk.model.dataset import households_frame
    from meterrisk.model.evaluation import concern_evaluation

    cap = capacity if capacity is not None else float((loaded.manifest.get("concern") or {}).get(
        "capacity", concern.CAPACITY))
    out = concern_evaluation(con, loaded.pipeline, loaded.features, ids, truth, high_capacity=high_capacity,
                             capacity=cap, weights=concern.weights_of(loaded.manifest), every_days=every_days,
                             seed=seed)
    out["weights"] = concern.weights_of(loaded.manifest)
    if (truth / "frailty_daily.parquet").exists():
        out["ceiling"] = concern_ceiling.ceiling(
            truth, households_frame(con), high_capacity=high_capacity, capacity=cap, first_day=56,
            every_days=every_days, recent_days=concern.RECENT_DAYS, baseline_days=concern.EARLIER_DAYS, seed=seed)
    return out


def to_json(obj) -> str:
    def default(o):
        if isinstance(o, (np.floating, np.integer)):
            return o.item()
        return str(o)

    return json.dumps(obj, indent=2, default=default)
