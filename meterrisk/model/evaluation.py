"""Honest evaluation: split by household and time, baselines, lead time on synthetic truth."""

from __future__ import annotations

import hashlib
import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from meterrisk.model import metrics
from meterrisk.model.dataset import KEYS, to_matrix
from meterrisk.model.pipeline import make_age_baseline


def _in_test_group(household_id: str, share: float, seed: int) -> bool:
    h = hashlib.sha256(f"{seed}:{household_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64 < share


def split_household_time(
    examples: pl.DataFrame, *, test_households: float = 0.4, time_quantile: float = 0.5, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Train on earlier assessments of some households, test on later ones of the others.

    Households are assigned to the train or test group by a salted hash (stable across runs).
    With ``cutoff`` the ``time_quantile`` of assessment dates: train = train-group households
    assessed before ``cutoff``; test = test-group households assessed on or after it. A
    household is never on both sides. When all assessments share one date the time split is
    impossible and only the household split applies (reported in ``info['split']``).
    """
    ids = examples["household_id"].unique().to_list()
    test_ids = {h for h in ids if _in_test_group(h, test_households, seed)}
    in_test = pl.col("household_id").is_in(list(test_ids))
    dates = examples["as_of"].sort()
    cutoff = dates[min(len(dates) - 1, int(len(dates) * time_quantile))]
    train = examples.filter(~in_test & (pl.col("as_of") < cutoff))
    test = examples.filter(in_test & (pl.col("as_of") >= cutoff))
    kind = "household_and_time"
    if train.is_empty() or test.is_empty() or train["label"].n_unique() < 2:
        train, test, kind = examples.filter(~in_test), examples.filter(in_test), "household_only"
        cutoff = None
    info = {
        "split": kind,
        "time_cutoff": cutoff.isoformat() if cutoff else None,
        "train_examples": train.height,
        "test_examples": test.height,
        "train_households": train["household_id"].n_unique(),
        "test_households": test["household_id"].n_unique(),
        "train_window": [str(train["as_of"].min()), str(train["as_of"].max())] if train.height else None,
        "test_window": [str(test["as_of"].min()), str(test["as_of"].max())] if test.height else None,
    }
    return train, test, info


def _pick(columns: list[str], stem: str) -> str | None:
    """The plain level column for ``stem`` (not a delta, z-score or ratio), if any."""
    plain = [c for c in columns if stem in c and not any(t in c for t in ("delta", "_z", "ratio", "_sd", "slope", "weekend"))]
    return sorted(plain, key=len)[0] if plain else None


def activity_rule_score(df: pl.DataFrame) -> np.ndarray:
    """Baseline rule: low share of active half-hours and late wake-up rank high (ranks averaged)."""
    cols = df.columns
    parts = []
    act = _pick(cols, "active_share")
    wake = _pick(cols, "wake_time_h")
    if act:
        parts.append((-df[act].cast(pl.Float64)).rank("average"))
    if wake:
        parts.append(df[wake].cast(pl.Float64).rank("average"))
    if not parts:
        return np.zeros(df.height)
    s = pl.DataFrame({f"p{i}": p for i, p in enumerate(parts)}).mean_horizontal()
    return s.fill_null(s.mean()).fill_nan(s.mean()).to_numpy() / max(df.height, 1)


def evaluate_split(pipeline, train: pl.DataFrame, test: pl.DataFrame, features: list[str], *, capacity: float) -> dict:
    """Metrics of the fitted ``pipeline`` on ``test`` plus the two baselines on the same rows."""
    y_test = test["label"].to_numpy()
    prob = pipeline.predict_proba(test.select(features).cast(pl.Float64))[:, 1]
    model = metrics.classification_report(y_test, prob, capacity=capacity)
    age = make_age_baseline().fit(to_matrix(train, ["age"]), train["label"].to_numpy())
    age_prob = age.predict_proba(to_matrix(test, ["age"]))[:, 1]
    rule = activity_rule_score(test)
    return {
        "model": model,
        "baselines": {
            "age_logistic": metrics.classification_report(y_test, age_prob, capacity=capacity),
            "activity_rule": {
                **metrics.classification_report(y_test, rule, capacity=capacity, calibrated=False),
                "columns": [c for c in (_pick(test.columns, "active_share"), _pick(test.columns, "wake_time_h")) if c],
            },
        },
    }


# ---- lead time on synthetic ground truth -------------------------------------------------

def read_onsets(truth_dir: str | Path) -> pl.DataFrame:
    p = Path(truth_dir) / "onsets.csv"
    if not p.exists():
        raise FileNotFoundError(f"no onsets.csv in {truth_dir}")
    df = pl.read_csv(p, infer_schema_length=10_000)
    if "kind" not in df.columns and "trajectory" in df.columns:
        df = df.rename({"trajectory": "kind"})
    for c in ("onset_date", "frail_from_date"):
        if c in df.columns:
            df = df.with_columns(pl.col(c).cast(pl.String).str.to_date(strict=False))
    return df.with_columns(pl.col("household_id").cast(pl.String))


def as_of_grid(start: date, end: date, *, every_days: int = 14) -> list[date]:
    out, d = [], start
    while d <= end:
        out.append(d)
        d += timedelta(days=every_days)
    return out


def first_flags(scores: pl.DataFrame, capacity: float) -> pl.DataFrame:
    """First as-of date each household is in the top ``capacity`` share of that date's scores.

    ``scores``: household_id, as_of, risk_score (only scored rows).
    """
    ranked = scores.with_columns(
        pl.col("risk_score").rank("ordinal", descending=True).over("as_of").alias("_rank"),
        pl.len().over("as_of").alias("_n"),
    ).with_columns(
        (pl.col("_n").cast(pl.Float64) * capacity).round().clip(lower_bound=1).alias("_k")
    )
    return ranked.filter(pl.col("_rank") <= pl.col("_k")).group_by("household_id").agg(
        pl.col("as_of").min().alias("first_flagged")
    )


def lead_time_summary(first: pl.DataFrame, onsets: pl.DataFrame, households: list[str] | None = None) -> dict:
    """Lead time (weeks, positive = flagged before ``frail_from_date``) for declining residents."""
    dec = onsets.filter(pl.col("kind") == "declining")
    if households is not None:
        dec = dec.filter(pl.col("household_id").is_in(households))
    j = dec.join(first, on="household_id", how="left")
    leads = [
        metrics.lead_time_weeks(f, t) for f, t in zip(j["first_flagged"].to_list(), j["frail_from_date"].to_list())
    ]
    flagged = [x for x in leads if not math.isnan(x)]
    return {
        "declining_households": dec.height,
        "flagged_ever": len(flagged),
        "flagged_before_frail": sum(1 for x in flagged if x > 0),
        "lead_time_weeks_median": metrics.median_or_nan(flagged),
        "lead_time_weeks_p25": float(np.percentile(flagged, 25)) if flagged else math.nan,
        "lead_time_weeks_p75": float(np.percentile(flagged, 75)) if flagged else math.nan,
    }


def score_grid(con, loaded_pipeline, features: list[str], households: list[str], dates: list[date],
               *, feature_fn=None, trend=None) -> pl.DataFrame:
    """Model scores for every household x as-of date with sufficient data.

    With ``trend`` = (pipeline, features), a ``trend_score`` column is added.
    """
    from meterrisk.model.dataset import INSUFFICIENT, features_for

    req = pl.DataFrame({"household_id": households}).join(
        pl.DataFrame({"as_of": dates}, schema={"as_of": pl.Date}), how="cross"
    )
    feats = features_for(con, req, feature_fn=feature_fn)
    if "dq_flag" in feats.columns:
        feats = feats.filter(pl.col("dq_flag").is_null() | (pl.col("dq_flag") != INSUFFICIENT))
    if feats.is_empty():
        schema = {"household_id": pl.String, "as_of": pl.Date, "risk_score": pl.Float64}
        return pl.DataFrame(schema={**schema, "trend_score": pl.Float64} if trend else schema)
    prob = loaded_pipeline.predict_proba(feats.select(features).cast(pl.Float64))[:, 1]
    out = feats.select(KEYS).with_columns(pl.Series("risk_score", prob))
    if trend is not None:
        tpipe, tfeatures = trend
        out = out.with_columns(pl.Series("trend_score", tpipe.predict_proba(feats.select(tfeatures).cast(pl.Float64))[:, 1]))
    return out


# ---- the new-concern list on synthetic ground truth ----------------------------------------

def concern_evaluation(con, pipeline, features: list[str], households: list[str], truth_dir: str | Path, *,
                       high_capacity: float, capacity: float, weights: dict[str, float], every_days: int = 14,
                       feature_fn=None, seed: int = 0) -> dict:
    """Replay the monthly lists every ``every_days`` and judge the new-concern list with truth.

    List dates run from 8 weeks after the first reading (the earlier weeks the concern score
    compares must exist) to the last; on each, the eligible ``households`` with a risk score
    form the list. The new-concern list is judged next to a random list and the current risk
    among the non-high residents, same dates, pool, size and rule
    (:func:`meterrisk.model.concern_lists.compare`).
    """
    from meterrisk.model import concern, concern_lists
    from meterrisk.model.dataset import households_frame
    from meterrisk.model.eligibility import eligibility

    lo, hi = con.execute("SELECT min(local_date), max(local_date) FROM readings").fetchall()[0]
    if lo is None:
        return {"note": "no readings"}
    dates = as_of_grid(lo + timedelta(days=56), hi, every_days=every_days)
    risk = score_grid(con, pipeline, features, households, dates, feature_fn=feature_fn)
    hh = households_frame(con)
    parts = []
    for d in dates:
        ok = eligibility(hh, d).filter("eligible")["household_id"].to_list()
        s = risk.filter((pl.col("as_of") == d) & pl.col("household_id").is_in(ok))
        if s.height:
            c = concern.concern_scores(con, d, s["household_id"].to_list(), weights)
            parts.append(s.join(c.select("household_id", "concern_score"), on="household_id", how="left"))
    if not parts:
        return {"note": "no scored residents on the list dates"}
    scores = pl.concat(parts)
    onsets = read_onsets(truth_dir)
    truth_end = _truth_end(truth_dir, hi)
    out = concern_lists.compare(scores, onsets, high_capacity=high_capacity, capacity=capacity,
                                truth_end=truth_end, seed=seed)
    out.update({"every_days": every_days, "first_list_date": str(dates[0]), "truth_end": str(truth_end),
                "scored_rows": scores.height, "concern_scored_rows": int(scores["concern_score"].is_not_null().sum())})
    return out


def _truth_end(truth_dir: str | Path, fallback: date) -> date:
    """Last day of the truth period (frailty_daily), else the last reading day."""
    p = Path(truth_dir) / "frailty_daily.parquet"
    if p.exists():
        return pl.scan_parquet(p).select(pl.col("date").max()).collect().item()
    return fallback
