"""Ingesting many files: expanding folders, one transaction per file, a summary for each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb

from meterrisk.errors import MeterriskError
from meterrisk.ingest.loader import Delivery, FileResult, delivery_path_of, ingest_file
from meterrisk.ingest.profiles import Profile

_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".parquet", ".gz")


def expand_inputs(inputs: Iterable[str | Path | Delivery]) -> list[Delivery]:
    """Files as given; folders become their reading files (recursively, sorted)."""
    files: list[Delivery] = []
    for item in inputs:
        if isinstance(item, Delivery):
            files.append(item)
            continue
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.name.lower().endswith(_SUFFIXES))
            if not found:
                raise MeterriskError(f"{p}: folder has no .csv, .csv.gz or .parquet files")
            files += [Delivery(f, delivery_path_of(f, p)) for f in found]
        elif p.exists():
            files.append(Delivery(p, delivery_path_of(p)))
        else:
            raise MeterriskError(f"{p}: no such file or folder")
    return files


def ingest_paths(con: duckdb.DuckDBPyConnection, inputs: Iterable[str | Path | Delivery], profile: Profile, *,
                 replace: bool = False, on_file: Callable[[FileResult], None] | None = None,
                 on_chunk: Callable[[Path, int], None] | None = None) -> list[FileResult]:
    results = []
    for delivery in expand_inputs(inputs):
        path = delivery.path
        progress = (lambda rows, path=path: on_chunk(path, rows)) if on_chunk else None
        result = ingest_file(con, path, profile, replace=replace, delivery_path=delivery.delivery_path,
                             on_chunk=progress)
        results.append(result)
        if on_file:
            on_file(result)
    return results
