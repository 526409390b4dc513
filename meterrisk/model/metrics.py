"""Evaluation metrics for a risk list: discrimination, calibration and outreach capacity.

All functions take true labels (0/1) and scores (higher = riskier) as array-likes.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def top_k(n: int, capacity: float) -> int:
    """How many of ``n`` households fit in a ``capacity`` share (at least 1 when n > 0)."""
    if not 0 < capacity <= 1:
        raise ValueError(f"capacity must be in (0, 1], got {capacity}")
    return max(1, int(round(n * capacity))) if n else 0


def _top_mask(score: np.ndarray, capacity: float) -> np.ndarray:
    # A stable sort on -score keeps ties in input order, so the result is deterministic.
    k = top_k(len(score), capacity)
    order = np.argsort(-score, kind="stable")
    mask = np.zeros(len(score), dtype=bool)
    mask[order[:k]] = True
    return mask


def precision_at_capacity(y_true, score, capacity: float = 0.10) -> float:
    """Share of frail residents among the top ``capacity`` share of scores.

    Examples
    --------
    >>> precision_at_capacity([1, 0, 1, 0, 0, 0, 0, 0, 0, 0], [.9, .8, .7, 0, 0, 0, 0, 0, 0, 0], 0.2)
    0.5
    """
    y = np.asarray(y_true, dtype=int)
    mask = _top_mask(np.asarray(score, dtype=float), capacity)
    return float(y[mask].mean()) if mask.any() else math.nan


def recall_at_capacity(y_true, score, capacity: float = 0.10) -> float:
    """Share of all frail residents that fall in the top ``capacity`` share of scores."""
    y = np.asarray(y_true, dtype=int)
    if y.sum() == 0:
        return math.nan
    mask = _top_mask(np.asarray(score, dtype=float), capacity)
    return float(y[mask].sum() / y.sum())


def expected_calibration_error(y_true, prob, n_bins: int = 10) -> float:
    """ECE with ``n_bins`` equal-width probability bins on [0, 1].

    Sum over bins of (bin share of examples) * |mean predicted - observed frail share|.
    A probability of exactly 1.0 falls in the last bin.
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(prob, dtype=float)
    if len(y) == 0:
        return math.nan
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(p[in_bin].mean() - y[in_bin].mean())
    return float(ece)


def _safe(fn, y, s) -> float:
    return float(fn(y, s)) if len(set(np.asarray(y).tolist())) == 2 else math.nan


def classification_report(y_true, prob, *, capacity: float = 0.10, calibrated: bool = True) -> dict:
    """The figures we publish for a risk list. Brier and ECE only make sense for probabilities."""
    y = np.asarray(y_true, dtype=int)
    s = np.asarray(prob, dtype=float)
    out = {
        "n": int(len(y)),
        "prevalence": float(y.mean()) if len(y) else math.nan,
        "roc_auc": _safe(roc_auc_score, y, s),
        "pr_auc": _safe(average_precision_score, y, s),
        "precision_at_capacity": precision_at_capacity(y, s, capacity),
        "recall_at_capacity": recall_at_capacity(y, s, capacity),
        "capacity": capacity,
    }
    if calibrated:
        out["brier"] = float(brier_score_loss(y, s))
        out["ece"] = expected_calibration_error(y, s)
    return out


def lead_time_weeks(first_flagged, frail_from) -> float:
    """Weeks from the first flag to the date frailty set in; positive = flagged before.

    Returns NaN when the household was never flagged (``first_flagged`` is None).
    """
    if first_flagged is None or frail_from is None:
        return math.nan
    return (frail_from - first_flagged).days / 7.0


def median_or_nan(values) -> float:
    v = [x for x in values if x is not None and not math.isnan(x)]
    return float(np.median(v)) if v else math.nan
