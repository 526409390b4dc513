"""From a file to classified rows, per layout (long, wide, register) and format.

``chunks_for`` yields frames with ``parse.OUTPUT_COLUMNS``: every input row exactly once,
either with ``reason`` null (ts_utc and kwh parsed) or with a reason. For the register
layout ``kwh`` still holds the meter index; ``register`` turns indexes into use later,
once the whole file is staged and can be ordered.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from meterrisk.errors import InputFileError
from meterrisk.ingest import parse
from meterrisk.ingest.profiles import Profile
from meterrisk.ingest.readers import file_kind, iter_parquet_batches, iter_text_lines
from meterrisk.ingest.reasons import Reason

_VALUE_FIELD = {"long": "kwh", "register": "register"}


def chunks_for(path: Path, profile: Profile, *, solar: set[str],
               household_id: str | None = None) -> Iterator[pl.DataFrame]:
    """``household_id``: the id of every row (from the delivery path or a constant), else the
    rows' own id column."""
    if file_kind(path) == "parquet":
        yield from _parquet_chunks(path, profile, solar, household_id)
    else:
        yield from _text_chunks(path, profile, solar, household_id)


def _fields_wanted(profile: Profile, household_id: str | None) -> tuple[str, ...]:
    wanted = ("household_id", "date") if profile.layout == "wide" else ("household_id", "ts", _VALUE_FIELD[profile.layout])
    return wanted[1:] if household_id is not None else wanted


def _text_chunks(path: Path, profile: Profile, solar: set[str], household_id: str | None) -> Iterator[pl.DataFrame]:
    positions: dict[str, int] | None = None
    n_fields = 0
    slot_positions: list[tuple[int, int]] = []
    for lines in iter_text_lines(path, profile):
        if positions is None:
            if lines.height == 0:
                continue
            first = lines["line"][0]
            header = parse.header_fields(first, profile) if profile.header else None
            n_fields = len(header) if header else len(first.split(profile.delimiter))
            positions = parse.resolve_columns(path, profile, header, n_fields, _fields_wanted(profile, household_id))
            if profile.layout == "wide":
                slot_positions = _slot_columns(path, profile, header)
            if profile.header:
                lines = lines.slice(1)
        fields = parse.split_fields(lines, profile, n_fields,
                                    {**positions, **{f"_s{k}": i for k, i in slot_positions}})
        if household_id is not None:
            fields = fields.with_columns(pl.lit(household_id, dtype=pl.String).alias("household_id"))
        if profile.layout == "wide":
            yield _classify_wide(fields, profile, [k for k, _ in slot_positions], solar)
        else:
            fields = fields.rename({_VALUE_FIELD[profile.layout]: "value"})
            yield _finish(parse.classify(fields, profile, value_is_energy=profile.layout == "long", solar=solar))
    if positions is None:
        raise InputFileError(path, "the file is empty", expected="a header line and readings")


def _slot_columns(path: Path, profile: Profile, header: list[str] | None) -> list[tuple[int, int]]:
    """(slot number 1.., field position) for the half-hour columns of a wide file."""
    if header is None:
        raise InputFileError(path, "the wide layout needs a header naming the half-hour columns")
    pattern = re.compile(rf"^{re.escape(profile.slot_prefix)}(\d+)$")
    slots = sorted((int(m.group(1)), i) for i, name in enumerate(header) if (m := pattern.match(name)))
    numbers = [k for k, _ in slots]
    if numbers[:46] != list(range(1, 47)) or len(numbers) > 50 or numbers != sorted(set(numbers)):
        raise InputFileError(path, "the half-hour columns are not a run from 1",
                             expected=f"{profile.slot_prefix}01..{profile.slot_prefix}48 (46 to 50 columns)",
                             found=str([header[i] for _, i in slots][:6]) + "...")
    return slots


def _classify_wide(fields: pl.DataFrame, profile: Profile, slot_numbers: list[int], solar: set[str]) -> pl.DataFrame:
    """One household-day per line -> one row per non-empty half-hour cell.

    Empty cells are gaps, not rows. A line with the wrong number of fields counts as one row.
    """
    slot_cols = [f"_s{k}" for k in slot_numbers]
    malformed = fields.filter(~pl.col("fields_ok")).select(
        "line_number", "raw_line", "fields_ok", "fields_message", "household_id",
        pl.lit(None, dtype=pl.String).alias("ts"), pl.lit(None, dtype=pl.String).alias("value"))
    cells = (fields.filter(pl.col("fields_ok"))
             .unpivot(index=["line_number", "raw_line", "fields_ok", "fields_message", "household_id", "date"],
                      on=slot_cols, variable_name="slot_col", value_name="value")
             .filter(pl.col("value").fill_null("") != "")
             .with_columns(pl.col("slot_col").str.slice(2).cast(pl.Int32).alias("slot_no")))
    day = pl.col("date").str.replace_all("/", "-").str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    start = parse.local_day_starts(day, profile.timezone)
    next_start = parse.local_day_starts(day.dt.offset_by("1d"), profile.timezone)
    day_slots = (next_start - start).dt.total_minutes() // 30
    ts = start + pl.duration(minutes=(pl.col("slot_no") - 1) * 30)
    cells = cells.with_columns(
        ts.alias("ts"),
        pl.when(day.is_null()).then(pl.lit(Reason.BAD_DATE.value))
          .when(pl.col("slot_no") > day_slots).then(pl.lit(Reason.SLOT_OUTSIDE_DAY.value)).alias("pre_reason"),
        pl.when(day.is_null()).then(pl.lit("date")).otherwise(pl.col("slot_col")).alias("pre_column"),
        pl.when(day.is_null()).then(pl.format("day '{}' is not a date (expected YYYY-MM-DD)", pl.col("date")))
          .otherwise(pl.format("{} is filled but {} has only {} half-hours in {}", pl.col("slot_col"),
                               pl.col("date"), day_slots, pl.lit(profile.timezone))).alias("pre_message"),
    ).select("line_number", "raw_line", "fields_ok", "fields_message", "household_id", "ts", "value",
             "pre_reason", "pre_column", "pre_message")
    malformed = malformed.with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC")),
                                       pl.lit(None, dtype=pl.String).alias("pre_reason"),
                                       pl.lit(None, dtype=pl.String).alias("pre_column"),
                                       pl.lit(None, dtype=pl.String).alias("pre_message"))
    frame = pl.concat([cells, malformed], how="vertical")
    return _finish(parse.classify(frame, profile, solar=solar))


def _parquet_chunks(path: Path, profile: Profile, solar: set[str], household_id: str | None) -> Iterator[pl.DataFrame]:
    if profile.layout == "wide":
        raise InputFileError(path, "the wide layout is read from CSV files", expected="CSV", found="Parquet")
    value_field = _VALUE_FIELD[profile.layout]
    names = {f: profile.columns[f] for f in _fields_wanted(profile, household_id)}
    if not all(isinstance(v, str) for v in names.values()):
        raise InputFileError(path, "Parquet columns must be mapped by name in the profile")
    ids = (pl.lit(household_id, dtype=pl.String) if household_id is not None
           else pl.col(names["household_id"]).cast(pl.String).str.strip_chars())
    for batch in iter_parquet_batches(path, list(names.values())):
        frame = batch.select(
            "line_number",
            pl.lit(None, dtype=pl.String).alias("raw_line"),
            pl.lit(True).alias("fields_ok"),
            pl.lit(None, dtype=pl.String).alias("fields_message"),
            ids.alias("household_id"),
            pl.col(names["ts"]).alias("ts"),
            pl.col(names[value_field]).alias("value"),
        )
        out = parse.classify(frame, profile, value_is_energy=profile.layout == "long", solar=solar)
        # Parquet has no lines: keep a readable rendering of the row, only where it is needed.
        out = out.with_columns(pl.when(pl.col("reason").is_not_null()).then(
            pl.concat_str([pl.col("household_id").fill_null(""), pl.col("ts").cast(pl.String).fill_null(""),
                           pl.col("value").cast(pl.String).fill_null("")], separator=",")).alias("raw_line"))
        yield _finish(out)


def _finish(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(parse.OUTPUT_COLUMNS)
