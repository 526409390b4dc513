"""Change-aware second list: residents whose own routine is changing, not yet on the high list.

Why: the calibrated risk score ranks *levels* (who resembles frail residents now). Where more
residents are frail than the town can contact (capacity), the top of that list is filled with
residents already frail, and a declining resident reaches it only after the change is done
(see docs/model.md, "Lead time"). A care team also wants the residents who are *changing*.

- ``trend`` model: the same calibrated pipeline, fitted on the same questionnaire label but
  given only the household's deviations from its own earlier weeks (``*_delta``, ``*_z``,
  ``*_ratio_8w``, ``*_slope_*``): no levels, no age. A resident frail for years looks like
  their own past and scores low; one whose routine moved the way frail residents' routines
  differ scores high.
- ``new concern``: each list date, the top ``capacity`` share of scored households by trend
  score among those not in the high tier on this list or any earlier one.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from meterrisk.model.metrics import top_k

#: Name parts of the window features that compare a household with its own earlier weeks.
CHANGE_MARKERS = ("_delta", "_z", "_ratio_8w", "_slope_")


def change_columns(features: list[str]) -> list[str]:
    """The household's own-deviation features among ``features`` (order kept)."""
    return [f for f in features if any(m in f for m in CHANGE_MARKERS)]


def new_concern(scores: pl.DataFrame, capacity: float, known_high: set[str] | frozenset = frozenset()) -> pl.Series:
    """Boolean ``new_concern`` per row of one list.

    ``scores``: household_id, risk_tier (high/medium/low), trend_score (null = not ranked).
    Flags the top ``top_k(n, capacity)`` (n = scored rows) by trend score (ties by
    household_id) among rows not in the high tier and not in ``known_high`` (households high
    on an earlier list).
    """
    k = top_k(scores.height, capacity) if scores.height else 0
    eligible = (pl.col("risk_tier") != "high") & ~pl.col("household_id").is_in(sorted(known_high)) \
        & pl.col("trend_score").is_not_null()
    picked = (scores.with_row_index("_i").filter(eligible)
              .sort(["trend_score", "household_id"], descending=[True, False]).head(k)["_i"])
    return pl.Series("new_concern", pl.int_range(0, scores.height, eager=True).is_in(picked.implode()))


def care_team_first_flags(scores: pl.DataFrame, capacity: float) -> pl.DataFrame:
    """Replay the monthly lists: the first date each household is on each list.

    ``scores``: household_id, as_of, risk_score, trend_score (every scored household and date).
    Returns household_id, first_high, first_new_concern, first_either (null = never).
    """
    known: set[str] = set()
    firsts: dict[str, dict[str, date]] = {}
    for (d,), s in sorted(scores.group_by("as_of"), key=lambda kv: kv[0][0]):
        s = s.sort(["risk_score", "household_id"], descending=[True, False])
        s = s.with_columns(pl.when(pl.int_range(0, s.height) < top_k(s.height, capacity))
                           .then(pl.lit("high")).otherwise(pl.lit("low")).alias("risk_tier"))
        s = s.with_columns(new_concern(s, capacity, known))
        for h, tier, nc in zip(s["household_id"], s["risk_tier"], s["new_concern"]):
            f = firsts.setdefault(h, {})
            if tier == "high":
                f.setdefault("first_high", d)
            if nc:
                f.setdefault("first_new_concern", d)
        known |= set(s.filter(pl.col("risk_tier") == "high")["household_id"])
    rows = [{"household_id": h, "first_high": f.get("first_high"), "first_new_concern": f.get("first_new_concern")}
            for h, f in firsts.items()]
    out = pl.DataFrame(rows, schema={"household_id": pl.String, "first_high": pl.Date, "first_new_concern": pl.Date})
    return out.with_columns(pl.min_horizontal("first_high", "first_new_concern").alias("first_either"))
