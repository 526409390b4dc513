"""Replaying the new-concern list over list dates, and judging it against synthetic truth.

The list: on each list date, the top ``top_k(n, capacity)`` scored residents (n = all scored
that date) by a concern score, among those not in the high tier on this list and not high on
an earlier one (care staff already know those). Residents stay on the list while their score
keeps them there: nothing forces new names in, so a score that is stable over dates gives a
stable list, and a random score (the control) gives a list that rotates every date.

Judged with truth (``truth/onsets.csv``):
- **lead**: weeks from a declining resident's first list date to ``frail_from_date``
  (positive = before); the share of declining residents flagged before it.
- **precision within the horizon**: over every (list date, resident) entry of the replay
  whose list date has the whole horizon (default 26 weeks) inside the truth period, the share
  whose ``frail_from_date`` falls after the list date and within the horizon. Entries of
  residents already frail on the list date (frail throughout, or ``frail_from_date`` on or
  before it) are left out of both counts and counted separately: they are not *new* concern.
- **churn**: the mean share of a date's list that was not on the previous date's list.

The same rule and sizes serve the controls (a random score; the current risk score among
the non-high residents), so differences come from the score, not from list churn.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl

from meterrisk.model.metrics import top_k

#: Six months: the horizon of "becomes frail soon after being listed".
HORIZON_DAYS = 182


def pick(scores: pl.DataFrame, capacity: float, known_high=frozenset(), *, score: str = "concern_score",
         high: str = "high") -> pl.Series:
    """Boolean new-concern flag per row of one list date.

    ``scores``: household_id, ``high`` (bool: in the high tier now), ``score`` (null/NaN = not
    ranked). Flags the top ``top_k(n, capacity)`` (n = all rows, the scored residents) by
    ``score``, ties by household_id, among rows not high now and not in ``known_high``; a
    score must be above 0 (moved the way frailty moves at all): a short list beats filling it
    with residents whose routine has not changed.
    """
    n = scores.height
    if not n:
        return pl.Series("new_concern", [], dtype=pl.Boolean)
    pool = scores.filter(~pl.col(high) & ~pl.col("household_id").is_in(sorted(known_high))
                         & pl.col(score).is_not_null() & pl.col(score).is_not_nan() & (pl.col(score) > 0))
    picked = pool.sort([score, "household_id"], descending=[True, False]).head(top_k(n, capacity))
    return scores.select(pl.col("household_id").is_in(picked["household_id"].implode()).alias("new_concern"))[
        "new_concern"]


def replay(scores: pl.DataFrame, *, high_capacity: float, capacity: float,
           score: str = "concern_score") -> pl.DataFrame:
    """Every list date's high tier and new-concern list, as scoring makes them.

    ``scores``: household_id, as_of, risk_score, ``score``; one row per scored resident and
    date. Returns household_id, as_of, high, new_concern (one row per input row). The high
    tier is the top ``high_capacity`` share by risk score; residents high on an earlier date
    stay off the new-concern list (care staff know them).
    """
    out, known = [], set()
    for (d,), s in sorted(scores.group_by("as_of"), key=lambda kv: kv[0][0]):
        s = s.sort(["risk_score", "household_id"], descending=[True, False]).with_columns(
            (pl.int_range(0, pl.len()) < top_k(s.height, high_capacity)).alias("high"))
        s = s.with_columns(pick(s, capacity, known, score=score))
        known |= set(s.filter("high")["household_id"])
        out.append(s.select("household_id", "as_of", "high", "new_concern"))
    if not out:
        return pl.DataFrame(schema={"household_id": pl.String, "as_of": pl.Date, "high": pl.Boolean,
                                    "new_concern": pl.Boolean})
    return pl.concat(out)


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def judge(lists: pl.DataFrame, onsets: pl.DataFrame, *, truth_end: date, horizon_days: int = HORIZON_DAYS,
          column: str = "new_concern") -> dict:
    """Lead time, precision within the horizon and churn of one replayed list (see module doc).

    ``lists``: household_id, as_of, ``column`` (bool) for every scored resident and date.
    ``onsets``: household_id, kind, frail_from_date (truth). ``truth_end``: the last day of
    the truth period (follow-up ends there).
    """
    on = lists.filter(pl.col(column))
    onset = onsets.select("household_id", "kind", "frail_from_date")
    scored = lists["household_id"].unique()
    dec = onset.filter((pl.col("kind") == "declining") & pl.col("household_id").is_in(scored.implode()))
    first = on.group_by("household_id").agg(pl.col("as_of").min().alias("first_listed"))
    j = dec.join(first, on="household_id", how="left")
    leads = [(f - t).days / 7.0 for t, f in zip(j["first_listed"], j["frail_from_date"]) if t is not None]
    before = sum(1 for x in leads if x > 0)

    entries = on.join(onset, on="household_id", how="left").filter(
        pl.col("as_of") + pl.duration(days=horizon_days) <= pl.lit(truth_end))
    frail_now = (pl.col("kind") == "frail_throughout") | (pl.col("frail_from_date") <= pl.col("as_of"))
    judged = entries.filter(~frail_now.fill_null(False))
    hits = judged.filter((pl.col("frail_from_date") > pl.col("as_of"))
                         & (pl.col("frail_from_date") <= pl.col("as_of") + pl.duration(days=horizon_days)))

    dates = sorted(lists["as_of"].unique().to_list())
    by_date = {d: set(g["household_id"]) for (d,), g in on.group_by("as_of")}
    churn = [len(by_date.get(b, set()) - by_date.get(a, set())) / len(by_date[b])
             for a, b in zip(dates, dates[1:]) if by_date.get(b)]
    sizes = [len(by_date.get(d, ())) for d in dates]
    return {
        "declining": dec.height,
        "flagged_ever": len(leads),
        "flagged_before_onset": before,
        "share_flagged_before_onset": before / dec.height if dec.height else math.nan,
        "lead_weeks_median": _pct(leads, 50),
        "lead_weeks_p25": _pct(leads, 25),
        "lead_weeks_p75": _pct(leads, 75),
        "precision_entries": judged.height,
        "precision_hits": hits.height,
        "precision_within_horizon": hits.height / judged.height if judged.height else math.nan,
        "entries_already_frail": entries.height - judged.height,
        "precision_dates": int(entries["as_of"].n_unique()),
        "horizon_days": horizon_days,
        "list_size_median": _pct(sizes, 50),
        "residents_ever_listed": int(on["household_id"].n_unique()),
        "churn_mean": float(np.mean(churn)) if churn else math.nan,
    }


def compare(scores: pl.DataFrame, onsets: pl.DataFrame, *, high_capacity: float, capacity: float,
            truth_end: date, seed: int = 0, horizon_days: int = HORIZON_DAYS) -> dict:
    """The new-concern list against a random list and the current risk among the non-high.

    ``scores``: household_id, as_of, risk_score, concern_score. All three lists use the same
    dates, pool, size and rule; only the ranking differs. The random control draws a fresh
    score per resident and date (``seed``).
    """
    rng = np.random.default_rng(seed)
    variants = {
        "new_concern": scores,
        "random": scores.with_columns(pl.Series("concern_score", rng.random(scores.height))),
        "current_risk_non_high": scores.with_columns(pl.col("risk_score").alias("concern_score")),
    }
    out = {}
    for name, s in variants.items():
        lists = replay(s, high_capacity=high_capacity, capacity=capacity)
        out[name] = judge(lists, onsets, truth_end=truth_end, horizon_days=horizon_days)
    rnd = out["random"]["precision_within_horizon"]
    out["precision_vs_random"] = (out["new_concern"]["precision_within_horizon"] / rnd
                                  if rnd and not math.isnan(rnd) else math.nan)
    out.update({"capacity": capacity, "high_capacity": high_capacity,
                "list_dates": int(scores["as_of"].n_unique())})
    return out


def as_of_dates(first: date, last: date, every_days: int) -> list[date]:
    out, d = [], first
    while d <= last:
        out.append(d)
        d += timedelta(days=every_days)
    return out
