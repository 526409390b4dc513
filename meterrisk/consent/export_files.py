"""Forgetting a withdrawn household in the risk lists and extracts this store wrote.

Export files are the town's copies of what went to care staff or a research partner. The
household's rows are removed from the copies kept in the exports folder, and every file that
mentioned it is listed, because copies already handed out are beyond this program's reach:
the town must ask their holders to delete them. A row names the household when any text
cell equals one of its identifiers (registry id, the store's pseudonym, and the research
HMAC when the extract key is at hand).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from meterrisk.files import replace_atomically, sha256_of
from meterrisk.ingest.readers import file_kind

_SUFFIXES = (".parquet", ".csv")


@dataclass
class ExportChange:
    path: str
    rows_removed: int
    sha256_before: str
    sha256_after: str


def _names_household(frame: pl.DataFrame, needles: list[str]) -> pl.Expr:
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return pl.lit(False)
    return pl.any_horizontal(pl.col(c).is_in(needles) for c in text).fill_null(False)


def _rewrite(path: Path, needles: list[str]) -> int:
    parquet = file_kind(path) == "parquet"
    if parquet:
        table = pq.read_table(path)
        frame = pl.from_arrow(table)
    else:
        frame = pl.read_csv(path, infer_schema=False)
    mine = frame.select(_names_household(frame, needles).alias("m"))["m"]
    removed = int(mine.sum())
    if not removed:
        return 0
    kept = frame.filter(~mine)
    if parquet:  # keep the file's metadata (model version, id kind, legend)
        out = kept.to_arrow().replace_schema_metadata(table.schema.metadata)
        replace_atomically(path, lambda tmp: pq.write_table(out, tmp))
    else:
        replace_atomically(path, kept.write_csv)
    return removed


def erase_from_exports(folder: str | Path, needles: list[str]) -> list[ExportChange]:
    """Remove rows naming the household from every export file under ``folder``; list them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    changes = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(_SUFFIXES)):
        before = sha256_of(path)
        removed = _rewrite(path, [n for n in needles if n])
        if removed:
            changes.append(ExportChange(str(path), removed, before, sha256_of(path)))
    changes += _erase_from_reports(folder, needles)
    return changes


def _erase_from_reports(folder: Path, needles: list[str]) -> list[ExportChange]:
    """The HTML reports (`meterrisk report`, the monthly flow) kept under ``folder``: the
    household's page deleted (sha256_after "deleted"), its line of the list removed."""
    from meterrisk.report.erase import erase_from_report_page

    changes = []
    for path in sorted(p for p in folder.rglob("*.html") if p.is_file()):
        before = sha256_of(path)
        removed, deleted = erase_from_report_page(path, [n for n in needles if n])
        if removed or deleted:
            # A household page is named by its pseudonym, which only the withdrawal row may keep.
            shown = path.parent / "(household page).html" if path.stem in needles else path
            changes.append(ExportChange(str(shown), removed, before, "deleted" if deleted else sha256_of(path)))
    return changes
