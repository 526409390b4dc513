"""``meterrisk train``: examples -> split -> fit -> evaluate -> model folder."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import polars as pl

from meterrisk.errors import MeterriskError
from meterrisk.model import concern, evaluation, registry
from meterrisk.model.card import model_card
from meterrisk.model.change import care_team_first_flags, change_columns
from meterrisk.model.dataset import build_examples, feature_columns, fingerprint
from meterrisk.model.pipeline import make_pipeline
from meterrisk.model.threads import limited


def lead_time(con, pipeline, features, households, truth_dir, *, capacity, every_days=14, feature_fn=None,
              trend=None) -> dict:
    """Score ``households`` every ``every_days`` over the readings span; lead time vs truth.

    The top-level figures are the high tier's (the top ``capacity`` share by risk score: the
    original definition). With ``trend`` = (pipeline, features), the lists are replayed with
    the new-concern list too (:mod:`meterrisk.model.change`): ``new_concern`` and ``either``
    (the first date on either list) are added, and ``new_concern_random`` as a control: the
    same replay with a random trend score, to show what list size alone buys.
    """
    lo, hi = con.execute("SELECT min(local_date), max(local_date) FROM readings").fetchall()[0]
    if lo is None:
        return {"lead_time_weeks_median": math.nan, "note": "no readings"}
    dates = evaluation.as_of_grid(lo + timedelta(days=28), hi, every_days=every_days)
    scores = evaluation.score_grid(con, pipeline, features, households, dates, feature_fn=feature_fn, trend=trend)
    onsets = evaluation.read_onsets(truth_dir)
    first = evaluation.first_flags(scores, capacity)
    out = evaluation.lead_time_summary(first, onsets, households)
    if trend is not None and scores.height:
        def summary(replay: pl.DataFrame, col: str) -> dict:
            first = replay.select("household_id", pl.col(col).alias("first_flagged")).drop_nulls()
            return evaluation.lead_time_summary(first, onsets, households)

        replay = care_team_first_flags(scores, capacity)
        out["new_concern"] = summary(replay, "first_new_concern")
        out["either"] = summary(replay, "first_either")
        rnd = scores.with_columns(pl.Series("trend_score", np.random.default_rng(0).random(scores.height)))
        out["new_concern_random"] = summary(care_team_first_flags(rnd, capacity), "first_new_concern")
    out.update({"as_of_every_days": every_days, "as_of_dates": len(dates), "scored_households": len(households)})
    return out


def train(con, *, models_dir: str | Path = "models", capacity: float = 0.10, truth_dir: str | Path | None = None,
          concern_capacity: float = concern.CAPACITY,
          version: str | None = None, feature_fn=None, seed: int = 0, cv: int = 5,
          refit: bool = True, max_iter: int = 300, trend: bool = False,
          threads: int | None = None) -> tuple[Path, dict]:
    """Build examples, evaluate on a household+time split, save a model folder.

    The metrics (and lead time) are those of the pipeline fitted on the training side of the
    split only. With ``refit`` (default) the saved pipeline is then refitted on every example,
    as usual once the protocol has been judged; `meterrisk evaluate` on an unseen cohort
    measures the saved pipeline itself.

    ``trend`` (off by default: it doubles the fitting time and is not validated, see
    docs/model.md) also fits the change-aware trend pipeline behind the new-concern list.

    ``threads`` caps the OpenMP/BLAS threads of every fit and prediction (default:
    :func:`meterrisk.model.threads.thread_count`); it changes the time taken, not the model.
    """
    with limited(threads):
        return _train(con, models_dir=models_dir, capacity=capacity, concern_capacity=concern_capacity,
                      truth_dir=truth_dir, version=version,
                      feature_fn=feature_fn, seed=seed, cv=cv, refit=refit, max_iter=max_iter, trend=trend)


def _train(con, *, models_dir, capacity, concern_capacity, truth_dir, version, feature_fn, seed, cv, refit, max_iter,
           trend) -> tuple[Path, dict]:
    examples = build_examples(con, feature_fn=feature_fn)
    features = feature_columns(examples)
    if examples.height < 20 or examples["label"].n_unique() < 2:
        raise MeterriskError(
            f"{examples.height} usable examples ({examples['label'].sum()} frail): too few to train",
            hint="load more assessments or readings covering the 28 days before each assessment",
        )
    train_df, test_df, split = evaluation.split_household_time(examples, seed=seed)
    # New-concern channel weights from the labelled households (no fit: a few means; JSON).
    concern_weights = concern.learn_weights(con, train_df.select("household_id", "as_of", "label"))
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
    trend_features = change_columns(features) if trend else []
    trend_pipe = None
    if trend_features:
        trend_pipe = make_pipeline(random_state=seed, cv=cv, max_iter=max_iter)
        trend_pipe.fit(train_df.select(trend_features).cast(pl.Float64), train_df["label"].to_numpy())
        m["trend"] = evaluation.evaluate_split(trend_pipe, train_df, test_df, trend_features, capacity=capacity)["model"]
    if truth_dir is not None:
        lt = lead_time(con, pipe, features, test_df["household_id"].unique().sort().to_list(), truth_dir,
                       capacity=capacity, feature_fn=feature_fn,
                       trend=(trend_pipe, trend_features) if trend_pipe is not None else None)
        m["lead_time_weeks_median"] = lt["lead_time_weeks_median"]
        m["lead_time"] = lt
        m["new_concern"] = evaluation.concern_evaluation(
            con, pipe, features, test_df["household_id"].unique().sort().to_list(), truth_dir,
            high_capacity=capacity, capacity=concern_capacity, weights=concern_weights["weights"],
            feature_fn=feature_fn)
        if "new_concern" in lt:
            m["lead_time_new_concern_weeks_median"] = lt["new_concern"]["lead_time_weeks_median"]
            m["lead_time_either_list_weeks_median"] = lt["either"]["lead_time_weeks_median"]
    else:
        m["lead_time_weeks_median"] = None
        m["lead_time"] = {"note": "no --truth given: lead time not measured"}
    shipped, shipped_trend = pipe, trend_pipe
    if refit:
        shipped = make_pipeline(random_state=seed, cv=cv, max_iter=max_iter)
        shipped.fit(examples.select(features).cast(pl.Float64), examples["label"].to_numpy())
        if trend_pipe is not None:
            shipped_trend = make_pipeline(random_state=seed, cv=cv, max_iter=max_iter)
            shipped_trend.fit(examples.select(trend_features).cast(pl.Float64), examples["label"].to_numpy())
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
        # like the pipeline: from every example when refitted (the split's figures use the training side's)
        "concern": {**(concern.learn_weights(con, examples.select("household_id", "as_of", "label")) if refit
                       else concern_weights),
                    "capacity": concern_capacity, "recent_days": concern.RECENT_DAYS,
                    "earlier_days": list(concern.EARLIER_DAYS),
                    "rule": "top capacity share of scored residents by concern_score among those not high "
                            "on this or an earlier list"},
    }
    extra = {}
    if shipped_trend is not None:
        manifest["trend"] = {"feature_names": trend_features,
                             "label": "the same label, from the household's own-deviation features only",
                             "new_concern": "top capacity share by trend score among households not high "
                                            "on this or an earlier list"}
        extra[registry.TREND] = shipped_trend
    path = registry.save(shipped, manifest, models_dir, card=model_card(manifest), extra=extra)
    return path, manifest
