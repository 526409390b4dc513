"""Turning raw fields into typed readings, one coded reason per rejected row.

Works on chunks (Polars frames) from ``readers``; nothing here touches the store. Every
row that comes in goes out, either parsed (``reason`` null) or with a reason, a column
and a message that quotes the offending value.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from meterrisk.errors import InputFileError
from meterrisk.ingest.profiles import Profile
from meterrisk.ingest.reasons import Reason

_UTC = pl.Datetime("us", "UTC")
_OFFSET = r"([+-])(\d{2}):?(\d{2})$"


#: Readings that start later than this after now are not readings yet (a meter clock or export
#: error): stored, they would move "the latest date" that features and alerts work on.
FUTURE_SLACK = timedelta(days=1)


def utc_now() -> datetime:
    """The clock ingest judges future readings by (a module-level function, so tests can set it)."""
    return datetime.now(timezone.utc)


# --- header and fields --------------------------------------------------------------

def _clean(expr: pl.Expr) -> pl.Expr:
    """Strip whitespace and one layer of surrounding quotes, as spreadsheet exports add."""
    return expr.str.strip_chars().str.strip_prefix('"').str.strip_suffix('"').str.strip_chars()


def header_fields(line: str, profile: Profile) -> list[str]:
    return [f.strip().strip('"').strip() for f in line.split(profile.delimiter)]


def resolve_columns(path: Path, profile: Profile, header: list[str] | None, n_fields: int,
                    wanted: tuple[str, ...]) -> dict[str, int]:
    """Map contract fields (household_id, ts, ...) to 0-based field positions."""
    positions: dict[str, int] = {}
    for field in wanted:
        spec = profile.columns[field]
        if isinstance(spec, int):
            if not 1 <= spec <= n_fields:
                raise InputFileError(path, f"column {spec} for {field} does not exist",
                                     expected=f"at least {spec} columns", found=f"{n_fields}")
            positions[field] = spec - 1
        else:
            assert header is not None
            if spec not in header:
                raise InputFileError(
                    path, f"line 1 (header) has no column {spec!r} for {field}",
                    expected=str([profile.columns[f] for f in wanted]), found=str(header),
                    hint="pick the matching --profile, or write one that maps these column names",
                )
            positions[field] = header.index(spec)
    return positions


def split_fields(lines: pl.DataFrame, profile: Profile, n_fields: int,
                 positions: dict[str, int]) -> pl.DataFrame:
    """(line_number, line) -> line_number, raw_line, fields_ok, and one column per field."""
    n_found = pl.col("line").str.count_matches(profile.delimiter, literal=True) + 1
    parts = pl.col("line").str.split_exact(profile.delimiter, n_fields - 1)
    # Quote and space stripping is costly per row; most exports have neither around fields.
    quoted = lines.select(pl.col("line").str.contains('"', literal=True).any()).item()
    clean = _clean if quoted else (lambda e: e.str.strip_chars())
    return lines.select(
        "line_number",
        pl.col("line").alias("raw_line"),
        (n_found == n_fields).alias("fields_ok"),
        pl.format("line has {} fields separated by '{}' but the header has {}",
                  n_found, pl.lit(profile.delimiter), pl.lit(n_fields)).alias("fields_message"),
        *[clean(parts.struct[i]).alias(name) for name, i in positions.items()],
    )


# --- timestamps ---------------------------------------------------------------------

def parse_timestamps(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Text ``ts`` -> ``ts_utc`` plus flags ``_unparsed``, ``_nonexistent``, ``_ambiguous``
    and, for an ambiguous (fall-back) local time, ``_fold_late``: its later instant
    (``ts_utc`` is then the earlier one).

    Exports use one format throughout, so the two common ones (ISO 8601 with an offset, and
    naive local time in a zone without clock changes) are parsed first in one cheap pass;
    only the rows they miss go through the general parser.
    """
    text = pl.col("ts").str.strip_chars()
    # Failed parses are slow per row, so each format only sees what the previous one missed.
    attempts = [text.str.strptime(pl.Datetime("us", "UTC"), "%Y-%m-%dT%H:%M:%S%z", strict=False)]
    offset = fixed_offset(zone)
    if offset is not None:
        naive = text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
        attempts.append((naive - pl.duration(seconds=offset)).dt.replace_time_zone("UTC"))
    done_parts = []
    rest = frame
    for attempt in attempts:
        rest = rest.with_columns(attempt.alias("ts_utc"))
        done_parts.append(rest.filter(pl.col("ts_utc").is_not_null()))
        rest = rest.filter(pl.col("ts_utc").is_null()).drop("ts_utc")
        if rest.height == 0:
            break
    flags = [pl.lit(False).alias("_unparsed"), pl.lit(False).alias("_nonexistent"), pl.lit(False).alias("_ambiguous"),
             pl.lit(None, dtype=_UTC).alias("_fold_late")]
    parts = [p.with_columns(flags) for p in done_parts if p.height]
    if rest.height:
        parts.append(_parse_timestamps_general(rest, zone))
    return pl.concat(parts, how="vertical") if parts else frame.with_columns(
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts_utc"), *flags)


def _parse_timestamps_general(frame: pl.DataFrame, zone: str) -> pl.DataFrame:
    """Text ``ts`` -> ``ts_utc`` plus flags ``_unparsed``, ``_nonexistent``, ``_ambiguous``.

    Accepts ISO 8601 with ``T`` or space, ``-`` or ``/`` in dates, optional seconds and
    fractions, and ``Z`` or ``+09:00``/``+0900`` offsets; naive times are local in ``zone``.
    A naive time inside a clock-change gap or fold cannot be placed without guessing, so it
    is flagged instead. Built in stages so each intermediate is computed once.
    """
    s = pl.col("ts").str.strip_chars().str.replace_all("/", "-", literal=True).str.replace("T", " ", literal=True)
    frame = frame.with_columns(s.str.replace(r"Z$", "+00:00").alias("_s"))
    frame = frame.with_columns(pl.col("_s").str.extract_groups(_OFFSET).alias("_off"))
    sign = pl.when(pl.col("_off").struct[0] == "-").then(-1).otherwise(1)
    naive_text = pl.col("_s").str.replace(_OFFSET, "").str.strip_chars()
    frame = frame.with_columns(
        pl.col("_off").struct[0].is_not_null().alias("_has_offset"),
        (sign * (pl.col("_off").struct[1].cast(pl.Int64, strict=False) * 60
                 + pl.col("_off").struct[2].cast(pl.Int64, strict=False))).alias("_offset_min"),
        naive_text.alias("_naive_text"),
    )
    frame = frame.with_columns(pl.coalesce(
        pl.col("_naive_text").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False),
        pl.col("_naive_text").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M", strict=False),
    ).alias("_naive"))
    naive = pl.col("_naive")
    from_offset = (naive - pl.duration(minutes=pl.col("_offset_min"))).dt.replace_time_zone("UTC")
    early = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
    checks_folds = _has_clock_changes(zone)
    late = (naive.dt.replace_time_zone(zone, ambiguous="latest", non_existent="null").dt.convert_time_zone("UTC")
            if checks_folds else early)
    frame = frame.with_columns(from_offset.alias("_from_offset"), early.alias("_early"), late.alias("_late"))
    local_ok = pl.col("_naive").is_not_null() & ~pl.col("_has_offset")
    ambiguous = local_ok & pl.col("_early").is_not_null() & (pl.col("_early") != pl.col("_late"))
    return frame.with_columns(
        pl.when(pl.col("_has_offset")).then(pl.col("_from_offset")).otherwise(pl.col("_early")).alias("ts_utc"),
        pl.col("_naive").is_null().alias("_unparsed"),
        (local_ok & pl.col("_early").is_null()).alias("_nonexistent"),
        ambiguous.alias("_ambiguous"),
        pl.when(ambiguous).then(pl.col("_late")).alias("_fold_late"),
    ).drop("_s", "_off", "_has_offset", "_offset_min", "_naive_text", "_naive", "_from_offset", "_early", "_late")


def _has_clock_changes(zone: str) -> bool:
    """Whether ``zone`` has had a UTC-offset change since 1970 (else no gaps or folds to check)."""
    tz = ZoneInfo(zone)
    offsets = {datetime(y, m, 1, tzinfo=tz).utcoffset() for y in range(1970, 2040, 3) for m in (1, 4, 7, 10)}
    return len(offsets) > 1


def typed_timestamps(frame: pl.DataFrame, dtype: pl.DataType, zone: str) -> pl.DataFrame:
    """A Parquet timestamp column -> ``ts_utc`` and the flags of ``parse_timestamps``.
    Naive values are local time in ``zone``, so they can fall in a gap or a fold too."""
    ts = pl.col("ts")
    if getattr(dtype, "time_zone", None):
        return frame.with_columns(ts.dt.convert_time_zone("UTC").alias("ts_utc"), ts.is_null().alias("_unparsed"),
                                  pl.lit(False).alias("_nonexistent"), pl.lit(False).alias("_ambiguous"),
                                  pl.lit(None, dtype=_UTC).alias("_fold_late"))
    early = ts.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
    late = (ts.dt.replace_time_zone(zone, ambiguous="latest", non_existent="null").dt.convert_time_zone("UTC")
            if _has_clock_changes(zone) else early)
    frame = frame.with_columns(early.alias("ts_utc"), late.alias("_late"))
    ambiguous = (pl.col("ts_utc") != pl.col("_late")).fill_null(False)
    return frame.with_columns(
        ts.is_null().alias("_unparsed"),
        (pl.col("ts_utc").is_null() & ts.is_not_null()).alias("_nonexistent"),
        ambiguous.alias("_ambiguous"),
        pl.when(ambiguous).then(pl.col("_late")).alias("_fold_late"),
    ).drop("_late")


# --- values ---------------------------------------------------------------------------

def parse_number(value: pl.Expr, profile: Profile) -> pl.Expr:
    """Text -> float in the profile's unit converted to kWh; non-numeric -> null.

    Spaces anywhere are dropped (" 0.219 ", "1 234"); a decimal comma is accepted when
    the profile says so. NaN and infinities are not readings.
    """
    text = value.str.replace_all(r"\s", "")
    if profile.decimal == ",":
        text = text.str.replace(",", ".", literal=True)
    number = text.cast(pl.Float64, strict=False)
    return pl.when(number.is_finite()).then(number * profile.unit_factor)


def classify(frame: pl.DataFrame, profile: Profile, *, value_col: str = "value",
             value_is_energy: bool = True, solar: set[str] | None = None) -> pl.DataFrame:
    """Add ``ts_utc``, ``kwh`` and the first failing (``reason``, ``column_name``, ``message``).

    ``frame`` has line_number, raw_line, fields_ok, household_id, ts (text or timestamp)
    and ``value_col`` (text or number). Checks run in a fixed order so one row gets one
    reason: the first thing a person would have to fix.
    """
    ts_dtype = frame.schema["ts"]
    if ts_dtype == pl.String:
        frame = parse_timestamps(frame, profile.timezone)
    else:
        frame = typed_timestamps(frame, ts_dtype, profile.timezone)
    if profile.fold == "order":
        # Not a reason yet: which instant a repeated local time is depends on the rows around it
        # in the whole file, so ``folds.resolve`` decides once the file is staged.
        frame = frame.with_columns(pl.lit(False).alias("_ambiguous"))
    else:
        frame = frame.with_columns(pl.lit(None, dtype=_UTC).alias("_fold_late"))
    if profile.ts_offset_minutes:  # a constant vendor artefact: shift the instant, then check it
        shift = pl.duration(minutes=profile.ts_offset_minutes)
        frame = frame.with_columns(pl.col("ts_utc") + shift, pl.col("_fold_late") + shift)
    ts_text = pl.col("ts").cast(pl.String)
    if frame.schema[value_col] == pl.String:
        number = parse_number(pl.col(value_col), profile)
    else:
        raw = pl.col(value_col).cast(pl.Float64)
        number = pl.when(raw.is_finite()).then(raw * profile.unit_factor)
    val_text = pl.col(value_col).cast(pl.String)
    frame = frame.with_columns(number.alias("kwh"))
    solar_ids = pl.Series("solar", sorted(solar or []), dtype=pl.String)
    off_grid = (((pl.col("ts_utc").dt.minute() % 30) != 0)
                | (pl.col("ts_utc").dt.second() != 0) | (pl.col("ts_utc").dt.microsecond() != 0))
    unit = profile.unit
    horizon = utc_now() + FUTURE_SLACK
    checks = [
        (~pl.col("fields_ok"), Reason.MALFORMED_LINE, None, pl.col("fields_message")),
        (pl.col("household_id").fill_null("") == "", Reason.MISSING_HOUSEHOLD_ID, "household_id",
         pl.lit("household id is empty")),
    ]
    if "pre_reason" in frame.columns:  # layout-specific problems found before parsing (wide: bad day)
        checks.append((pl.col("pre_reason").is_not_null(), pl.col("pre_reason"), pl.col("pre_column"),
                       pl.col("pre_message")))
    checks += [
        (pl.col("_unparsed"), Reason.BAD_TIMESTAMP, "ts",
         pl.format("timestamp '{}' is not a date-time (expected ISO 8601, e.g. 2025-04-01T00:30:00+09:00)", ts_text.fill_null(""))),
        (pl.col("_nonexistent"), Reason.NONEXISTENT_LOCAL_TIME, "ts",
         pl.format("local time '{}' does not exist in {} (clock moved forward)", ts_text, pl.lit(profile.timezone))),
        (pl.col("_ambiguous"), Reason.AMBIGUOUS_LOCAL_TIME, "ts",
         pl.format("local time '{}' happens twice in {} (clock moved back); give a UTC offset, or set "
                   "fold = \"order\" in the profile if the export writes that hour twice in time order",
                   ts_text, pl.lit(profile.timezone))),
        (off_grid, Reason.OFF_GRID_TIME, "ts",
         pl.format("timestamp '{}' is not on a half-hour boundary (:00 or :30){}", ts_text,
                   pl.lit(f" after ts_offset_minutes = {profile.ts_offset_minutes}" if profile.ts_offset_minutes
                          else ""))),
        (pl.col("ts_utc") > pl.lit(horizon), Reason.FUTURE_TIME, "ts",
         pl.format("timestamp '{}' is more than a day after now ({} UTC): a reading from the future "
                   "(a meter clock or export error)", ts_text, pl.lit(f"{horizon - FUTURE_SLACK:%Y-%m-%d %H:%M}"))),
        (pl.col("kwh").is_null(), Reason.NON_NUMERIC_VALUE, value_col,
         pl.format("value '{}' is not a number", val_text.fill_null(""))),
    ]
    if value_is_energy:
        checks += [
            ((pl.col("kwh") < 0) & ~pl.col("household_id").is_in(pl.lit(solar_ids).implode()), Reason.NEGATIVE_VALUE, value_col,
             pl.format("value {} {} is negative and the registry lists no solar for this home", val_text, pl.lit(unit))),
            (pl.col("kwh") > profile.max_kwh_per_slot, Reason.IMPLAUSIBLE_VALUE, value_col,
             pl.format("value {} kWh in one half hour is above the plausible maximum {} kWh",
                       pl.col("kwh").round(4), pl.lit(profile.max_kwh_per_slot))),
        ]
    # Codes for every row are cheap; messages (string formatting) are built for bad rows only.
    reason = pl.lit(None, dtype=pl.String)
    column = pl.lit(None, dtype=pl.String)
    for cond, code, col, _ in reversed(checks):
        code = pl.lit(code.value) if isinstance(code, Reason) else code
        col = col if isinstance(col, pl.Expr) else pl.lit(col, dtype=pl.String)
        reason = pl.when(cond).then(code).otherwise(reason)
        column = pl.when(cond).then(col).otherwise(column)
    frame = frame.with_columns(reason.alias("reason"), column.alias("column_name"))
    bad = frame.filter(pl.col("reason").is_not_null())
    good = frame.filter(pl.col("reason").is_null()).with_columns(pl.lit(None, dtype=pl.String).alias("message"))
    if bad.height:
        message = pl.lit(None, dtype=pl.String)
        for cond, code, _, msg in reversed(checks):
            is_code = (pl.col("reason") == code.value) if isinstance(code, Reason) else cond
            message = pl.when(is_code).then(msg).otherwise(message)
        bad = bad.with_columns(message.alias("message"))
        good = pl.concat([good, bad], how="vertical")
    return good.drop("_unparsed", "_nonexistent", "_ambiguous").rename({"_fold_late": "fold_late"})


#: ``fold_late``: with ``fold = "order"``, the later instant of a repeated local time (else null).
OUTPUT_COLUMNS = ["line_number", "raw_line", "household_id", "ts_utc", "kwh", "reason", "column_name", "message",
                  "fold_late"]


# --- local time in the store's zone ---------------------------------------------------

def with_local_time(frame: pl.DataFrame, store_zone: str) -> pl.DataFrame:
    """Add local_ts, local_date and slot (elapsed half-hours since local midnight).

    Zones without clock changes (Asia/Tokyo) take a fixed offset, which is much cheaper
    than a per-row zone lookup; others look up each local day's midnight once per date.
    """
    offset = fixed_offset(store_zone)
    if offset is not None:
        local = pl.col("ts_utc").dt.replace_time_zone(None) + pl.duration(seconds=offset)
        frame = frame.with_columns(local.alias("local_ts"))
        return frame.with_columns(
            pl.col("local_ts").dt.date().alias("local_date"),
            ((pl.col("local_ts").dt.hour().cast(pl.Int16) * 2)
             + (pl.col("local_ts").dt.minute().cast(pl.Int16) // 30)).alias("slot"),
        )
    local = pl.col("ts_utc").dt.convert_time_zone(store_zone)
    frame = frame.with_columns(local.dt.replace_time_zone(None).alias("local_ts"))
    frame = frame.with_columns(pl.col("local_ts").dt.date().alias("local_date"))
    dates = frame.select(pl.col("local_date").unique().drop_nulls())
    starts = dates.with_columns(local_day_starts(pl.col("local_date"), store_zone)
                                .dt.replace_time_zone(None).alias("_midnight"))
    frame = frame.join(starts, on="local_date", how="left", maintain_order="left")
    return frame.with_columns(
        ((pl.col("ts_utc").dt.replace_time_zone(None) - pl.col("_midnight")).dt.total_minutes() // 30)
        .cast(pl.Int16).alias("slot")).drop("_midnight")


def fixed_offset(zone: str) -> int | None:
    """The zone's UTC offset in seconds if it has not changed since 1970, else None."""
    if _has_clock_changes(zone):
        return None
    return int(datetime(2000, 1, 1, tzinfo=ZoneInfo(zone)).utcoffset().total_seconds())


def expected_slots(days: list[date], zone: str) -> dict[date, int]:
    """Half-hours in each local date: 48, or 46/50 (and rarer) on clock-change days."""
    tz = ZoneInfo(zone)
    out = {}
    for d in days:
        start = datetime(d.year, d.month, d.day, tzinfo=tz)
        nxt = d + timedelta(days=1)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
        out[d] = int((end.timestamp() - start.timestamp()) // 1800)
    return out


def local_day_starts(dates: pl.Expr, zone: str) -> pl.Expr:
    """Local midnight of each date, as UTC (start of slot 0)."""
    return (dates.cast(pl.Datetime("us"))
            .dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC"))
