"""The care-staff CSV: one column per reason, so a reader gets each reason back exactly."""

from __future__ import annotations

import csv
from datetime import date

import polars as pl

from meterrisk.export.parquet import CSV_COLUMNS, MAX_REASONS, write_export

REASONS = [["gets up about 1 h later; and less often", 'cooks "rarely", if at all', "night use up"],
           ["one reason only"], []]


def _frame() -> pl.DataFrame:
    return pl.DataFrame({
        "household_id": ["H1", "H2", "H3"], "district": ["North", "South", "North"],
        "as_of": [date(2025, 7, 1)] * 3, "risk_score": [0.9, 0.5, 0.1], "risk_tier": ["high", "medium", "low"],
        "rank": [1, 2, 3], "reasons": REASONS, "data_quality": ["ok"] * 3, "model_version": ["v1"] * 3,
        "new_concern": [False, True, False],
        "concern_reasons": [[], ['wakes later, "much" later; since May'], []]})


def test_csv_reasons_round_trip_through_a_csv_reader(tmp_path):
    # Before: reasons joined with "; " in one column, and a reason holding "; " could not be split back.
    out = tmp_path / "l.csv"
    write_export(_frame(), out, as_of=date(2025, 7, 1), fmt="csv")
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == CSV_COLUMNS
    for row, reasons in zip(rows, REASONS):
        got = [row[f"reason_{i}"] for i in range(1, MAX_REASONS + 1)]
        assert [r for r in got if r] == reasons
    assert rows[1]["concern_reason_1"] == 'wakes later, "much" later; since May'
    assert rows[0]["concern_reason_1"] == "" and rows[1]["concern_reason_2"] == ""


def test_parquet_metadata_carries_the_tier_legend(tmp_path):
    import json

    from meterrisk.export.parquet import read_metadata

    out = tmp_path / "l.parquet"
    write_export(_frame(), out, as_of=date(2025, 7, 1))
    legend = json.loads(read_metadata(out)["risk_tier_legend"])
    assert legend["high"] == "the top 33% of residents scored (1): the share the town can contact"
    assert legend["medium"] == "the next 33% (1)" and legend["low"] == "the rest (1)"
