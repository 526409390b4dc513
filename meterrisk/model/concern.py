"""New-concern score: how far a resident's own routine has moved the way frailty moves.

Unsupervised per resident, weighted from the labelled households:

1. For each behaviour channel (a daily feature, or its day-to-day spread), compare the
   resident's **recent** weeks (the 28 days up to the list date) with their **own earlier
   weeks** (days 28-139 before it: about the previous four months), as a two-sample
   statistic in units of their own day-to-day noise: ``t = (recent mean - earlier mean) /
   (pooled SD * sqrt(1/n_recent + 1/n_earlier))`` for means, ``log(SD ratio) / SE`` for
   spreads.
2. Subtract the date's median ``t`` over all scored residents: the season moves everybody
   (heating shifts wake-up and evening use in winter), and a change every home shares is not
   a resident's own change.
3. Add the channels with **weights learned from the labelled households** at training time
   (:func:`learn_weights`): the difference between frail and non-frail residents' levels of
   that behaviour in units of day-to-day noise, so the sign says which way frailty moves it
   and the size how visible a move is against the noise. A model without learned weights
   uses :data:`DEFAULT_WEIGHTS` (the directions DOMAIN.md names, equal size).

Why not a trained model on own-deviation features (``train --trend``, docs/model.md): it did
no better than a random list; a model fitted to a *level* label learns levels. The score
here only ever sees change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from meterrisk.store import frame

#: Recent window (days up to and including the list date) and the earlier weeks compared.
RECENT_DAYS = 28
EARLIER_DAYS = (28, 139)  # days before the list date: from 139 to 28 days back
#: Fewest valid days in each window for a channel to count.
MIN_RECENT, MIN_EARLIER = 14, 28
#: A day with a smaller active share is a day away (holiday, hospital, family stay: the home sits
#: at its floor) and counts in neither window: an absence is not a change of routine, and on the
#: development cohort absences filled the top of the list (5.6% of days are below it; a
#: frail resident at home stays well above it).
HOME_DAY_MIN_ACTIVE = 0.05
#: Default size of the new-concern list: share of the residents scored on the date.
CAPACITY = 0.03


@dataclass(frozen=True)
class Channel:
    name: str
    column: str      # daily_features column
    kind: str        # "mean" or "spread" (day-to-day SD)
    floor: float     # least SD used, in the column's units (a very regular home is not infinitely sensitive)


CHANNELS = (
    Channel("wake_time", "wake_time_h", "mean", 0.25),
    Channel("wake_spread", "wake_time_h", "spread", 0.1),
    Channel("meal_energy", "meal_kwh", "mean", 0.1),
    Channel("meals_cooked", "meal_windows_active", "mean", 0.3),
    Channel("night_blips", "night_blips", "mean", 0.4),
    Channel("daytime_floor", "daytime_floor_h", "mean", 0.5),
    Channel("use_spread", "excess_kwh", "spread", 0.1),
    Channel("active_share", "active_share", "mean", 0.02),
)

#: Directions frailty moves each channel (DOMAIN.md: later waking, more variable wake-up, less
#: cooking, day/night reversal, fewer outings, shrinking variability of use), equal weight.
DEFAULT_WEIGHTS = {"wake_time": 1.0, "wake_spread": 1.0, "meal_energy": -1.0, "meals_cooked": -1.0,
                   "night_blips": 1.0, "daytime_floor": -1.0, "use_spread": -1.0, "active_share": 0.0}


def window_stats(con, as_of: date, households: list[str] | None = None) -> pl.DataFrame:
    """Per household: recent and earlier mean, SD and count of every channel column."""
    cols = sorted({c.column for c in CHANNELS})
    recent_from = as_of - timedelta(days=RECENT_DAYS - 1)
    lo, hi = as_of - timedelta(days=EARLIER_DAYS[1]), as_of - timedelta(days=EARLIER_DAYS[0])
    aggs = []
    for c in cols:
        for tag, cond in (("r", "local_date >= $recent_from"), ("b", "local_date BETWEEN $lo AND $hi")):
            v = f"CAST({c} AS DOUBLE)"
            aggs += [f"avg({v}) FILTER (WHERE {cond}) AS {c}__mean_{tag}",
                     f"stddev_samp({v}) FILTER (WHERE {cond}) AS {c}__sd_{tag}",
                     f"count({v}) FILTER (WHERE {cond}) AS {c}__n_{tag}"]
    where = "local_date BETWEEN $lo AND $as_of AND active_share >= $home"
    params = {"recent_from": recent_from, "lo": lo, "hi": hi, "as_of": as_of, "home": HOME_DAY_MIN_ACTIVE}
    if households is not None:
        where += " AND list_contains($ids, household_id)"
        params["ids"] = households
    return frame(con, f"SELECT household_id, {', '.join(aggs)} FROM daily_features WHERE {where} GROUP BY 1",
                 params)


def channel_t(stats: pl.DataFrame) -> pl.DataFrame:
    """household_id plus one own-change statistic per channel (null without enough days)."""
    out = [pl.col("household_id")]
    for ch in CHANNELS:
        c = ch.column
        nr, nb = pl.col(f"{c}__n_r"), pl.col(f"{c}__n_b")
        sr, sb = pl.col(f"{c}__sd_r"), pl.col(f"{c}__sd_b")
        enough = (nr >= MIN_RECENT) & (nb >= MIN_EARLIER)
        if ch.kind == "mean":
            pooled = (((nr - 1) * sr.pow(2) + (nb - 1) * sb.pow(2)) / (nr + nb - 2)).sqrt()
            t = (pl.col(f"{c}__mean_r") - pl.col(f"{c}__mean_b")) / (
                pl.max_horizontal(pooled, pl.lit(ch.floor)) * (1 / nr + 1 / nb).sqrt())
        else:
            t = ((pl.max_horizontal(sr, pl.lit(ch.floor)) / pl.max_horizontal(sb, pl.lit(ch.floor))).log()
                 / (1 / (2 * (nr - 1)) + 1 / (2 * (nb - 1))).sqrt())
        out.append(pl.when(enough).then(t).otherwise(None).alias(ch.name))
    return stats.select(out)


def deseason(t: pl.DataFrame) -> pl.DataFrame:
    """Each channel minus its median over the residents scored that date (the town's shift)."""
    return t.with_columns([(pl.col(ch.name) - pl.col(ch.name).median()).alias(ch.name) for ch in CHANNELS])


def combine(t: pl.DataFrame, weights: dict[str, float]) -> pl.Series:
    """Weighted sum of the de-seasoned channel statistics, scaled to unit variance under no change.

    A missing channel counts as no change (0); a resident with no usable channel gets null.
    """
    w = {k: v for k, v in weights.items() if v and k in t.columns}
    norm = math.sqrt(sum(v * v for v in w.values())) or 1.0
    parts = [pl.col(k).fill_null(0.0).fill_nan(0.0) * v for k, v in w.items()]
    any_ok = pl.any_horizontal([pl.col(k).is_not_null() for k in w]) if w else pl.lit(False)
    s = t.select(pl.when(any_ok).then(pl.sum_horizontal(parts) / norm if parts else pl.lit(0.0))
                 .otherwise(None).alias("concern_score"))
    return s["concern_score"]


def concern_scores(con, as_of: date, households: list[str], weights: dict[str, float] | None = None) -> pl.DataFrame:
    """household_id, concern_score and the channel statistics for ``households`` on ``as_of``."""
    stats = window_stats(con, as_of, households)
    t = deseason(channel_t(stats))
    t = t.with_columns(combine(t, weights or DEFAULT_WEIGHTS))
    return t.join(stats, on="household_id", how="left")


def learn_weights(con, examples: pl.DataFrame, *, shrink: float = 0.0) -> dict:
    """Channel weights from labelled households: (frail mean - non-frail mean) / day-to-day SD.

    ``examples``: household_id, as_of, label. Levels are the recent-window means and SDs as of
    each assessment; the day-to-day SD is the median of the residents' own recent SDs. The
    result (JSON-able) also records the per-channel effect sizes.
    """
    rows = []
    for (d,), g in examples.group_by("as_of"):
        s = window_stats(con, d, g["household_id"].unique().to_list())
        rows.append(g.select("household_id", "label").join(s, on="household_id", how="inner"))
    df = pl.concat(rows, how="diagonal_relaxed") if rows else pl.DataFrame()
    if df.is_empty():  # no daily features stored (e.g. a custom feature function)
        return {"weights": dict(DEFAULT_WEIGHTS), "learned": False, "examples": 0}
    frail = df.filter(pl.col("label").cast(pl.Boolean))
    other = df.filter(~pl.col("label").cast(pl.Boolean))
    effects = {}
    for ch in CHANNELS:
        c = ch.column
        if ch.kind == "mean":
            level, noise = f"{c}__mean_r", df[f"{c}__sd_r"].median()
            diff = (frail[level].mean() or 0.0) - (other[level].mean() or 0.0)
            eff = diff / max(noise or 0.0, ch.floor)
        else:  # difference of log SDs, per unit of their spread (as the t statistic is on a log scale)
            lf = frail[f"{c}__sd_r"].clip(ch.floor).log()
            lo = other[f"{c}__sd_r"].clip(ch.floor).log()
            eff = ((lf.mean() or 0.0) - (lo.mean() or 0.0)) / max(float(pl.concat([lf, lo]).std() or 0.0), 1e-6)
        effects[ch.name] = float(eff) if eff is not None and math.isfinite(eff) else 0.0
    return {"weights": effects, "learned": True, "examples": df.height, "frail_examples": frail.height}


def weights_of(manifest: dict) -> dict[str, float]:
    """The model's learned channel weights, or :data:`DEFAULT_WEIGHTS` for older models."""
    learned = (manifest.get("concern") or {}).get("weights")
    return {k: float(v) for k, v in learned.items()} if learned else dict(DEFAULT_WEIGHTS)
