"""``meterrisk train``: examples -> split -> fit -> evaluate -> model folder."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import polars as pl

from meterrisk.errors import MeterriskError
from meterrisk.model import evaluation, registry
from meterrisk.model.card import model_card
from meterrisk.model.dataset import build_examples, feature_columns, fingerprint
from meterrisk.model.pipeline import make_pipeline


def lead_time(con, pipeline, features, households, truth_dir, *, capacity, every_days=14, feature_fn=None) -> dict:
    """Score ``households`` every ``every_days`` over the readings span; lead time vs truth."""
    lo, hi = con.execute("SELECT min(local_date), max(local_date) FROM readings").fetchall()[0]
    if lo is None:
        return {"lead_time_weeks_median": math.nan, "note": "no readings"}
    dates = evaluation.as_of_grid(lo + timedelta(days=28), hi, every_days=every_days)
    scores = evaluation.score_grid(con, pipeline, features, households, dates, feature_fn=feature_fn)
    first = evaluation.first_flags(scores, capacity)
    out = evaluation.lead_time_summary(first, evaluation.read_onsets(truth_dir), households)
    out.update({"as_of_every_days": every_days, "as_of_dates": len(dates), "scored_households": len(households)})
    return out


def train(con, *, models_dir: str | Path = "models", capacity: float = 0.10, truth_dir: str | Path | None = None,
          version: str | None = None, feature_fn=None, seed: int = 0, cv: int = 5,
          refit: bool = True, max_iter: int = 300) -> tuple[Path, dict]:
    """Build examples, evaluate on a household+time split, save a model folder.

    The metrics (and lead time) are those of the pipeline fitted on the training side of the
    split only. With ``refit`` (default) the saved pipeline is then refitted on every example,
    as usual once the protocol has been judged; `meterrisk evaluate` on an unseen cohort
    measures the saved pipeline itself.
    """
    examples = build_examples(con, feature_fn=feature_fn)
    features = feature_columns(examples)
    if examples.height < 20 or examples["label"].n_unique() < 2:
        raise MeterriskError(
            f"{examples.height} usable examples ({examples['label'].sum()} frail): too few to train",
            hint="load more assessments or readings covering the 28 days before each assessment",
        )
    train_df, test_df, split = evaluation.split_household_time(examples, seed=seed)
    # Calibration cross-validates inside the training side: each class needs a case per fold.
    per_class = train_df["label"].value_counts()
    smallest = int(per_class["count"].min()) if per_class["label"].n_unique() == 2 else 0
    if smallest < cv:
        raise MeterriskError(
            f"the training split has {smallest} examples of its smaller class (frail or not); "
            f"calibration needs at least {cv}",
            hint="load more assessments (more households or survey waves) before training",
        )
    pipe = make_pipeline(random_state=seed, cv=cv, max_iter=max_iter)
    pipe.fit(train_df.select(features).cast(pl.Float64), train_df["label"].to_numpy())
    report = evaluation.evaluate_split(pipe, train_df, test_df, features, capacity=capacity)
    m = dict(report["model"])
    if truth_dir is not None:
        lt = lead_time(con, pipe, features, test_df["household_id"].unique().sort().to_list(), truth_dir,
                       capacity=capacity, feature_fn=feature_fn)
        m["lead_time_weeks_median"] = lt["lead_time_weeks_median"]
        m["lead_time"] = lt
    else:
        m["lead_time_weeks_median"] = None
        m["lead_time"] = {"note": "no --truth given: lead time not measured"}
    shipped = pipe
    if refit:
        shipped = make_pipeline(random_state=seed, cv=cv, max_iter=max_iter)
        shipped.fit(examples.select(features).cast(pl.Float64), examples["label"].to_numpy())
    now = datetime.now(timezone.utc)
    version = version or registry.new_version(now)
    manifest = {
        "version": version,
        "trained_at": now.isoformat(timespec="seconds"),
        "training_window": [str(examples["as_of"].min()), str(examples["as_of"].max())],
        "split": split,
        "fitted_on": "all examples (refit after the split evaluation)" if refit else "training split only",
        "examples": examples.height,
        "frail_examples": int(examples["label"].sum()),
        "data_fingerprint": fingerprint(examples),
        "feature_names": features,
        "label": "Kihon Checklist score >= 8 (frail)",
        "capacity": capacity,
        "library_versions": registry.library_versions(),
        "metrics": m,
        "baselines": report["baselines"],
    }
    path = registry.save(shipped, manifest, models_dir, card=model_card(manifest))
    return path, manifest
