"""The change-aware new-concern list: known answers, replay, scoring and export columns."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from meterrisk.model.change import care_team_first_flags, change_columns, new_concern
from meterrisk.model.metrics import top_k
from test_model import scored, trained_env  # noqa: F401  (module fixtures)


def test_change_columns_keep_only_own_deviation_features():
    cols = ["age", "wake_time_h_mean_28d", "wake_time_h_delta", "active_share_z", "meal_kwh_ratio_8w",
            "daily_kwh_slope_4w", "active_share_mean_28d"]
    assert change_columns(cols) == ["wake_time_h_delta", "active_share_z", "meal_kwh_ratio_8w", "daily_kwh_slope_4w"]


def test_new_concern_skips_high_and_earlier_high_known_answer():
    s = pl.DataFrame({
        "household_id": ["h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8", "h9"],
        "risk_tier": ["high", "high"] + ["low"] * 8,
        "trend_score": [0.99, 0.95, 0.9, 0.7, 0.6, None, 0.5, 0.4, 0.3, 0.2],
    })
    # capacity 0.2 of 10 -> 2; h0, h1 high now, h2 high on an earlier list, h5 not ranked
    flags = new_concern(s, 0.2, {"h2"})
    assert s.filter(flags)["household_id"].to_list() == ["h3", "h4"]
    assert new_concern(s, 0.2).sum() == 2 and s.filter(new_concern(s, 0.2))["household_id"].to_list() == ["h2", "h3"]
    # a model without a trend pipeline: nobody is a new concern
    assert new_concern(s.with_columns(pl.lit(None, pl.Float64).alias("trend_score")), 0.2).sum() == 0


def test_replay_first_flags_known_answer():
    d1, d2 = date(2025, 1, 1), date(2025, 2, 1)
    ids = ["a", "b", "c", "d", "e"]
    scores = pl.DataFrame({
        "household_id": ids * 2,
        "as_of": [d1] * 5 + [d2] * 5,
        "risk_score": [0.9, 0.1, 0.5, 0.2, 0.3,   0.1, 0.2, 0.95, 0.3, 0.4],
        "trend_score": [0.1, 0.8, 0.2, 0.3, 0.4,  0.99, 0.5, 0.1, 0.7, 0.6],
    })
    # capacity 0.2 of 5 -> 1 per list. d1: high a; new concern b. d2: high c; a (trend .99) was
    # high on d1 so it is skipped; new concern d (.7).
    got = {r["household_id"]: r for r in care_team_first_flags(scores, 0.2).to_dicts()}
    assert got["a"]["first_high"] == d1 and got["a"]["first_new_concern"] is None
    assert got["b"]["first_new_concern"] == d1 and got["b"]["first_high"] is None
    assert got["c"]["first_high"] == d2 and got["d"]["first_new_concern"] == d2
    assert got["e"]["first_either"] is None
    assert {h: r["first_either"] for h, r in got.items()} == {"a": d1, "b": d1, "c": d2, "d": d2, "e": None}


def test_score_writes_trend_and_new_concern(scored):  # noqa: F811
    from meterrisk.model.scoring import score

    con, summary, path, fn = scored
    rows = pl.DataFrame(con.execute(
        "SELECT household_id, risk_tier, trend_score, new_concern, reasons FROM risk_scores "
        "WHERE status = 'scored' AND as_of = '2025-07-01'").fetchall(),
        schema=["household_id", "risk_tier", "trend_score", "new_concern", "reasons"], orient="row")
    assert rows["trend_score"].null_count() == 0
    assert summary["new_concern"] == rows["new_concern"].sum() == top_k(summary["scored"], 0.1)
    flagged = rows.filter(pl.col("new_concern"))
    assert (flagged["risk_tier"] != "high").all()
    # next month: last month's high tier cannot be a new concern
    high_before = set(rows.filter(pl.col("risk_tier") == "high")["household_id"])
    later = score(con, date(2025, 8, 1), model=path, feature_fn=fn)
    nc = {r[0] for r in con.execute("SELECT household_id FROM risk_scores WHERE as_of = '2025-08-01' "
                                    "AND new_concern").fetchall()}
    assert len(nc) == later["new_concern"] and not (nc & high_before)


def test_export_keeps_the_contract_columns_only(scored, tmp_path):  # noqa: F811
    # new_concern is experimental (not better than a random list so far): not sent to the town
    from meterrisk.export.parquet import COLUMNS, export

    con, summary, *_ = scored
    out = tmp_path / "l.parquet"
    export(con, date(2025, 7, 1), out, model_version=summary["model_version"])  # scored with --model: not promoted
    assert pl.read_parquet(out).columns == COLUMNS
