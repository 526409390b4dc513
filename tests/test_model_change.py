"""The new-concern list in scoring and export; the experimental trend model's replay (meterrisk.model.change)."""

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


@pytest.fixture(scope="module")
def concern_scored(scored):  # noqa: F811
    """The fixture store with daily rows for four residents, scored on AS_OF."""
    from test_concern import AS_OF, _daily

    from meterrisk.model.scoring import score

    con, summary, path, fn = scored
    assert summary["new_concern"] == 0  # the fixture stores no daily features
    for h in ("h003", "h005"):
        _daily(con, h, 6.0, 6.0)
    _daily(con, "h002", 6.0, 7.0, blips_recent=1)   # not frail in the fixture: low tier
    _daily(con, "h004", 6.0, 7.5, blips_recent=1)   # frail in the fixture: high tier, never a new concern
    return con, score(con, AS_OF, model=path, feature_fn=fn, concern_capacity=0.03)


def test_score_writes_new_concern_from_own_change_with_reasons(concern_scored):
    # Before V0250 new_concern came from the trend model (no better than random); now from the
    # own-change score of the daily features: residents without daily rows are never on it.
    from test_concern import AS_OF

    con, got = concern_scored
    rows = pl.DataFrame(con.execute(
        "SELECT household_id, risk_tier, trend_score, new_concern, concern_score, concern_reasons FROM risk_scores "
        "WHERE status = 'scored' AND as_of = ?", [AS_OF]).fetchall(),
        schema=["household_id", "risk_tier", "trend_score", "new_concern", "concern_score", "concern_reasons"],
        orient="row")
    assert rows.filter(pl.col("household_id") == "h004")["risk_tier"].item() == "high"
    listed = rows.filter(pl.col("new_concern"))
    # h003/h005 unchanged (score 0): not listed although the list has 7 places
    assert listed["household_id"].to_list() == ["h002"] and got["new_concern"] == 1
    assert got["concern_capacity"] == 0.03
    assert listed["concern_reasons"].item()[0].startswith("gets up about 1 h later than in May to September")
    assert rows.filter(~pl.col("new_concern"))["concern_reasons"].null_count() == rows.height - 1
    assert rows["concern_score"].is_not_null().sum() == 4
    assert rows["trend_score"].null_count() == 0  # the experimental trend model still scores


def test_export_carries_new_concern_and_its_reasons(concern_scored, scored, tmp_path):  # noqa: F811
    from test_concern import AS_OF

    from meterrisk.export.parquet import COLUMNS, export, read_metadata

    con, _ = concern_scored
    version = scored[1]["model_version"]
    out = tmp_path / "l.parquet"
    export(con, AS_OF, out, model_version=version)
    df = pl.read_parquet(out)
    assert df.columns == COLUMNS and df["new_concern"].sum() == 1
    assert df.filter("new_concern")["concern_reasons"].item()[0].startswith("gets up about 1 h later")
    assert df.filter(~pl.col("new_concern"))["concern_reasons"].list.len().max() == 0
    assert read_metadata(out)["new_concern_count"] == "1"
    assert "experimental" in read_metadata(out)["new_concern_note"]
    csv = tmp_path / "l.csv"
    export(con, AS_OF, csv, fmt="csv", model_version=version)
    back = pl.read_csv(csv, infer_schema=False)
    assert back.filter(pl.col("new_concern") == "true")["concern_reason_1"].item().startswith("gets up about 1 h later")
