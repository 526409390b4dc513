"""Who may be scored on a date, following Toin's e-Frail Navi rules.

Consent in force on the as-of date, living alone, aged 65+ (as_of.year - birth_year), not
certified for long-term care, no rooftop solar. The first rule a household fails is its reason.
"""

from __future__ import annotations

from datetime import date

import polars as pl

MIN_AGE = 65



def _rules(as_of: date) -> list[tuple[str, pl.Expr]]:
    d = pl.lit(as_of, pl.Date)
    consent = (
        pl.col("consent_given_on").is_not_null() & (pl.col("consent_given_on") <= d)
        & (pl.col("consent_withdrawn_on").is_null() | (d < pl.col("consent_withdrawn_on")))
    )
    age = pl.lit(as_of.year) - pl.col("birth_year")
    return [
        ("no consent in force", ~consent),
        ("not living alone", ~pl.col("lives_alone").fill_null(False)),
        ("age unknown", pl.col("birth_year").is_null()),
        (f"under {MIN_AGE}", age < MIN_AGE),
        ("certified for long-term care", pl.col("care_certified").fill_null(False)),
        ("rooftop solar", pl.col("has_solar").fill_null(False)),
    ]


def eligibility(households: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """household_id, eligible, not_scored_reason (null when eligible)."""
    reason = pl.lit(None, pl.String)
    for text, fails in reversed(_rules(as_of)):
        reason = pl.when(fails.fill_null(True)).then(pl.lit(text)).otherwise(reason)
    return households.select(
        pl.col("household_id"),
        reason.alias("not_scored_reason"),
    ).with_columns(pl.col("not_scored_reason").is_null().alias("eligible"))
