"""The household registry: who consented, from when, and who is eligible for scoring.

The registry CSV is authoritative and small, so it is checked whole: any bad cell stops
the load with every problem listed (file, line, column) and nothing changes. Loading is an
upsert; a household leaves processing only through a withdrawal date (or never having a
consent date), and its readings outside consent are then deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from meterrisk import store
from meterrisk.errors import InputFileError
from meterrisk.privacy import new_pseudonym

COLUMNS = ["household_id", "birth_year", "lives_alone", "consent_given_on",
           "consent_withdrawn_on", "care_certified", "has_solar", "district"]
_TRUE = ["true", "1", "yes", "y", "t"]
_FALSE = ["false", "0", "no", "n", "f"]


@dataclass
class RegistryResult:
    path: str
    households: int
    inserted: int
    updated: int
    readings_purged: int


def read_registry(path: Path) -> pl.DataFrame:
    """Parse and check a registry CSV; raise InputFileError listing every bad cell."""
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except Exception as exc:
        raise InputFileError(path, f"cannot read the registry as UTF-8 CSV ({exc})") from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise InputFileError(path, f"the header lacks {missing}", expected=str(COLUMNS), found=str(raw.columns))
    raw = raw.select(COLUMNS).with_columns(pl.all().str.strip_chars()).with_row_index("line", offset=2)

    def boolean(col: str) -> pl.Expr:
        low = pl.col(col).str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)

    def day(col: str) -> pl.Expr:
        return pl.col(col).str.strptime(pl.Date, "%Y-%m-%d", strict=False)

    parsed = raw.with_columns(
        pl.col("birth_year").cast(pl.Int32, strict=False).alias("_birth_year"),
        boolean("lives_alone").alias("_lives_alone"),
        boolean("care_certified").alias("_care_certified"),
        boolean("has_solar").alias("_has_solar"),
        day("consent_given_on").alias("_given"),
        day("consent_withdrawn_on").alias("_withdrawn"),
    )
    this_year = datetime.now().year
    problems: list[str] = []
    checks = {
        "household_id": pl.col("household_id").fill_null("") == "",
        "birth_year": pl.col("_birth_year").is_null() | ~pl.col("_birth_year").is_between(1900, this_year),
        "lives_alone": pl.col("_lives_alone").is_null(),
        "care_certified": pl.col("_care_certified").is_null(),
        "has_solar": pl.col("_has_solar").is_null(),
        "consent_given_on": pl.col("consent_given_on").is_not_null() & pl.col("_given").is_null(),
        "consent_withdrawn_on": (pl.col("consent_withdrawn_on").is_not_null() & pl.col("_withdrawn").is_null())
        | (pl.col("_withdrawn") < pl.col("_given")),
    }
    for col, bad in checks.items():
        for row in parsed.filter(bad).select("line", col).iter_rows():
            problems.append(f"line {row[0]}, column {col}: {row[1]!r}")
    dup = parsed.filter(pl.col("household_id").is_duplicated()).select("line", "household_id")
    problems += [f"line {r[0]}, column household_id: {r[1]!r} appears more than once" for r in dup.iter_rows()]
    if problems:
        shown = "; ".join(problems[:10]) + (f"; ... {len(problems) - 10} more" if len(problems) > 10 else "")
        raise InputFileError(path, f"{len(problems)} invalid registry cells: {shown}",
                             hint="booleans are true/false, dates YYYY-MM-DD, empty = none")
    return parsed.select(
        "household_id",
        pl.col("_birth_year").alias("birth_year"),
        pl.col("_lives_alone").alias("lives_alone"),
        pl.col("_given").alias("consent_given_on"),
        pl.col("_withdrawn").alias("consent_withdrawn_on"),
        pl.col("_care_certified").alias("care_certified"),
        pl.col("_has_solar").alias("has_solar"),
        "district",
    )


def load_registry(con: duckdb.DuckDBPyConnection, path: str | Path) -> RegistryResult:
    """Upsert the registry and delete readings that are no longer covered by consent."""
    path = Path(path)
    frame = read_registry(path)
    # A household keeps the surrogate it was given when first registered (meterrisk.privacy).
    known = dict(con.execute("SELECT household_id, pseudonym FROM households").fetchall())
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    frame = frame.with_columns(
        pl.Series("pseudonym", [known.get(h) or new_pseudonym() for h in frame["household_id"]], dtype=pl.String),
        pl.lit(now).alias("updated_at"),
    )
    with store.transaction(con, _registry=frame.to_arrow()):
        existing = con.execute(
            "SELECT count(*) FROM households WHERE household_id IN (SELECT household_id FROM _registry)"
        ).fetchall()[0][0]
        con.execute("""
            INSERT OR REPLACE INTO households
            SELECT household_id, pseudonym, birth_year, lives_alone, consent_given_on,
                   consent_withdrawn_on, care_certified, has_solar, district, updated_at
            FROM _registry""")
        purged = purge_without_consent(con)
    return RegistryResult(str(path), frame.height, frame.height - existing, existing, purged)


def purge_without_consent(con: duckdb.DuckDBPyConnection) -> int:
    """Delete readings on dates without consent in force; return how many went."""
    return con.execute("""
        DELETE FROM readings r USING households h
        WHERE r.household_id = h.household_id
          AND (h.consent_given_on IS NULL OR r.local_date < h.consent_given_on
               OR (h.consent_withdrawn_on IS NOT NULL AND r.local_date >= h.consent_withdrawn_on))
    """).fetchall()[0][0]


def consent_windows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """household_id, consent_given_on, consent_withdrawn_on, has_solar for every registered home."""
    return store.frame(
        con,
        "SELECT household_id, consent_given_on, consent_withdrawn_on, coalesce(has_solar, false) AS has_solar "
        "FROM households",
    )
