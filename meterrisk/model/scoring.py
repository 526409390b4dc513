"""``meterrisk score``: a monthly risk list for the households eligible on an as-of date.

Every registry household gets a row: ``scored`` with a calibrated probability, tier, rank and
reasons, or ``not_scored`` with the rule it failed or ``insufficient data``. Never a made-up
score. Rows for the same as-of date and model version are replaced in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import polars as pl

from meterrisk.errors import MeterriskError
from meterrisk.model import registry
from meterrisk.store import frame
from meterrisk.model.dataset import INSUFFICIENT, feature_columns, features_for, households_frame
from meterrisk.model import concern
from meterrisk.model.concern_lists import pick
from meterrisk.model.concern_reasons import concern_reasons
from meterrisk.model.eligibility import eligibility
from meterrisk.model.metrics import top_k
from meterrisk.model.reasons import explain
from meterrisk.model.threads import capped
from meterrisk.store import transaction

INSUFFICIENT_REASON = "insufficient data"
NO_SINGLE_REASON = "overall pattern of use resembles residents found frail; no single change stands out"


def tiers(n: int, capacity: float) -> tuple[int, int]:
    """(last high rank, last medium rank): high = top ``capacity`` share, medium = up to 2x."""
    return top_k(n, capacity), top_k(n, min(1.0, 2 * capacity))


def _quality(row_flag, valid) -> str:
    if row_flag == INSUFFICIENT:
        return f"{INSUFFICIENT}: {valid or 0} of 28 days valid"
    return f"ok: {valid} of 28 days valid" if valid is not None else "ok"


@capped  # predict_proba (and every reason's re-prediction) runs OpenMP regions
def score(con, as_of: date, *, model: str | Path | None = None, models_dir: str | Path = "models",
          capacity: float | None = None, concern_capacity: float | None = None, feature_fn=None) -> dict:
    """Score every registry household on ``as_of``; write ``risk_scores``; return counts.

    Beside the tiers, the new-concern list: the top ``concern_capacity`` share (default the
    model's, else :data:`meterrisk.model.concern.CAPACITY`) of scored residents by own-change
    score (:mod:`meterrisk.model.concern`), not high now nor on an earlier list, with reasons
    phrased as change.
    """
    model_path = Path(model) if model else registry.current(models_dir)
    # Recorded with the list: v_risk_latest and the export show promoted lists only.
    promoted = registry.is_current(model_path, models_dir)
    hh = households_frame(con)
    if hh.is_empty():
        raise MeterriskError("the household registry is empty", hint="load the registry first: meterrisk households FILE")
    if feature_fn is None:  # features from the store's readings (a feature_fn brings its own)
        require_readings_by(con, as_of)
    elig = eligibility(hh, as_of)
    eligible_ids = elig.filter(pl.col("eligible"))["household_id"].to_list()
    feats = features_for(con, pl.DataFrame({"household_id": eligible_ids, "as_of": [as_of] * len(eligible_ids)},
                                           schema={"household_id": pl.String, "as_of": pl.Date}),
                         feature_fn=feature_fn)
    loaded = registry.load(model_path, available_features=feature_columns(feats) if feats.height else None)
    cap = capacity if capacity is not None else float(loaded.manifest.get("capacity", 0.10))
    features = loaded.features

    if "dq_flag" not in feats.columns:
        feats = feats.with_columns(pl.lit(None, pl.String).alias("dq_flag"))
    if "valid_days_28d" not in feats.columns:
        feats = feats.with_columns(pl.lit(None, pl.Int32).alias("valid_days_28d"))
    ok = feats.filter(pl.col("dq_flag").is_null() | (pl.col("dq_flag") != INSUFFICIENT))
    scored = pl.DataFrame(schema={"household_id": pl.String, "risk_score": pl.Float64, "trend_score": pl.Float64,
                                  "reasons": pl.List(pl.String), "data_quality": pl.String})
    if ok.height:
        prob = loaded.pipeline.predict_proba(ok.select(features).cast(pl.Float64))[:, 1]
        # The rows the ranking below puts in the high and medium tiers always get a reason.
        listed = np.zeros(ok.height, bool)
        listed[np.lexsort((ok["household_id"].to_numpy(), -prob))[:tiers(ok.height, cap)[1]]] = True
        reasons = explain(loaded.pipeline, ok, features, prob, at_least_one=listed)
        trend = (loaded.trend.predict_proba(ok.select(loaded.trend_features).cast(pl.Float64))[:, 1]
                 if loaded.trend is not None else [None] * ok.height)
        scored = ok.select("household_id").with_columns(
            pl.Series("risk_score", prob, dtype=pl.Float64),
            pl.Series("trend_score", trend, dtype=pl.Float64),
            pl.Series("reasons", reasons, dtype=pl.List(pl.String)),
            pl.Series("data_quality", [_quality(f, v) for f, v in zip(ok["dq_flag"], ok["valid_days_28d"])], dtype=pl.String),
        )
    n = scored.height
    hi, med = tiers(n, cap) if n else (0, 0)
    scored = scored.sort(["risk_score", "household_id"], descending=[True, False]).with_columns(
        pl.int_range(1, n + 1, dtype=pl.Int32).alias("rank")
    ).with_columns(
        pl.when(pl.col("rank") <= hi).then(pl.lit("high")).when(pl.col("rank") <= med).then(pl.lit("medium"))
        .otherwise(pl.lit("low")).alias("risk_tier"),
        pl.lit("scored").alias("status"),
        pl.lit(None, pl.String).alias("not_scored_reason"),
    ).with_columns(
        # Said plainly rather than left blank: the model sees a pattern, not one clear change.
        pl.when((pl.col("reasons").list.len() == 0) & pl.col("risk_tier").is_in(["high", "medium"]))
        .then(pl.lit([NO_SINGLE_REASON], dtype=pl.List(pl.String))).otherwise(pl.col("reasons")).alias("reasons")
    )
    scored, concern_cap = _new_concern(con, scored, as_of, loaded.manifest, concern_capacity)
    insufficient = feats.filter(pl.col("dq_flag") == INSUFFICIENT).select(
        "household_id",
        pl.struct("dq_flag", "valid_days_28d").map_elements(
            lambda s: _quality(s["dq_flag"], s["valid_days_28d"]), return_dtype=pl.String).alias("data_quality"))
    no_rows = [h for h in eligible_ids if h not in set(feats["household_id"].to_list())]
    not_scored = pl.concat([
        elig.filter(~pl.col("eligible")).select("household_id", "not_scored_reason",
                                                pl.lit(None, pl.String).alias("data_quality")),
        insufficient.select("household_id", pl.lit(INSUFFICIENT_REASON).alias("not_scored_reason"), "data_quality"),
        pl.DataFrame({"household_id": no_rows, "not_scored_reason": [INSUFFICIENT_REASON] * len(no_rows),
                      "data_quality": [f"{INSUFFICIENT}: no readings"] * len(no_rows)},
                     schema={"household_id": pl.String, "not_scored_reason": pl.String, "data_quality": pl.String}),
    ]).with_columns(pl.lit("not_scored").alias("status"))
    rows = pl.concat([scored, not_scored], how="diagonal_relaxed").with_columns(
        pl.lit(as_of, pl.Date).alias("as_of"),
        pl.lit(loaded.version).alias("model_version"),
        pl.lit(datetime.now(timezone.utc).replace(tzinfo=None)).alias("scored_at"),
    ).select("household_id", "as_of", "model_version", "risk_score", "risk_tier", "rank", "reasons",
             "data_quality", "status", "not_scored_reason", "scored_at", "trend_score", "new_concern",
             "concern_score", "concern_reasons")
    _write(con, rows, as_of, loaded.version, promoted=promoted, scored=n)
    counts = rows.group_by("status", "not_scored_reason").len().sort("len", descending=True)
    return {
        "as_of": as_of.isoformat(), "model_version": loaded.version, "promoted": promoted, "capacity": cap,
        "scored": n, "high": min(hi, n), "medium": max(0, min(med, n) - hi),
        "new_concern": int(scored["new_concern"].sum()), "concern_capacity": concern_cap,
        "not_scored": {r["not_scored_reason"]: r["len"] for r in counts.filter(pl.col("status") == "not_scored").to_dicts()},
    }


def readings_span(con) -> tuple[date | None, date | None]:
    """(first, last) local date of the store's readings; (None, None) without readings."""
    return con.execute("SELECT min(local_date), max(local_date) FROM readings").fetchall()[0]


def require_readings_by(con, as_of: date) -> None:
    """A date before the store's first reading: one clear error, not a list of nobody.

    Nobody can have a window then, so such a list says nothing; the date is almost surely a
    slip (a wrong year). A date after the last reading is scored: late deliveries happen, and
    the list then says who has too little data."""
    first, last = readings_span(con)
    if first is None or as_of < first:
        raise MeterriskError(f"no readings on or before {as_of:%Y-%m-%d}: nothing to score",
                             hint=f"the store's readings run {first} to {last}" if first
                             else "load readings first: meterrisk ingest DIR")


def _new_concern(con, scored: pl.DataFrame, as_of: date, manifest: dict,
                 capacity: float | None) -> tuple[pl.DataFrame, float]:
    """``scored`` with concern_score, new_concern and concern_reasons; and the capacity used."""
    cap = capacity if capacity is not None else float((manifest.get("concern") or {}).get("capacity", concern.CAPACITY))
    weights = concern.weights_of(manifest)
    stats = concern.concern_scores(con, as_of, scored["household_id"].to_list(), weights)
    scored = scored.join(stats.select("household_id", "concern_score"), on="household_id", how="left")
    flags = pick(scored.with_columns((pl.col("risk_tier") == "high").alias("_high")), cap,
                 _earlier_high(con, as_of), high="_high")
    scored = scored.with_columns(flags)
    listed = set(scored.filter("new_concern")["household_id"])
    texts = {r["household_id"]: concern_reasons(r, weights, as_of)
             for r in stats.filter(pl.col("household_id").is_in(sorted(listed))).to_dicts()}
    reasons = pl.Series("concern_reasons", [texts.get(h) if h in listed else None for h in scored["household_id"]],
                        dtype=pl.List(pl.String))
    return scored.with_columns(reasons), cap


def _earlier_high(con, as_of: date) -> set[str]:
    """Households in the high tier of any list before ``as_of`` (any model version)."""
    rows = con.execute("SELECT DISTINCT household_id FROM risk_scores WHERE as_of < ? AND risk_tier = 'high'",
                       [as_of]).fetchall()
    return {r[0] for r in rows}


def _write(con, rows: pl.DataFrame, as_of: date, version: str, *, promoted: bool, scored: int) -> None:
    scored_at = rows["scored_at"][0]
    with transaction(con, _risk_in=rows.to_arrow()):
        con.execute("DELETE FROM risk_scores WHERE as_of = ? AND model_version = ?", [as_of, version])
        con.execute("INSERT INTO risk_scores BY NAME SELECT * FROM _risk_in")
        con.execute("INSERT OR REPLACE INTO risk_lists VALUES (?, ?, ?, ?, ?)",
                    [as_of, version, promoted, scored_at, scored])


def promoted_version(con, as_of: date) -> str:
    """The model version of the newest promoted list of ``as_of``; a clear error if none."""
    rows = con.execute("SELECT model_version FROM risk_lists WHERE as_of = ? AND promoted "
                       "ORDER BY scored_at DESC LIMIT 1", [as_of]).fetchall()
    if rows:
        return rows[0][0]
    others = [r[0] for r in con.execute("SELECT model_version FROM risk_lists WHERE as_of = ? ORDER BY scored_at DESC",
                                        [as_of]).fetchall()]
    if not others:
        raise MeterriskError(f"no risk scores for {as_of}", hint=f"run `meterrisk score --as-of {as_of}` first")
    raise MeterriskError(f"no list of {as_of} was scored with the promoted model (scored: {', '.join(others)})",
                         hint=f"run `meterrisk score --as-of {as_of}` (it uses models/CURRENT), "
                              "or name a list with --model-version")


def risk_list(con, as_of: date, model_version: str | None = None) -> pl.DataFrame:
    """Rows of one as-of date's list: the promoted one unless ``model_version`` names another."""
    if model_version is None:
        model_version = promoted_version(con, as_of)
    elif not con.execute("SELECT 1 FROM risk_lists WHERE as_of = ? AND model_version = ?",
                         [as_of, model_version]).fetchall():
        raise MeterriskError(f"no risk scores for {as_of} with model {model_version}",
                             hint=f"run `meterrisk score --as-of {as_of} --model models/{model_version}` first")
    return frame(con, "SELECT * FROM risk_scores WHERE as_of = ? AND model_version = ? ORDER BY rank NULLS LAST",
                 [as_of, model_version])
