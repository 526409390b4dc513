"""How early could a perfect change detector flag decliners? (synthetic truth only)

Two ceilings for the new-concern list, replayed with the same dates, pool, size and rule as
the real list (:mod:`meterrisk.model.concern_lists`):

* **latent oracle**: the high tier is the top share by true latent frailty on the date; the
  new-concern score is the true rise of the resident's latent frailty: mean over the recent
  28 days minus mean over the baseline days (the same windows the real score compares).
* **observable ceiling**: a detector that knows the generator's effect model and noise
  exactly. All effects are linear in f (``FrailtyParams``), so a rise ``df`` of latent
  frailty shifts each daily behaviour by ``df`` times its slope; against the generator's own
  day-to-day noise, the best statistic over ``n_r`` recent and ``n_b`` baseline days is
  ``z = df * sqrt(I) / sqrt(1/n_r + 1/n_b)`` with ``I`` the per-day Fisher information about f
  summed over the behaviours (:func:`information_per_day`). Its score is that expected z
  plus standard normal noise (what one cohort of days would show).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from meterrisk.model import concern_lists
from meterrisk.synth.params import EventParams, FrailtyParams, LoadParams

#: One-sided normal quantile at the list's false-positive rate (3%): z above it is "significant".
Z_AT_3PCT = 1.881


def _meal_information(m: float, p: float, hours: float, f0: float, lp: LoadParams, fp: FrailtyParams) -> float:
    """Fisher information per day about f from one meal window's energy (normal approximation).

    X = cooks * m (1 - cr f) * amp + background; cooks ~ Bernoulli(p (1 - skip f)), amp the
    day's lognormal factor, background the awake load in the window (slot-level lognormal).
    """
    q = p * (1 - fp.meal_skip * f0)
    amt = m * (1 - fp.cooking_reduction * f0)
    sig = lp.day_sigma * (1 - fp.variability_shrink * f0)
    e1, e2 = math.exp(sig ** 2 / 2), math.exp(2 * sig ** 2)
    slope = m * p * e1 * (fp.meal_skip * (1 - fp.cooking_reduction * f0)
                          + fp.cooking_reduction * (1 - fp.meal_skip * f0))
    var_meal = q * amt ** 2 * e2 - (q * amt * e1) ** 2
    base = sum(lp.awake_base) / 2
    s_sig = lp.slot_sigma * (1 - fp.variability_shrink * f0)
    var_background = 2 * hours * (base ** 2) * (math.exp(s_sig ** 2) - 1) * math.exp(s_sig ** 2)
    return slope ** 2 / (var_meal + var_background)


def information_per_day(f0: float = 0.3, lp: LoadParams | None = None, fp: FrailtyParams | None = None,
                        ep: EventParams | None = None) -> dict[str, float]:
    """Per-day Fisher information about latent f, by behaviour, at frailty ``f0``."""
    lp, fp, ep = lp or LoadParams(), fp or FrailtyParams(), ep or EventParams()
    wake_sd = lp.wake_day_sd_h * (1 + fp.wake_variability * f0)
    p_out = ep.outing_prob * (1 - fp.outing_reduction * f0)
    p_night, night_slots = 0.02 + fp.night_activity * f0, 10
    day_sig = lp.day_sigma * (1 - fp.variability_shrink * f0)
    slot_sig = lp.slot_sigma * (1 - fp.variability_shrink * f0)
    awake_slots = 2 * (lp.bed_mean_h - lp.wake_mean_h) * (1 - ep.outing_prob * sum(ep.outing_hours) / 2 / 16)
    return {
        "wake_time": (fp.wake_delay_h / wake_sd) ** 2,
        "wake_variability": 2 * (lp.wake_day_sd_h * fp.wake_variability / wake_sd) ** 2,
        "breakfast": _meal_information(lp.meal_kwh[0], lp.meal_prob[0], 3.0, f0, lp, fp),
        "lunch": _meal_information(lp.meal_kwh[1], lp.meal_prob[1], 2.5, f0, lp, fp),
        "dinner": _meal_information(lp.meal_kwh[2], lp.meal_prob[2], 3.0, f0, lp, fp),
        "outing": (ep.outing_prob * fp.outing_reduction) ** 2 / (p_out * (1 - p_out)),
        "night_activity": (night_slots * fp.night_activity) ** 2 / (night_slots * p_night * (1 - p_night)),
        "day_to_day_variability": 2 * (lp.day_sigma * fp.variability_shrink / day_sig) ** 2,
        "slot_variability": awake_slots * 2 * (lp.slot_sigma * fp.variability_shrink / slot_sig) ** 2,
    }


def latent_frame(truth_dir: str | Path) -> tuple[list[str], np.ndarray, date]:
    """(household ids, (N, days) latent frailty, first day) from truth/frailty_daily.parquet."""
    df = pl.read_parquet(Path(truth_dir) / "frailty_daily.parquet", columns=["household_id", "date", "frailty"])
    df = df.sort("household_id", "date")
    ids = df["household_id"].unique(maintain_order=True).to_list()
    start = df["date"].min()
    return ids, df["frailty"].to_numpy().reshape(len(ids), -1), start


def window_means(level: np.ndarray, day: int, *, recent_days: int, baseline_days: tuple[int, int]) -> tuple:
    """Mean latent frailty over the recent and the baseline window ending at day index ``day``."""
    r = level[:, max(0, day - recent_days + 1): day + 1].mean(axis=1)
    lo, hi = baseline_days
    b = level[:, max(0, day - hi): day - lo + 1]
    return r, b.mean(axis=1), b.shape[1]


def ceiling(truth_dir: str | Path, households: pl.DataFrame, *, high_capacity: float, capacity: float,
            first_day: int, every_days: int, recent_days: int, baseline_days: tuple[int, int],
            seed: int = 0, channels: dict[str, float] | None = None) -> dict:
    """Latent-oracle and observable-ceiling replays of the new-concern list (module doc)."""
    from meterrisk.model.eligibility import eligibility

    ids, level, start = latent_frame(truth_dir)
    onsets = _onsets(truth_dir)
    every = channels or information_per_day()
    # the slot-level spread is the strongest channel in the generator but no feature reads it
    # cleanly (docs/model.md: it tracks the season), so the ceiling is given with and without it
    infos = {"observable_ceiling": sum(every.values()),
             "observable_ceiling_without_slot_variability": sum(v for k, v in every.items() if k != "slot_variability")}
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(first_day, level.shape[1], every_days):
        as_of = start + timedelta(days=d)
        ok = set(eligibility(households, as_of).filter("eligible")["household_id"])
        r, b, n_b = window_means(level, d, recent_days=recent_days, baseline_days=baseline_days)
        scale = math.sqrt(1 / recent_days + 1 / n_b)
        noise = rng.standard_normal(len(ids))
        cols = {"household_id": ids, "as_of": [as_of] * len(ids), "risk_score": level[:, d], "latent_rise": r - b}
        for name, info in infos.items():
            cols[f"{name}__expected"] = (r - b) * math.sqrt(info) / scale
            cols[name] = cols[f"{name}__expected"] + noise
        rows.append(pl.DataFrame(cols).filter(pl.col("household_id").is_in(sorted(ok))))
    scores = pl.concat(rows)
    end = start + timedelta(days=level.shape[1] - 1)
    out = {"information_per_day": infos}
    for name in ("latent_oracle", *infos):
        col = "latent_rise" if name == "latent_oracle" else name
        lists = concern_lists.replay(scores.with_columns(pl.col(col).alias("concern_score")),
                                     high_capacity=high_capacity, capacity=capacity)
        out[name] = concern_lists.judge(lists, onsets, truth_end=end)
        if name != "latent_oracle":
            out[name]["expected_z_first_significant"] = _first_significant(scores, onsets, f"{name}__expected")
    return out


def _first_significant(scores: pl.DataFrame, onsets: pl.DataFrame, column: str) -> dict:
    """Decliners' lead when the *expected* z first passes the 3% one-sided cut (50% power)."""
    dec = onsets.filter(pl.col("kind") == "declining")
    first = (scores.filter(pl.col(column) > Z_AT_3PCT).group_by("household_id")
             .agg(pl.col("as_of").min().alias("first")))
    j = dec.join(first, on="household_id", how="inner").filter(
        pl.col("household_id").is_in(scores["household_id"].unique().implode()))
    leads = [(t - f).days / 7.0 for f, t in zip(j["first"], j["frail_from_date"])]
    n = dec.filter(pl.col("household_id").is_in(scores["household_id"].unique().implode())).height
    return {"declining": n, "significant_ever": len(leads), "significant_before_onset": sum(x > 0 for x in leads),
            "lead_weeks_median": float(np.median(leads)) if leads else math.nan}


def _onsets(truth_dir) -> pl.DataFrame:
    from meterrisk.model.evaluation import read_onsets

    return read_onsets(truth_dir)


def pre_onset_shift(fp: FrailtyParams | None = None, lp: LoadParams | None = None,
                    robust: tuple[float, float] | None = None) -> dict:
    """Expected behaviour change from the start of a decline to onset (f: robust -> threshold)."""
    fp, lp = fp or FrailtyParams(), lp or LoadParams()
    lo, hi = robust or fp.robust_level
    out = {}
    for name, r in (("robust_low", lo), ("robust_mid", (lo + hi) / 2), ("robust_high", hi)):
        df = fp.threshold - r
        out[name] = {"latent_rise": df, "wake_later_min": 60 * fp.wake_delay_h * df,
                     "cooking_energy_down_pct": 100 * (1 - (1 - fp.cooking_reduction * df) * (1 - fp.meal_skip * df)),
                     "outings_down_pct": 100 * fp.outing_reduction * df,
                     "night_slots_active_per_night_up": 10 * fp.night_activity * df}
    return out
