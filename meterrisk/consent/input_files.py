"""Forgetting a withdrawn household in delivered files kept by the town (archive, failed folder).

Which lines of a file are the household's is decided by the same parser that loaded the file
(its profile, so a headerless export, a wide day-row file or an id taken from the folder name
are all read the way ingest read them), never by a text search alone: "H12" must not match
"H123". A file left with no data lines of anyone else is deleted; otherwise it is rewritten
(same compression, temp file + atomic rename, owner-only), keeping its header and every other
line byte for byte. When the town keeps archives immutable, nothing is rewritten and the
files are only listed for the person who handles the town's retention.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.compute as pc
import pyarrow.parquet as pq

from meterrisk.errors import MeterriskError
from meterrisk.files import replace_atomically, sha256_of
from meterrisk.ingest.layouts import chunks_for
from meterrisk.ingest.profiles import Profile, load_profile
from meterrisk.ingest.readers import file_kind


@dataclass
class FileChange:
    path: str
    action: str            # rewritten | deleted | listed | unchanged
    lines_removed: int
    sha256_before: str
    sha256_after: str | None


def _household_lines(path: Path, profile: Profile, household_id: str) -> tuple[set[int], int]:
    """(line numbers holding the household, data lines in all) as the profile parses the file."""
    theirs: set[int] = set()
    everyone: set[int] = set()
    for chunk in chunks_for(path, profile, solar=set()):
        lines = chunk.select("line_number", "household_id", "raw_line").unique("line_number")
        everyone.update(lines["line_number"].to_list())
        mine = lines.filter((pl.col("household_id") == household_id)
                            | _field_is(pl.col("raw_line"), household_id, profile.delimiter))
        theirs.update(mine["line_number"].to_list())
    return theirs, len(everyone)


def _field_is(line: pl.Expr, value: str, delimiter: str) -> pl.Expr:
    """A line that could not be split into the profile's columns still names the household if
    one of its fields is the id (quotes and spaces aside)."""
    fields = line.fill_null("").str.split(delimiter).list.eval(
        pl.element().str.strip_chars().str.strip_chars('"').str.strip_chars())
    return fields.list.contains(value)


def _drop_text_lines(path: Path, numbers: set[int]) -> None:
    gz = file_kind(path) == "gzip"
    raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    # Split exactly as the reader counted lines (on LF only), so line numbers agree.
    kept = [line for i, line in enumerate(raw.split(b"\n"), start=1) if i not in numbers]
    data = b"\n".join(kept)
    replace_atomically(path, lambda tmp: Path(tmp).write_bytes(gzip.compress(data, mtime=0) if gz else data))


def _drop_parquet_rows(path: Path, profile: Profile, household_id: str) -> None:
    table = pq.read_table(path)
    column = profile.columns.get("household_id")
    if not isinstance(column, str) or column not in table.column_names:
        raise MeterriskError(f"{path}: cannot find the household column {column!r} to rewrite")
    ids = pc.utf8_trim_whitespace(pc.cast(table[column], "string"))
    kept = table.filter(pc.invert(pc.fill_null(pc.equal(ids, household_id), False)))
    replace_atomically(path, lambda tmp: pq.write_table(kept, tmp))


def _whole_file(path: Path, household_id: str, before: str, immutable: bool) -> FileChange:
    if immutable:
        return FileChange(str(path), "listed", 0, before, None)
    _delete(path, household_id)
    return FileChange(str(path), "deleted", 0, before, None)


def _delete(path: Path, household_id: str) -> None:
    """Delete the file, and the per-household folders (named by the id) it leaves empty."""
    path.unlink()
    for folder in path.parents:
        if household_id not in folder.name:
            break
        try:
            folder.rmdir()  # only ever removes an empty folder
        except OSError:
            break


def _profile_for(name: str | None) -> Profile | None:
    try:
        return load_profile(name or "default")
    except MeterriskError:  # a user's profile file that has moved since the ingest
        return None


def erase_household_from_file(path: str | Path, household_id: str, profile_name: str | None, *,
                              immutable: bool = False) -> FileChange:
    """Remove the household's lines from one delivered file (or list the file if ``immutable``)."""
    path = Path(path)
    before = sha256_of(path)
    profile = _profile_for(profile_name)
    if profile is None:
        raise MeterriskError(f"{path}: the profile {profile_name!r} it was ingested with cannot be loaded, "
                             "so its lines cannot be told apart",
                             hint="restore the profile file, or remove the household's lines by hand")
    if not profile.ids_from_content:
        # The id came from the folder name or the profile: every line is the household's, and
        # the file was recorded because its rows were (purge.FileTouched).
        return _whole_file(path, household_id, before, immutable)
    theirs, total = _household_lines(path, profile, household_id)
    if not theirs:
        return FileChange(str(path), "unchanged", 0, before, before)
    if immutable:
        return FileChange(str(path), "listed", len(theirs), before, None)
    if len(theirs) >= total:  # nothing of anyone else: a per-household file
        _delete(path, household_id)
        return FileChange(str(path), "deleted", len(theirs), before, None)
    if file_kind(path) == "parquet":
        _drop_parquet_rows(path, profile, household_id)
    else:
        _drop_text_lines(path, theirs)
    return FileChange(str(path), "rewritten", len(theirs), before, sha256_of(path))
