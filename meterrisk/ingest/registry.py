"""The household registry: who consented, from when, and who is eligible for scoring.

The registry CSV is authoritative and small, so it is checked whole: any bad cell (or an
unknown column) stops the load with every problem listed (file, line, column) and nothing
changes. Loading is an upsert, with consent rules on top:

- a withdrawal forgets: a row whose ``consent_withdrawn_on`` has come purges the household
  like ``meterrisk withdraw`` (every row of it, its ``households`` row too) and leaves a
  tombstone in ``withdrawals`` (meterrisk/consent/);
- a withdrawal is final unless re-consented: a row for a withdrawn household whose
  ``consent_given_on`` is not later than the withdrawal is skipped (kept withdrawn); a later
  ``consent_given_on`` is a new consent and a new household record;
- a withdrawal date still ahead stays stored even if a later registry row leaves it empty,
  unless that row's consent is given after it;
- readings outside a household's consent (before it, never given) are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from meterrisk import store
from meterrisk.consent import WithdrawalReport, local_today, purge_household, tombstones
from meterrisk.consent.purge import purge_due_withdrawals
from meterrisk.errors import InputFileError
from meterrisk.ingest import days
from meterrisk.privacy import new_pseudonym

COLUMNS = ["household_id", "birth_year", "lives_alone", "consent_given_on",
           "consent_withdrawn_on", "care_certified", "has_solar", "district"]
# The README's registry paragraph lists exactly these (tests/test_consent.py reads it).
_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]
FORMAT_HINT = (f"booleans are {', '.join(_TRUE)} or {', '.join(_FALSE)} (any case); "
               "dates YYYY-MM-DD; an empty date = none")


@dataclass
class KeptWithdrawal:
    pseudonym: str
    withdrawn_on: date


@dataclass
class RegistryResult:
    path: str
    households: int                 # rows in the file
    inserted: int                   # households stored that the store did not have (re-consents included)
    updated: int                    # households stored that it had
    readings_purged: int            # readings outside consent (before it, never given)
    #: households this load withdrew and purged (its rows, or ones stored with a date now reached)
    withdrawn: list[WithdrawalReport] = field(default_factory=list)
    #: rows skipped: the household withdrew earlier and the row gives no consent after that
    kept_withdrawn: list[KeptWithdrawal] = field(default_factory=list)
    #: pseudonyms of new records for households that had withdrawn and consented again later
    reconsented: list[str] = field(default_factory=list)
    #: stored withdrawal dates still ahead, kept although the row left consent_withdrawn_on empty
    withdrawal_date_kept: list[KeptWithdrawal] = field(default_factory=list)


def read_registry(path: Path) -> pl.DataFrame:
    """Parse and check a registry CSV; raise InputFileError listing every bad cell."""
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except Exception as exc:
        raise InputFileError(path, f"cannot read the registry as UTF-8 CSV ({exc})") from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    unknown = [c for c in raw.columns if c not in COLUMNS]
    if missing or unknown:
        problems = ([f"the header lacks {', '.join(map(repr, missing))}"] if missing else []) + \
                   ([f"unknown column {', '.join(map(repr, unknown))}"] if unknown else [])
        raise InputFileError(path, "; ".join(problems), expected="the columns " + ", ".join(COLUMNS),
                             found=", ".join(raw.columns),
                             hint="the registry holds only these columns; remove or rename the others")
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
                             hint=FORMAT_HINT)
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


def load_registry(con: duckdb.DuckDBPyConnection, path: str | Path, *, today: date | None = None) -> RegistryResult:
    """Upsert the registry in one transaction, purging withdrawn households (module docstring).

    ``today`` (default: today in the store's zone) decides which withdrawal dates have come.
    """
    path = Path(path)
    frame = read_registry(path)
    # A household keeps the surrogate it was given when first registered (meterrisk.privacy).
    known = dict(con.execute("SELECT household_id, pseudonym FROM households").fetchall())
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    frame = frame.with_columns(
        pl.Series("pseudonym", [known.get(h) or new_pseudonym() for h in frame["household_id"]], dtype=pl.String),
        pl.lit(now).alias("updated_at"),
    )
    today = today or local_today(con)
    result = RegistryResult(str(path), frame.height, 0, 0, 0)
    with store.transaction(con):
        frame = _apply_tombstones(con, frame, result)
        stored = {h for (h,) in con.execute("SELECT household_id FROM households").fetchall()}
        is_new = ~pl.col("household_id").is_in(pl.Series(sorted(stored), dtype=pl.String).implode())
        due = pl.col("consent_withdrawn_on").is_not_null() & (pl.col("consent_withdrawn_on") <= today)
        # A household first seen already withdrawn: nothing to store, only the tombstone to keep.
        for hid, on, pseudo in frame.filter(is_new & due).select(
                "household_id", "consent_withdrawn_on", "pseudonym").iter_rows():
            result.withdrawn.append(purge_household(con, hid, withdrawn_on=on, source="registry", pseudonym=pseudo))
        frame = frame.filter(~(is_new & due))
        with store.registered(con, _registry=frame.to_arrow()):
            result.withdrawal_date_kept = [KeptWithdrawal(*r) for r in con.execute("""
                SELECT h.pseudonym, h.consent_withdrawn_on FROM _registry r JOIN households h USING (household_id)
                WHERE r.consent_withdrawn_on IS NULL AND h.consent_withdrawn_on > ?
                  AND (r.consent_given_on IS NULL OR r.consent_given_on <= h.consent_withdrawn_on)
                ORDER BY h.pseudonym""", [today]).fetchall()]
            # Existing households keep their pseudonym and a withdrawal date not yet superseded.
            con.execute("""
                CREATE OR REPLACE TEMP TABLE _registry_rows AS
                SELECT r.household_id, coalesce(h.pseudonym, r.pseudonym) AS pseudonym, r.birth_year, r.lives_alone,
                       r.consent_given_on,
                       coalesce(r.consent_withdrawn_on,
                                CASE WHEN r.consent_given_on IS NULL OR r.consent_given_on <= h.consent_withdrawn_on
                                     THEN h.consent_withdrawn_on END) AS consent_withdrawn_on,
                       r.care_certified, r.has_solar, r.district, r.updated_at
                FROM _registry r LEFT JOIN households h USING (household_id)""")
            con.execute("INSERT OR REPLACE INTO households SELECT * FROM _registry_rows")
            con.execute("DROP TABLE _registry_rows")
        result.withdrawn += purge_due_withdrawals(con, today=today, source="registry")
        kept = {h for (h,) in con.execute("SELECT household_id FROM households").fetchall()}
        ids = set(frame["household_id"].to_list()) & kept
        result.inserted, result.updated = len(ids - stored), len(ids & stored)
        gone = {w.pseudonym for w in result.withdrawn}
        result.reconsented = [p for p in result.reconsented if p not in gone]
        result.readings_purged = purge_without_consent(con)
    return result


def _apply_tombstones(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, result: RegistryResult) -> pl.DataFrame:
    """Drop rows of withdrawn households that give no consent after the withdrawal; mark the
    withdrawals that a later consent supersedes. Returns the rows still to load."""
    tomb = tombstones.active(con, frame["household_id"].to_list())
    if tomb.height == 0:
        return frame
    joined = frame.join(tomb.rename({"withdrawn_on": "_withdrawn_before", "pseudonym": "_old_pseudonym"}),
                        on="household_id", how="left")
    withdrawn = pl.col("_withdrawn_before").is_not_null()
    later = pl.col("consent_given_on").is_not_null() & (pl.col("consent_given_on") > pl.col("_withdrawn_before"))
    for old, on in joined.filter(withdrawn & ~later).select("_old_pseudonym", "_withdrawn_before").iter_rows():
        result.kept_withdrawn.append(KeptWithdrawal(old, on))
    for wid, given, new in joined.filter(withdrawn & later).select(
            "withdrawal_id", "consent_given_on", "pseudonym").iter_rows():
        tombstones.supersede(con, wid, given)
        result.reconsented.append(new)
    return joined.filter(~withdrawn | later).select(frame.columns)


def purge_without_consent(con: duckdb.DuckDBPyConnection) -> int:
    """Delete readings on dates without consent in force; return how many went.

    Their days stay in ``reading_days`` emptied (``n_readings = 0``, every kWh NULL) under a new
    version, so the feature engine sees the deletion (``meterrisk.ingest.days``)."""
    outside = """
        FROM readings r JOIN households h USING (household_id)
        WHERE h.consent_given_on IS NULL OR r.local_date < h.consent_given_on
           OR (h.consent_withdrawn_on IS NOT NULL AND r.local_date >= h.consent_withdrawn_on)"""
    days.note_changed(con, f"SELECT DISTINCT r.household_id, r.local_date {outside}")
    purged = con.execute("""
        DELETE FROM readings r USING households h
        WHERE r.household_id = h.household_id
          AND (h.consent_given_on IS NULL OR r.local_date < h.consent_given_on
               OR (h.consent_withdrawn_on IS NOT NULL AND r.local_date >= h.consent_withdrawn_on))
    """).fetchall()[0][0]
    days.rebuild_changed(con)
    return purged


def consent_windows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """household_id, consent_given_on, consent_withdrawn_on, has_solar for every registered home."""
    return store.frame(
        con,
        "SELECT household_id, consent_given_on, consent_withdrawn_on, coalesce(has_solar, false) AS has_solar "
        "FROM households",
    )
