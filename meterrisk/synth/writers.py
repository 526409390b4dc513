"""Readings files in each input layout of docs/CONTRACTS.md, plus the row-level faults.

Each chunk becomes one file. Output is byte-deterministic: fixed Parquet settings, gzip with
mtime 0 and no file name, rows in a fixed order, no generation timestamps anywhere.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from meterrisk.synth.faults import OFF_GRID_MINUTES, Incident
from meterrisk.synth.timegrid import HALF_HOUR_US, Grid

PARQUET_OPTIONS = dict(compression="zstd", compression_level=3, use_dictionary=["household_id"],
                       write_statistics=True)
_BAD_KWH = ("ERR", "n/a", "--")


class FaultLog:
    """Collects (household_id, kind, ts, end_ts, details) of every injected fault.

    ``end_ts`` (exclusive) is set for faults that cover a span of slots, else empty.
    """

    def __init__(self):
        self.rows: list[tuple[str, str, str, str | None, str]] = []

    def add(self, hid: str, kind: str, ts: str, details: str = "",
            end_ts: str | None = None) -> None:
        self.rows.append((hid, kind, ts, end_ts, details))


def log_spans(log: FaultLog, spans, ids: list[str], iso_end: np.ndarray) -> None:
    """Meter spans (meter.Span) into the log; ``iso_end`` has one more entry than the grid."""
    for sp in spans:
        log.add(ids[sp.row], sp.kind, iso_end[sp.start], sp.details, iso_end[sp.end])


def _fmt(v: float) -> str:
    return f"{v:.3f}"


def _bad_ts(iso: str) -> str:
    # Hour 25 on a real date: looks like a timestamp, parses as none.
    return f"{iso[:11]}25{iso[13:]}"


def _write_bytes(path: Path, data: bytes, compress: bool) -> None:
    with open(path, "wb") as fh:
        if compress:
            with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
                gz.write(data)
        else:
            fh.write(data)


class _Rows:
    """Rows (household row, grid position, value) in file order, with extra/edited rows."""

    def __init__(self, values: np.ndarray, present: np.ndarray):
        self.width = values.shape[1]
        self.r, self.s = np.nonzero(present)
        self.v = values[self.r, self.s]
        self.key = self.r.astype(np.int64) * self.width + self.s
        self.off_us = np.zeros(len(self.r), dtype=np.int64)
        self.extra: list[tuple[int, int, float]] = []
        self.text: dict[int, tuple[str, str]] = {}   # index -> (field, replacement)

    def index(self, row: int, pos: int) -> int | None:
        k = row * self.width + pos
        i = int(np.searchsorted(self.key, k))
        return i if i < len(self.key) and self.key[i] == k else None

    def finish(self):
        """Arrays (r, s, v, off_us) sorted with duplicates right after their original."""
        if not self.extra:
            return self.r, self.s, self.v, self.off_us, dict(self.text)
        if self.extra:
            er, es, ev = (np.array(x) for x in zip(*self.extra))
        else:
            er = es = np.zeros(0, dtype=np.int64)
            ev = np.zeros(0)
        r = np.concatenate([self.r, er]).astype(np.int64)
        s = np.concatenate([self.s, es]).astype(np.int64)
        v = np.concatenate([self.v, ev])
        off = np.concatenate([self.off_us, np.zeros(len(er), dtype=np.int64)])
        sub = np.concatenate([np.zeros(len(self.r)), np.ones(len(er))])
        order = np.lexsort((sub, r * self.width + s))
        # Text edits refer to original indices; map them through the sort.
        where = np.empty(len(order), dtype=np.int64)
        where[order] = np.arange(len(order))
        text = {int(where[i]): edit for i, edit in self.text.items()}
        return r[order], s[order], v[order], off[order], text


def _row_faults(rows: _Rows, incidents: list[Incident], ids: list[str], iso: np.ndarray,
                rng: np.random.Generator, log: FaultLog, text_ok: bool) -> None:
    """Duplicates, off-grid and text faults on a long table (long CSV/Parquet, register)."""
    for inc in incidents:
        i = rows.index(inc.row, inc.slot)
        if i is None:
            continue
        hid, ts, v = ids[inc.row], iso[inc.slot], float(rows.v[i])
        if inc.kind == "duplicate":
            rows.extra.append((inc.row, inc.slot, v))
            log.add(hid, inc.kind, ts, f"kwh={_fmt(v)}")
        elif inc.kind == "conflicting_duplicate":
            other = round(v + float(rng.uniform(0.1, 0.5)), 3)
            rows.extra.append((inc.row, inc.slot, other))
            log.add(hid, inc.kind, ts, f"kwh={_fmt(v)} and {_fmt(other)}")
        elif inc.kind == "off_grid_ts":
            rows.off_us[i] = OFF_GRID_MINUTES * 60 * 1_000_000
            log.add(hid, inc.kind, ts, f"written {OFF_GRID_MINUTES} minutes late")
        elif text_ok and inc.kind == "unparseable_ts":
            rows.text[i] = ("ts", _bad_ts(ts))
            log.add(hid, inc.kind, ts, f"written as {_bad_ts(ts)}")
        elif text_ok and inc.kind == "non_numeric_kwh":
            bad = _BAD_KWH[int(rng.integers(len(_BAD_KWH)))]
            rows.text[i] = ("value", bad)
            log.add(hid, inc.kind, ts, f"written as {bad}")
        elif text_ok and inc.kind == "malformed_line":
            short = bool(rng.random() < 0.5)
            rows.text[i] = ("line", "short" if short else "long")
            log.add(hid, inc.kind, ts, "missing field" if short else "extra field")


def _value_fault_log(incidents, ids, iso, log, values, layout) -> None:
    for inc in incidents:
        hid, ts = ids[inc.row], iso[inc.slot]
        if inc.kind in ("missing_slots", "missing_day"):
            end = inc.slot + inc.length
            log.add(hid, inc.kind, ts, f"slots={inc.length}",
                    iso[end] if end < len(iso) else None)
        elif inc.kind == "spike":
            log.add(hid, inc.kind, ts, "index jumps by spike" if layout == "register"
                    else f"kwh={_fmt(values[inc.row, inc.slot])}")
        elif inc.kind == "negative":
            log.add(hid, inc.kind, ts, f"kwh={_fmt(values[inc.row, inc.slot])}")


def _lines(ids, iso, r, s, v, off, text, grid_iso_of) -> pl.DataFrame:
    ts = pl.Series(iso).gather(s)
    if off.any():
        shifted = np.flatnonzero(off)
        ts = ts.scatter(shifted, [grid_iso_of(int(i)) for i in shifted])
    df = pl.DataFrame({"hid": pl.Series(ids).gather(r), "ts": ts,
                       "v": _fast_fmt(v)})
    line = df.select(pl.concat_str(["hid", "ts", "v"], separator=",")).to_series()
    if text:
        idx = sorted(text)
        new = []
        for i in idx:
            field, rep = text[i]
            hid, t, val = df.row(i)
            new.append({"ts": f"{hid},{rep},{val}", "value": f"{hid},{t},{rep}",
                        "line": f"{hid},{t}" if rep == "short" else f"{hid},{t},{val},{val}"}[field])
        line = line.scatter(idx, new)
    return line.to_frame("line")


def _fast_fmt(v: np.ndarray) -> pl.Series:
    """Fixed 3-decimal text for many values: integer milli-kWh split into whole and fraction."""
    milli = np.rint(v * 1000).astype(np.int64)
    sign = np.where(milli < 0, "-", "")
    a = np.abs(milli)
    return (pl.DataFrame({"sign": sign, "w": a // 1000, "f": a % 1000})
            .select(pl.concat_str([pl.col("sign"), pl.col("w").cast(pl.String), pl.lit("."),
                                   pl.col("f").cast(pl.String).str.zfill(3)]))
            .to_series())


def _write_lines(path: Path, header: str, lines: pl.DataFrame, compress: bool) -> None:
    buf = io.BytesIO()
    buf.write((header + "\n").encode())
    lines.write_csv(buf, include_header=False, quote_style="never")
    _write_bytes(path, buf.getvalue(), compress)


def write_long(path: Path, ids: list[str], grid: Grid, kwh: np.ndarray, present: np.ndarray,
               incidents: list[Incident], rng: np.random.Generator, log: FaultLog,
               fmt: str, compress: bool = False) -> int:
    """Long layout: household_id, ts, kwh. ``fmt`` is "parquet" or "csv". Returns row count."""
    _value_fault_log(incidents, ids, grid.iso, log, kwh, "long")
    rows = _Rows(kwh, present)
    _row_faults(rows, incidents, ids, grid.iso, rng, log, text_ok=(fmt == "csv"))
    r, s, v, off, text = rows.finish()
    if fmt == "parquet":
        ts = pa.array(grid.utc_us[s] + off, type=pa.timestamp("us", tz=grid.tz))
        table = pa.table({"household_id": pa.array(ids, pa.string()).take(pa.array(r)),
                          "ts": ts, "kwh": pa.array(v, pa.float64())})
        pq.write_table(table, path, row_group_size=1 << 20, **PARQUET_OPTIONS)
    else:
        lines = _lines(ids, grid.iso, r, s, v, off, text,
                       lambda i: grid.iso_at(int(grid.utc_us[s[i]] + off[i])))
        _write_lines(path, "household_id,ts,kwh", lines, compress)
    return len(r)


def write_register(path: Path, ids: list[str], grid: Grid, kwh: np.ndarray,
                   present: np.ndarray, incidents: list[Incident], rng: np.random.Generator,
                   log: FaultLog, compress: bool = False) -> int:
    """Register layout: the import index (kWh) read at each half-hour boundary.

    The register counts imports only, so net export on solar homes adds nothing. A spike is a
    permanent jump of the index; a meter reset restarts the index at zero.
    """
    h, t = kwh.shape
    use = np.maximum(kwh, 0.0)
    for inc in incidents:
        if inc.kind == "spike":
            use[inc.row, inc.slot] += 50.0
    index = np.zeros((h, t + 1))
    index[:, 0] = rng.uniform(5_000, 60_000, h).round(3)
    np.cumsum(use, axis=1, out=index[:, 1:])
    index[:, 1:] += index[:, :1]
    iso = np.append(grid.iso, grid.iso_at(int(grid.utc_us[-1] + HALF_HOUR_US)))
    utc = np.append(grid.utc_us, grid.utc_us[-1] + HALF_HOUR_US)
    for inc in incidents:
        if inc.kind == "meter_reset":
            log.add(ids[inc.row], inc.kind, iso[inc.slot],
                    f"index {_fmt(index[inc.row, inc.slot])} -> 0.000")
            index[inc.row, inc.slot:] -= index[inc.row, inc.slot]
    index = np.round(index, 3) + 0.0
    present_b = np.zeros((h, t + 1), dtype=bool)
    present_b[:, :t] = present
    # The closing reading belongs to the last half hour with consent.
    present_b[:, 1:] |= present
    for inc in incidents:
        if inc.kind in ("missing_slots", "missing_day"):
            present_b[inc.row, inc.slot:inc.slot + inc.length] = False
    _value_fault_log(incidents, ids, iso, log, index, "register")
    rows = _Rows(index, present_b)
    _row_faults(rows, incidents, ids, iso, rng, log, text_ok=True)
    r, s, v, off, text = rows.finish()
    lines = _lines(ids, iso, r, s, v, off, text,
                   lambda i: grid.iso_at(int(utc[s[i]] + off[i])))
    _write_lines(path, "household_id,ts,register_kwh", lines, compress)
    return len(r)


def wide_width(grid: Grid) -> int:
    """48 columns, or 50 when the zone has a 50-slot (DST fall-back) day in the period."""
    return 50 if grid.slots_per_day.max() > 48 else 48


def write_wide(path: Path, ids: list[str], grid: Grid, kwh: np.ndarray, present: np.ndarray,
               incidents: list[Incident], rng: np.random.Generator, log: FaultLog,
               compress: bool = False) -> int:
    """Wide layout: household_id, date, hh01..hh48 (+hh49, hh50); empty cell = gap."""
    h = kwh.shape[0]
    width = wide_width(grid)
    _value_fault_log(incidents, ids, grid.iso, log, kwh, "wide")
    cells = np.full((h, grid.days, width), np.nan)
    vals = np.where(present, kwh, np.nan)
    cells[:, grid.day, grid.slot_of_day] = vals
    day_present = np.zeros((h, grid.days), dtype=bool)
    np.logical_or.at(day_present, (slice(None), grid.day), present)
    for inc in incidents:
        if inc.kind == "missing_day":
            day_present[inc.row, grid.day[inc.slot]] = False
    r, d = np.nonzero(day_present)
    flat = cells[r, d]
    cols = [f"hh{i + 1:02d}" for i in range(width)]
    blank = pl.Series([""] * len(r), dtype=pl.String)
    text = pl.DataFrame([
        _fast_fmt(np.nan_to_num(flat[:, j])).zip_with(pl.Series(~np.isnan(flat[:, j])), blank)
        .alias(c) for j, c in enumerate(cols)])
    dates = pl.Series([dt.isoformat() for dt in grid.dates]).gather(d)
    df = pl.DataFrame({"household_id": pl.Series(ids).gather(r), "date": dates}).hstack(text)
    line = df.select(pl.concat_str(df.columns, separator=",")).to_series().to_list()
    key = r.astype(np.int64) * grid.days + d
    extra: list[tuple[int, str]] = []
    for inc in incidents:
        day = int(grid.day[inc.slot])
        k = int(inc.row) * grid.days + day
        i = int(np.searchsorted(key, k))
        if i >= len(key) or key[i] != k:
            continue
        hid, date_s = ids[inc.row], grid.dates[day].isoformat()
        fields = line[i].split(",")
        cell = 2 + int(grid.slot_of_day[inc.slot])
        if inc.kind == "duplicate":
            extra.append((i, line[i]))
            log.add(hid, inc.kind, grid.iso[inc.slot], f"row {date_s} repeated")
        elif inc.kind == "conflicting_duplicate":
            old = fields[cell] or "0.000"
            fields[cell] = _fmt(float(old) + round(float(rng.uniform(0.1, 0.5)), 3))
            extra.append((i, ",".join(fields)))
            log.add(hid, inc.kind, grid.iso[inc.slot], f"hh{cell - 1:02d}={old} and {fields[cell]}")
        elif inc.kind == "unparseable_ts":
            bad = f"{date_s[:8]}32"
            fields[1] = bad
            line[i] = ",".join(fields)
            log.add(hid, inc.kind, grid.iso[inc.slot], f"date written as {bad}")
        elif inc.kind == "non_numeric_kwh":
            fields[cell] = _BAD_KWH[int(rng.integers(len(_BAD_KWH)))]
            line[i] = ",".join(fields)
            log.add(hid, inc.kind, grid.iso[inc.slot], f"hh{cell - 1:02d}={fields[cell]}")
        elif inc.kind == "malformed_line":
            line[i] = ",".join(fields[:-1])
            log.add(hid, inc.kind, grid.iso[inc.slot], "missing last field")
    for i, text_line in sorted(extra, reverse=True):
        line.insert(i + 1, text_line)
    header = ",".join(["household_id", "date"] + cols)
    _write_lines(path, header, pl.DataFrame({"line": line}), compress)
    return len(line)
