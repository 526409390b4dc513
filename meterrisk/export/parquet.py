"""Risk-list export for the town: pseudonyms only, written atomically.

The file never carries the registry id: ``household_id`` in the export is the household's
HMAC pseudonym from the registry. The file appears complete or not at all (written to a
temp file in the target folder, then ``os.replace``).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from meterrisk.errors import MeterriskError
from meterrisk.store import frame
from meterrisk.model.scoring import risk_list

COLUMNS = ["household_id", "as_of", "risk_score", "risk_tier", "rank", "reasons", "data_quality", "model_version"]


def export_frame(con, as_of: date, model_version: str | None = None) -> pl.DataFrame:
    """Scored rows of ``as_of`` with ``household_id`` replaced by the pseudonym."""
    rows = risk_list(con, as_of, model_version).filter(pl.col("status") == "scored")
    pseud = frame(con, "SELECT household_id, pseudonym FROM households")
    out = rows.join(pseud, on="household_id", how="left")
    if out["pseudonym"].null_count():
        raise MeterriskError("some scored households have no pseudonym in the registry",
                             hint="re-load households.csv with `meterrisk ingest`")
    return out.with_columns(pl.col("pseudonym").alias("household_id")).select(COLUMNS).sort("rank")


def _atomic(out: Path, write) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_export(df: pl.DataFrame, out: str | Path, *, as_of: date, fmt: str = "parquet") -> dict:
    out = Path(out)
    version = df["model_version"][0] if df.height else None
    meta = {"model_version": version or "", "as_of": as_of.isoformat(),
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "id_kind": "pseudonym (HMAC of the registry id)"}
    if fmt == "parquet":
        table = df.to_arrow()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               **{k: v.encode() for k, v in meta.items()}})
        _atomic(out, lambda p: pq.write_table(table, p))
    elif fmt == "csv":
        flat = df.with_columns(pl.col("reasons").list.join("; "))
        _atomic(out, lambda p: flat.write_csv(p))
    else:
        raise MeterriskError(f"unknown export format {fmt!r}", hint="use parquet or csv")
    return {"rows": df.height, "path": str(out), **meta}


def export(con, as_of: date, out: str | Path, *, fmt: str = "parquet", model_version: str | None = None) -> dict:
    return write_export(export_frame(con, as_of, model_version), out, as_of=as_of, fmt=fmt)


def read_metadata(path: str | Path) -> dict:
    md = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in md.items() if not k.startswith(b"ARROW")}


