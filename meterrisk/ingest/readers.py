"""Reading export files in bounded chunks: text lines (CSV, optionally gzip) and Parquet.

Readers only split bytes into rows and keep each row's physical line number and raw
text; deciding whether a row is valid is ``parse``'s job. Memory is bounded by
``chunk_bytes`` / ``batch_rows``, never by the file.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from meterrisk.errors import InputFileError
from meterrisk.ingest.profiles import Profile

# Overridable (the environment, or these names at run time) so tests can force many chunks on a small file.
CHUNK_BYTES = int(os.environ.get("METERRISK_CHUNK_BYTES", 32 * 1024 * 1024))
BATCH_ROWS = 1_000_000
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"




def file_kind(path: Path) -> str:
    """``parquet``, ``gzip`` or ``text``, from the file's first bytes (extensions lie)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == _PARQUET_MAGIC:
        return "parquet"
    if head[:2] == _GZIP_MAGIC:
        return "gzip"
    return "text"


@dataclass
class TextChunk:
    """Consecutive non-blank lines: ``line_number`` (1-based, physical) and ``line``."""

    frame: pl.DataFrame


def iter_text_lines(path: Path, profile: Profile, *, chunk_bytes: int | None = None) -> Iterator[pl.DataFrame]:
    """Yield frames of (line_number, line) for every non-blank line, header included."""
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    opener = gzip.open if file_kind(path) == "gzip" else open
    line_no = 0
    carry = b""
    first = True
    try:
        with opener(path, "rb") as fh:
            while True:
                block = fh.read(chunk_bytes)
                data = carry + block
                if not block:
                    if data:
                        yield _lines_frame(path, profile, data, line_no, first)
                    return
                cut = data.rfind(b"\n")
                if cut < 0:
                    carry = data
                    continue
                carry = data[cut + 1 :]
                frame = _lines_frame(path, profile, data[: cut + 1], line_no, first)
                first = False
                line_no += data.count(b"\n", 0, cut + 1)
                yield frame
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputFileError(
            path, f"the gzip stream is truncated or corrupt after about line {line_no} ({exc})",
            expected="a complete gzip file", hint="re-fetch the file from the utility; nothing from it was loaded",
        ) from None


def _lines_frame(path: Path, profile: Profile, data: bytes, line_offset: int, first: bool) -> pl.DataFrame:
    try:
        text = data.decode(profile.encoding)
    except UnicodeDecodeError as exc:
        bad_line = line_offset + data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(
            path,
            f"line {bad_line} is not valid {profile.encoding} (byte {data[exc.start:exc.start + 1]!r})",
            expected=f"text encoded as {profile.encoding}",
            hint="set `encoding` in the profile (Japanese utilities often use cp932)",
        ) from None
    if first and text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    frame = pl.DataFrame(
        {
            "line_number": pl.int_range(line_offset + 1, line_offset + 1 + len(lines), eager=True, dtype=pl.Int64),
            "line": pl.Series(lines, dtype=pl.String).str.strip_suffix("\r"),
        }
    )
    return frame.filter(pl.col("line").str.strip_chars().str.len_bytes() > 0)


def iter_parquet_batches(path: Path, columns: list[str], *, batch_rows: int | None = None) -> Iterator[pl.DataFrame]:
    """Yield frames of the requested columns plus ``line_number`` (1-based row index)."""
    batch_rows = batch_rows or BATCH_ROWS
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged footer
        raise InputFileError(path, f"not a readable Parquet file ({exc})", expected="a complete Parquet file") from None
    names = pf.schema_arrow.names
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputFileError(path, "required columns are missing", expected=str(columns), found=str(names),
                             hint="map the columns with a profile (--profile FILE.toml)")
    offset = 0
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
            frame = pl.from_arrow(batch)
            frame = frame.with_columns(
                pl.int_range(offset + 1, offset + 1 + frame.height, dtype=pl.Int64).alias("line_number")
            )
            offset += frame.height
            yield frame
    except OSError as exc:
        raise InputFileError(path, f"Parquet data is damaged after row {offset} ({exc})") from None
