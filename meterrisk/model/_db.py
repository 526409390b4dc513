"""Small DuckDB helpers shared by the model, export and alerts modules."""

from __future__ import annotations

import warnings

import polars as pl


def frame(con, sql: str, params: list | None = None) -> pl.DataFrame:
    """Run ``sql`` with bound ``params`` and return a Polars frame.

    ``con.sql(...).pl()`` would refuse while a previous ``execute`` result is unfinished on the
    same connection, so go through ``execute`` (one extra Arrow copy, fine at our sizes).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        return pl.from_arrow(con.execute(sql, params or []).to_arrow_table())
