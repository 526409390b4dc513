"""Run the inactivity detector on the store for one local date and keep its alerts.

Reads the day and the ``history_days`` (84) days before it from ``readings`` (known absence
days are left out of the usual pattern), writes ``alerts`` for that date in one transaction
(re-running the same date replaces its rows), and never alerts a household with a registered
absence that day, or one whose consent is not in force that day (not given yet, or withdrawn
on or before it).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl

from meterrisk.alerts.detector import SLOTS, DetectorParams, day_matrices, detect_day
from meterrisk.errors import InputFileError, MeterriskError
from meterrisk.store import frame
from meterrisk.store import transaction
from meterrisk.store.coverage import last_covered_day


class AbsenceLoad(NamedTuple):
    read: int
    loaded: int
    not_registered: int   # rows of households not in the registry (or withdrawn): not stored


def load_absences(con, path: str | Path) -> AbsenceLoad:
    """Upsert ``absences`` from a CSV: household_id, start_date, end_date[, note] (dates inclusive).

    Only households in the registry are kept: an absence file must not bring back the id of a
    household that never consented or has withdrawn."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no absence file at {path}")
    df = pl.read_csv(path, infer_schema_length=0)
    need = {"household_id", "start_date", "end_date"}
    if not need <= set(df.columns):
        raise InputFileError(path, "missing columns", expected="household_id, start_date, end_date[, note]",
                             found=", ".join(df.columns))
    df = df.select(
        pl.col("household_id").str.strip_chars(),
        pl.col("start_date").str.strip_chars().str.to_date(strict=False),
        pl.col("end_date").str.strip_chars().str.to_date(strict=False),
        (pl.col("note") if "note" in df.columns else pl.lit(None, pl.String)).alias("note"),
    )
    bad = df.filter(pl.col("start_date").is_null() | pl.col("end_date").is_null()
                    | (pl.col("end_date") < pl.col("start_date")))
    if bad.height:
        raise InputFileError(path, f"{bad.height} row(s) with a missing or reversed date range",
                             hint="dates are YYYY-MM-DD and end_date >= start_date")
    loaded = add_absences(con, df)
    return AbsenceLoad(df.height, loaded, df.height - loaded)


def add_absences(con, df: pl.DataFrame) -> int:
    """Upsert absences of registered households; return how many rows were stored."""
    con.register("_abs_in", df.to_arrow())
    try:
        return con.execute("INSERT OR REPLACE INTO absences SELECT a.household_id, a.start_date, a.end_date, a.note "
                           "FROM _abs_in a SEMI JOIN households h USING (household_id)").fetchall()[0][0]
    finally:
        con.unregister("_abs_in")


def _day_matrices(con, day: date, history_days: int) -> dict[str, np.ndarray]:
    """{household: (history_days + 1) x 48 kWh, NaN = missing}, the last row being ``day``, for
    the households whose consent is in force on ``day``."""
    lo = day - timedelta(days=history_days)
    rows = frame(con, """
        SELECT r.household_id, r.local_date, r.slot, r.kwh FROM readings r
        JOIN households h ON h.household_id = r.household_id
         AND h.consent_given_on <= $day AND (h.consent_withdrawn_on IS NULL OR $day < h.consent_withdrawn_on)
        WHERE r.local_date BETWEEN $lo AND $day AND r.slot < $slots
          AND NOT EXISTS (SELECT 1 FROM absences a WHERE a.household_id = r.household_id
                          AND r.local_date BETWEEN a.start_date AND a.end_date AND r.local_date < $day)
        """, {"lo": lo, "day": day, "slots": SLOTS})
    return {hid: X for hid, (_, X) in day_matrices(rows, start=lo, n_days=history_days + 1).items()}


def run_alerts(con, day: date, *, params: DetectorParams | None = None) -> dict:
    """Detect alerts for local date ``day`` for every household with readings up to that day
    and consent in force on it."""
    absent = {r[0] for r in con.execute(
        "SELECT DISTINCT household_id FROM absences WHERE ? BETWEEN start_date AND end_date", [day]).fetchall()}
    params = params or DetectorParams()
    mats = _day_matrices(con, day, params.history_days)
    if not mats:
        raise MeterriskError(f"no readings on or before {day}", hint="ingest readings first, or pass --date")
    records = []
    for hid, X in sorted(mats.items()):
        if hid in absent:
            continue
        for a in detect_day(X[:-1], X[-1], params):
            detected = datetime(day.year, day.month, day.day) + timedelta(minutes=30 * (a.slot + 1))
            records.append((hid, detected, day, a.kind, a.severity, a.message,
                            json.dumps(a.evidence, default=_json_default)))
    with transaction(con):
        con.execute("DELETE FROM alerts WHERE local_date = ?", [day])
        if records:
            con.executemany("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?)", records)
    kinds: dict[str, int] = {}
    for r in records:
        kinds[r[3]] = kinds.get(r[3], 0) + 1
    return {"date": day.isoformat(), "households_checked": len(mats) - len(absent & set(mats)),
            "suppressed_by_absence": len(absent & set(mats)), "alerts": len(records), "by_kind": kinds}


def _json_default(o):
    if isinstance(o, (np.integer, np.floating)):
        return o.item()
    return str(o)


def latest_date(con) -> date:
    """The day to check by default: the last local day most households covered (not the date of
    the latest stray reading; see meterrisk.store.coverage)."""
    return last_covered_day(con)
