"""Scoring a date with no feature rows: a clear line or an empty, well-typed list, never a crash.

Before the fix, ``meterrisk score --as-of 2001-01-01`` (before the store's first reading) and
any date on which no household was eligible crashed inside Polars: the feature stage gives an
empty result every column typed Float64, so ``dq_flag`` was compared as string against f64.
"""

from __future__ import annotations

import duckdb
import polars as pl
from pipelines_conftest import (  # noqa: F401  (fixtures)
    TOWN_DB,
    built_town,
    cohort,
    count,
    prefect_harness,
    town_copy,
)
from test_cli import assert_one_line_error, cli

from meterrisk.model.dataset import features_for


def test_features_for_no_requests_keeps_the_column_types(con):
    """The empty frame has its schema: dq_flag is text, valid days a count, keys typed."""
    empty = pl.DataFrame(schema={"household_id": pl.String, "as_of": pl.Date})
    feats = features_for(con, empty)  # the real feature stage, on a store with nothing in it
    assert feats.height == 0
    assert feats.schema["dq_flag"] == pl.String
    assert feats.schema["valid_days_28d"].is_integer()
    assert feats.schema["household_id"] == pl.String and feats.schema["as_of"] == pl.Date
    # what scoring does with it must not raise
    assert feats.filter(pl.col("dq_flag").is_null() | (pl.col("dq_flag") != "insufficient_data")).height == 0


def test_score_before_the_first_reading_is_one_line(town_copy):  # noqa: F811
    db = town_copy / TOWN_DB
    first = count(db, "SELECT min(local_date) FROM readings")
    last = count(db, "SELECT max(local_date) FROM readings")
    result = cli("score", "--db", db, "--as-of", "2001-01-01", "--models-dir", town_copy / "models", ok=False)
    line = assert_one_line_error(result, "no readings on or before 2001-01-01")
    assert f"{first} to {last}" in result.stderr, (line, result.stderr)
    assert count(db, "SELECT count(*) FROM risk_lists WHERE as_of = DATE '2001-01-01'") == 0


def test_score_a_date_where_nobody_is_eligible_writes_an_empty_list(town_copy):  # noqa: F811
    db = town_copy / TOWN_DB
    latest = count(db, "SELECT max(local_date) FROM readings")
    with duckdb.connect(str(db)) as c:  # nobody lives alone: nobody is eligible
        c.execute("UPDATE households SET lives_alone = false")
        n = c.execute("SELECT count(*) FROM households").fetchall()[0][0]
    result = cli("score", "--db", db, "--as-of", latest, "--models-dir", town_copy / "models")
    assert "0 scored (0 high, 0 medium)" in result.output, result.output
    assert "not_scored: not living alone:" in result.output
    assert "warning: nothing scored" in result.stderr, result.stderr
    assert count(db, "SELECT count(*) FROM risk_scores WHERE as_of = ? AND status = 'not_scored'", [latest]) == n
    assert count(db, "SELECT households_scored FROM risk_lists WHERE as_of = ?", [latest]) == 0
