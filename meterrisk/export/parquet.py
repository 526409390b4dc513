"""Risk-list files: the care-staff list and research extracts, audited, written atomically.

* Beside the tiers, ``new_concern`` marks the new-concern list (residents not in the high tier
  whose own routine is moving the way frailty moves) and ``concern_reasons`` says what changed,
  against which earlier weeks; schema metadata ``new_concern_count`` is its length.
* **Care staff** (default) get the town's registry id and the district: they have to know
  whom to visit (the store holds no names; the town maps ids to residents).
* **Research or vendor extracts** (``key=...``, ``meterrisk export --pseudonymize``) carry
  ``keyed_id(key, registry id)`` instead (meterrisk.privacy) and no district, which in a
  small town narrows a resident down; the key is used here and stored nowhere.

Both hold the promoted list of the date unless a model version is named, and only
households whose consent is in force today: a resident who withdrew after the scoring is
not on the file (ranks are renumbered without them). Every file is recorded in the
``exports`` table (when, command, as-of, model, id kind, rows, path, SHA-256), and appears
complete or not at all (temp file in the target folder, then ``os.replace``).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from meterrisk.errors import MeterriskError
from meterrisk.files import replace_atomically, sha256_of
from meterrisk.model.scoring import promoted_version, risk_list
from meterrisk.privacy import keyed_id
from meterrisk.store import frame

COLUMNS = ["household_id", "district", "as_of", "risk_score", "risk_tier", "rank", "reasons", "data_quality",
           "model_version", "new_concern", "concern_reasons"]
RESEARCH_COLUMNS = [c for c in COLUMNS if c != "district"]
#: Said in every file beside the list: on the fresh synthetic cohorts measured so far the
#: new-concern list was barely more precise than a random list of its size (docs/model.md), so
#: staff must not read it as a priority; the high tier is the list the town acts on.
NEW_CONCERN_NOTE = ("experimental: not yet better than chance at finding who becomes frail "
                    "(docs/model.md); a prompt for a routine check-in, not a priority")
#: Reasons are at most three (meterrisk.model.reasons); the CSV gives each its own column, since a
#: reason may itself hold "; " or commas and a joined column could not be split back.
MAX_REASONS = 3
_SPLIT = {"reasons": "reason", "concern_reasons": "concern_reason"}


def csv_columns(columns: list[str]) -> list[str]:
    """The CSV's columns for a file of ``columns``: each list column as ``<name>_1..3``."""
    return [
        name for c in columns
        for name in ([f"{_SPLIT[c]}_{i}" for i in range(1, MAX_REASONS + 1)] if c in _SPLIT else [c])]


CSV_COLUMNS = csv_columns(COLUMNS)
REGISTRY_ID = "registry_id"
KEYED_ID = "hmac_sha256"


def consenting_list(con, as_of: date, model_version: str | None = None) -> pl.DataFrame:
    """Scored rows of the list (the promoted one unless named) for households whose consent
    is in force today on the store's clock, ranked 1..n again; with household_id, pseudonym
    and district."""
    rows = risk_list(con, as_of, model_version).filter(pl.col("status") == "scored").with_columns(
        # lists scored before the new-concern list existed (V0250) carry no flag: not on it
        pl.col("new_concern").fill_null(False),
        pl.col("concern_reasons").fill_null(pl.lit([], dtype=pl.List(pl.String))))
    consenting = frame(con, "SELECT household_id, pseudonym, district FROM households_in_consent")
    return (rows.join(consenting, on="household_id", how="inner").sort("rank")
            .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("rank")))


def export_frame(con, as_of: date, model_version: str | None = None, *, key: str | None = None) -> pl.DataFrame:
    """The file's rows: registry ids and districts, or with ``key`` keyed ids and no district."""
    listed = consenting_list(con, as_of, model_version)
    if key is None:
        return listed.select(COLUMNS)
    return listed.with_columns(
        pl.col("household_id").map_elements(lambda h: keyed_id(key, h), return_dtype=pl.String)
    ).select(RESEARCH_COLUMNS)


def _atomic(out: Path, write, before_publish=None) -> None:
    def write_then_check(tmp: str) -> None:
        write(tmp)
        if before_publish is not None:  # e.g. the audit row, committed before the file appears
            before_publish(tmp)

    replace_atomically(out, write_then_check)


def tier_legend(df: pl.DataFrame) -> str:
    """JSON: what each ``risk_tier`` means on this list, with its share and count (the capacity
    is not stored with the list; the high tier is the top capacity share of those scored)."""
    import json

    n = df.height
    counts = {t: int((df["risk_tier"] == t).sum()) for t in ("high", "medium", "low")} if "risk_tier" in df.columns \
        else {"high": 0, "medium": 0, "low": 0}
    share = {t: f"{c / n:.0%}" if n else "0%" for t, c in counts.items()}
    return json.dumps({
        "high": f"the top {share['high']} of residents scored ({counts['high']}): the share the town can contact",
        "medium": f"the next {share['medium']} ({counts['medium']})",
        "low": f"the rest ({counts['low']})"})


def write_export(df: pl.DataFrame, out: str | Path, *, as_of: date, fmt: str = "parquet",
                 id_kind: str = REGISTRY_ID, model_version: str | None = None, promoted: bool | None = None,
                 before_publish=None) -> dict:
    """Write ``df`` atomically; ``before_publish(tmp_path)`` runs on the complete temp file."""
    out = Path(out)
    version = model_version or (df["model_version"][0] if df.height else None)
    meta = {"model_version": version or "", "as_of": as_of.isoformat(),
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "id_kind": id_kind, "promoted": "" if promoted is None else str(promoted).lower(),
            "new_concern_count": str(int(df["new_concern"].sum())) if "new_concern" in df.columns else "",
            "new_concern_note": NEW_CONCERN_NOTE if "new_concern" in df.columns else "",
            "risk_tier_legend": tier_legend(df)}
    if fmt == "parquet":
        table = df.to_arrow()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               **{k: v.encode() for k, v in meta.items()}})
        _atomic(out, lambda p: pq.write_table(table, p), before_publish)
    elif fmt == "csv":
        flat = df.with_columns([pl.col(c).list.get(i - 1, null_on_oob=True).alias(f"{_SPLIT[c]}_{i}")
                                for c in _SPLIT if c in df.columns for i in range(1, MAX_REASONS + 1)]
                               ).select(csv_columns(df.columns))
        _atomic(out, lambda p: flat.write_csv(p), before_publish)
    else:
        raise MeterriskError(f"unknown export format {fmt!r}", hint="use parquet or csv")
    return {"rows": df.height, "path": str(out), **meta}


def export(con, as_of: date, out: str | Path, *, fmt: str = "parquet", model_version: str | None = None,
           key: str | None = None, command: str = "meterrisk export") -> dict:
    """Write the risk list of ``as_of`` to ``out`` and record it in ``exports``.

    The audit row is committed before the file is moved into place (and removed if that
    fails), so a file never exists without its row.
    """
    version = model_version or promoted_version(con, as_of)
    df = export_frame(con, as_of, version, key=key)
    listed = con.execute("SELECT promoted FROM risk_lists WHERE as_of = ? AND model_version = ?",
                         [as_of, version]).fetchall()
    promoted = listed[0][0] if listed else None
    id_kind = REGISTRY_ID if key is None else KEYED_ID
    recorded: list[int] = []

    def audit(tmp: str) -> None:
        recorded.append(con.execute("""
            INSERT INTO exports (exported_at, command, as_of, model_version, promoted, id_kind, format,
                                 rows_exported, path, sha256)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING export_id""",
            [datetime.now(timezone.utc).replace(tzinfo=None), command, as_of, version, promoted, id_kind, fmt,
             df.height, str(Path(out).resolve()), sha256_of(tmp)]).fetchall()[0][0])

    try:
        return write_export(df, out, as_of=as_of, fmt=fmt, id_kind=id_kind, model_version=version,
                            promoted=promoted, before_publish=audit)
    except BaseException:
        if recorded:
            con.execute("DELETE FROM exports WHERE export_id = ?", recorded)
        raise


def read_metadata(path: str | Path) -> dict:
    md = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in md.items() if not k.startswith(b"ARROW")}
