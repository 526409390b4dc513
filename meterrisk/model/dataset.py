"""Training examples: each assessment joined to the household's window features as of that date.

The label is the frailty questionnaire outcome (Kihon Checklist score >= 8 = frail). Features
only use readings up to the assessment date, so an example never sees its own future.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import duckdb
import numpy as np
import polars as pl

from meterrisk.errors import MeterriskError
from meterrisk.model.assessments import FRAIL_CUTOFF, load_assessments  # noqa: F401 (they lived here)
from meterrisk.store import frame, registered

KEYS = ["household_id", "as_of"]
#: Columns of the window-feature table that are not model inputs.
NON_FEATURES = {"household_id", "as_of", "dq_flag", "label", "frail", "assessed_on"}
INSUFFICIENT = "insufficient_data"

FeatureFn = Callable[[duckdb.DuckDBPyConnection, pl.DataFrame], pl.DataFrame]


def default_feature_fn() -> FeatureFn:
    try:
        from meterrisk.features import window_features
    except ImportError as exc:  # the features stage is a separate package
        raise MeterriskError(
            "meterrisk.features.window_features is not available",
            hint="install or update meterrisk with the features stage",
        ) from exc
    return window_features


def households_frame(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return frame(con, "SELECT * FROM households")


def add_age(df: pl.DataFrame, households: pl.DataFrame) -> pl.DataFrame:
    """Age in years on the as-of date: as_of.year - birth_year (as the eligibility rule)."""
    return df.join(households.select("household_id", "birth_year"), on="household_id", how="left") \
        .with_columns((pl.col("as_of").dt.year() - pl.col("birth_year")).cast(pl.Float64).alias("age")) \
        .drop("birth_year")


def features_for(con, requests: pl.DataFrame, *, feature_fn: FeatureFn | None = None,
                 reuse_stored: bool = True) -> pl.DataFrame:
    """Window features (plus age) for (household_id, as_of) requests.

    With the default feature function, windows already stored in ``household_features`` and
    still current are read instead of recomputed (:func:`stored_or_computed`); a custom
    ``feature_fn`` (tests, experiments) is always called for every request.
    """
    req = requests.select(pl.col("household_id").cast(pl.String), pl.col("as_of").cast(pl.Date)).unique()
    if feature_fn is None and reuse_stored:
        feats = stored_or_computed(con, req, default_feature_fn())
    else:
        feats = (feature_fn or default_feature_fn())(con, req)
    if feats.is_empty():
        feats = typed_like_store(con, feats)
    feats = feats.with_columns(pl.col("as_of").cast(pl.Date))
    return add_age(feats, households_frame(con))


def typed_like_store(con, feats: pl.DataFrame) -> pl.DataFrame:
    """An empty feature frame with the column types of ``household_features``.

    With no rows to infer from, the feature stage types every column Float64, ``dq_flag``
    included, and comparing that with ``'insufficient_data'`` failed inside Polars (scoring a
    date before the first reading, or one where nobody is eligible)."""
    stored = frame(con, "SELECT * EXCLUDE (computed_at) FROM household_features LIMIT 0").schema
    return feats.cast({c: stored[c] for c in feats.columns if c in stored})


#: Days of daily rows a window reads: as_of - WINDOW_DAYS + 1 .. as_of (features: HISTORY_DAYS).
WINDOW_DAYS = 84


def stale_or_missing(con: duckdb.DuckDBPyConnection, requests: pl.DataFrame) -> pl.DataFrame:
    """The requests without a current stored window.

    A stored ``household_features`` row is current when it was computed after every daily row
    (``feature_state.computed_at``) of its household in the days the window reads. Call this
    after the daily features were synced with the readings (any ``window_features`` call does
    that). A clock mismatch between the two timestamps can only make rows look stale, which
    costs a recomputation, never a stale feature.
    """
    return _keyed(
        con, requests,
        f"""
            SELECT q.household_id, q.as_of FROM _mr_req q
            LEFT JOIN household_features w USING (household_id, as_of)
            WHERE w.computed_at IS NULL OR EXISTS (
                SELECT 1 FROM feature_state s
                WHERE s.household_id = q.household_id
                  AND s.local_date BETWEEN q.as_of - INTERVAL ({WINDOW_DAYS - 1}) DAY AND q.as_of
                  AND s.computed_at > w.computed_at)
            """,
    )


def stored_or_computed(con: duckdb.DuckDBPyConnection, requests: pl.DataFrame, fn: FeatureFn) -> pl.DataFrame:
    """Window features for ``requests``: current stored rows as they are, the rest through ``fn``.

    ``fn`` (``window_features``) first brings the daily features up to date with the readings
    and stores what it computes, so a second call for the same requests reads everything.
    """
    req = requests.select(KEYS).unique()
    absent = _absent(con, req)
    computed = [fn(con, absent)]  # also syncs daily features, even when nothing is absent
    stale = stale_or_missing(con, req.join(absent, on=KEYS, how="anti"))
    if stale.height:
        computed.append(fn(con, stale))
    have = pl.concat([absent, stale])
    stored = _keyed(con, req.join(have, on=KEYS, how="anti"),
                    "SELECT w.* EXCLUDE (computed_at) FROM household_features w JOIN _mr_req q USING (household_id, as_of)")
    parts = [f for f in (*computed, stored) if f.height]
    if not parts:
        return computed[0]
    return pl.concat(parts, how="diagonal_relaxed").sort(KEYS)


def _absent(con, req: pl.DataFrame) -> pl.DataFrame:
    return _keyed(con, req, "SELECT q.household_id, q.as_of FROM _mr_req q "
                            "ANTI JOIN household_features w USING (household_id, as_of)")


def _keyed(con, req: pl.DataFrame, sql: str) -> pl.DataFrame:
    """Run ``sql`` with ``req`` (household_id, as_of) registered as ``_mr_req``."""
    with registered(con, _mr_req=req.select(KEYS)):
        return frame(con, sql)


def feature_columns(df: pl.DataFrame) -> list[str]:
    """Numeric model inputs, in a stable (sorted) order."""
    cols = [c for c, t in df.schema.items() if c not in NON_FEATURES and t.is_numeric()]
    return sorted(cols)


def build_examples(con: duckdb.DuckDBPyConnection, *, feature_fn: FeatureFn | None = None) -> pl.DataFrame:
    """One row per assessment: keys, ``label`` (1 = frail), window features as of assessed_on.

    Assessments whose window has too few valid days (``dq_flag == 'insufficient_data'``) are
    dropped: a model should not learn from, or be judged on, made-up inputs.
    """
    assess = frame(
        con, "SELECT household_id, assessed_on AS as_of, frail FROM assessments ORDER BY assessed_on, household_id"
    )
    if assess.is_empty():
        raise MeterriskError("no assessments in the store", hint="run `meterrisk assessments FILE` first")
    feats = features_for(con, assess.select(KEYS), feature_fn=feature_fn)
    ex = assess.join(feats, on=KEYS, how="inner").with_columns(pl.col("frail").cast(pl.Int8).alias("label"))
    if "dq_flag" in ex.columns:
        ex = ex.filter(pl.col("dq_flag").is_null() | (pl.col("dq_flag") != INSUFFICIENT))
    return ex.drop("frail").sort(KEYS)


def fingerprint(df: pl.DataFrame) -> str:
    """sha256 of the example table (keys, label, features), independent of row order."""
    d = df.sort(KEYS)
    h = hashlib.sha256()
    h.update(",".join(d.columns).encode())
    for col in d.columns:
        s = d[col]
        if s.dtype.is_numeric():
            h.update(np.ascontiguousarray(s.cast(pl.Float64).fill_null(np.nan).to_numpy()).tobytes())
        else:
            h.update("\x1f".join("" if v is None else str(v) for v in s.to_list()).encode())
    return h.hexdigest()


def to_matrix(df: pl.DataFrame, features: list[str]) -> np.ndarray:
    missing = [f for f in features if f not in df.columns]
    if missing:
        raise MeterriskError(
            f"feature table lacks {len(missing)} model feature(s): {', '.join(missing[:5])}",
            hint="the model was trained with another feature set: retrain with `meterrisk train`",
        )
    return df.select([pl.col(f).cast(pl.Float64) for f in features]).to_numpy()
