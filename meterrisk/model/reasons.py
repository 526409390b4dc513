"""Plain-language reasons for a risk score, ranked by what drives THIS household's score.

Attribution: the model's features are grouped into behaviour topics
(meterrisk.model.reasons_topics). Each household's risk above that of a typical resident
(every column at its training median) is shared out over the topics by Shapley values,
estimated from a fixed set of sampled topic orders: a topic's contribution is the average
rise in predicted risk when its columns move from the medians to the household's values.
The contributions add up to the household's score minus the typical resident's, and they
credit a topic that matters even when another one alone would already saturate the score
(occluding one topic at a time would not).

Reasons: the topics with the largest positive contributions, each worded with the
household's numbers, units and most residents' value; at most three. Only topics whose
wording finds the household on the concerning side of most residents (by a margin) count.
A row has reasons when its strongest such topic carries at least ``MIN_CONTRIBUTION`` (5
percentage points of risk); the second and third need ``FURTHER_CONTRIBUTION``. Rows named
in ``at_least_one`` (the high and medium tiers) get their strongest topic even below the
threshold: care staff visiting them need somewhere to start. Age, data coverage
and weather are attributed but never worded (topics without text).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from meterrisk.model.reasons_topics import topic_columns

MAX_REASONS = 3
#: Share of risk (probability points) the first reason must carry to be shown unasked ...
MIN_CONTRIBUTION = 0.05
#: ... and the second and third (smaller pushes that still add up, e.g. several late mornings).
FURTHER_CONTRIBUTION = 0.01
#: Sampled topic orders (half of them the reverses of the others); fixed seed: same list, same reasons.
ORDERS = 16
SEED = 20250106
#: Rows attributed at a time: each order stacks (topics x rows) copies of the columns.
CHUNK_ROWS = 500


def contributions(predict, X: np.ndarray, base: np.ndarray, groups: list[list[int]], *,
                  orders: int = ORDERS, seed: int = SEED) -> np.ndarray:
    """Shapley values of column ``groups`` for each row of ``X`` against the ``base`` row.

    ``predict(matrix) -> probabilities``. Returns (rows, groups); each row sums to
    predict(X) - predict(base). Exact for a model additive over the groups.
    """
    n, k = X.shape[0], len(groups)
    if n > CHUNK_ROWS:  # same seed, same orders: a row's values do not depend on its chunk
        return np.vstack([contributions(predict, X[i:i + CHUNK_ROWS], base, groups, orders=orders, seed=seed)
                          for i in range(0, n, CHUNK_ROWS)])
    phi = np.zeros((n, k))
    if n == 0 or k == 0:
        return phi
    start = predict(base[None, :])[0]
    if k == 1:
        return (predict(X) - start)[:, None]
    rng = np.random.default_rng(seed)
    runs = 0
    for _ in range(max(1, orders // 2)):
        perm = rng.permutation(k)
        for order in (perm, perm[::-1]):
            Z = np.tile(base, (n, 1))
            steps = []
            for j in order:
                Z = Z.copy()
                Z[:, groups[j]] = X[:, groups[j]]
                steps.append(Z)
            P = predict(np.vstack(steps)).reshape(k, n)
            prev = np.full(n, start)
            for s, j in enumerate(order):
                phi[:, j] += P[s] - prev
                prev = P[s]
            runs += 1
    return phi / runs


def explain(pipeline, feats: pl.DataFrame, features: list[str], prob: np.ndarray,
            medians: np.ndarray | None = None, *, at_least_one: np.ndarray | None = None) -> list[list[str]]:
    """Up to three reasons per row of ``feats``, strongest first.

    ``prob`` (the rows' scores) is kept for callers; the attribution predicts its own.

    ``at_least_one``: rows (bool mask) that must get a reason when any worded topic pushes
    their risk up at all (scoring passes the high and medium tiers).
    """
    if medians is None:
        medians = np.asarray(pipeline.named_steps["impute"].statistics_, dtype=float)
    medians = np.asarray(medians, dtype=float)
    n = feats.height
    if n == 0:
        return []
    must = np.zeros(n, bool) if at_least_one is None else np.asarray(at_least_one, bool)
    X = feats.select(features).cast(pl.Float64).to_numpy()
    # A missing value is what the model imputes: the median, so it contributes nothing.
    X = np.where(np.isfinite(X), X, medians)
    topics = topic_columns(features)

    def predict(M: np.ndarray) -> np.ndarray:
        return pipeline.predict_proba(pl.DataFrame(M, schema=features, orient="row"))[:, 1]

    phi = contributions(predict, X, medians, [cols for _, cols in topics])
    typical = {f"{f}__median": float(medians[i]) for i, f in enumerate(features)}
    out: list[list[str]] = []
    for i, row in enumerate(feats.to_dicts()):
        row = {**row, **typical}
        candidates = []
        for j in np.argsort(-phi[i], kind="stable"):
            topic = topics[j][0]
            if phi[i, j] <= 0 or topic.text is None:
                continue
            text = topic.text(row)
            if text:
                candidates.append((phi[i, j], text))
        if candidates and (candidates[0][0] >= MIN_CONTRIBUTION or must[i]):
            shown = [candidates[0][1]] + [t for c, t in candidates[1:] if c >= FURTHER_CONTRIBUTION]
        else:
            shown = []
        out.append(shown[:MAX_REASONS])
    return out
