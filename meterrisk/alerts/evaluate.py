"""How well the inactivity detector does: collapses caught, delay, false alerts.

- On a synthetic cohort (``truth/events.csv``): share of collapses detected, delay in hours from
  the collapse (and from the later of collapse and usual wake), and false alerts per 100
  household-days on residents without a collapse that day.
- On real London households (``LCLid,tstp,energy(kWh/hh)``, UTC): false alerts per 100
  household-days (no ground truth: every alert is counted as false, an upper bound).

Runs the detector straight on (days x 48) matrices, without a store, so the same code path
as :func:`meterrisk.alerts.service.run_alerts` is measured.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from meterrisk.alerts.detector import DetectorParams, day_matrices, detect_day


def local_frame(df: pl.DataFrame, ts_col: str, tz: str) -> pl.DataFrame:
    """Add local_date and slot (elapsed half hours since local midnight) from a tz-aware ts."""
    local = pl.col(ts_col).dt.convert_time_zone(tz)
    midnight = local.dt.truncate("1d")
    return df.with_columns(
        local.dt.date().alias("local_date"),
        ((local - midnight).dt.total_minutes() // 30).cast(pl.Int16).alias("slot"),
    )


def run_matrix(dates, X, params: DetectorParams | None = None, *, skip: set[date] | None = None):
    """Alerts for every day with a full history: list of (date, Alert)."""
    p = params or DetectorParams()
    out = []
    for i in range(p.history_days, len(dates)):
        if skip and dates[i] in skip:
            continue
        for a in detect_day(X[i - p.history_days:i], X[i], p):
            out.append((dates[i], a))
    return out


def _slot_time(d: date, slot: float) -> datetime:
    return datetime(d.year, d.month, d.day) + timedelta(minutes=30 * (slot + 1))


def _day_set(start: datetime, end: datetime) -> set[date]:
    d, out = start.date(), set()
    while d <= end.date():
        out.add(d)
        d += timedelta(days=1)
    return out


def evaluate_synthetic(cohort: str | Path, *, households: int | None = None, params: DetectorParams | None = None,
                       tz: str = "Asia/Tokyo", known_absences: bool = True, details: bool = False) -> dict:
    """Collapse detection and false-alert rate on a synth cohort folder.

    ``known_absences``: holidays and hospital stays from truth are treated as registered in
    the ``absences`` table (their days are not evaluated). Collapse days are never suppressed.
    ``details``: also return ``collapse_records``, one dict per collapse (start, end, details
    from truth, whether and when it was detected, by which rule) and ``false_alert_records``
    (household, date, Alert) for diagnostics.
    """
    cohort = Path(cohort)
    history = (params or DetectorParams()).history_days
    events = pl.read_csv(cohort / "truth" / "events.csv", infer_schema_length=0)
    events = events.with_columns(
        pl.col("start_ts").str.to_datetime(time_zone=tz).dt.replace_time_zone(None),
        pl.col("end_ts").str.to_datetime(time_zone=tz).dt.replace_time_zone(None),
    )
    collapses = events.filter(pl.col("kind") == "collapse")
    ids = sorted(pl.scan_parquet(cohort / "readings").select("household_id").unique().collect()["household_id"])
    if households is not None:
        hit = sorted(set(collapses["household_id"]) & set(ids))
        rest = [h for h in ids if h not in set(hit)]
        ids = hit + rest[: max(0, households - len(hit))]
    long = local_frame(pl.scan_parquet(cohort / "readings").filter(pl.col("household_id").is_in(ids)).collect(),
                       "ts", tz)
    mats = day_matrices(long)
    skip: dict[str, set[date]] = {}
    collapse_days: dict[str, set[date]] = {}
    for r in events.filter(pl.col("kind").is_in(["holiday", "hospital_stay"])).iter_rows(named=True):
        skip.setdefault(r["household_id"], set()).update(_day_set(r["start_ts"], r["end_ts"]))
    for r in collapses.iter_rows(named=True):
        collapse_days.setdefault(r["household_id"], set()).update(_day_set(r["start_ts"], r["end_ts"]))
    results, false_alerts, hh_days, kinds, false_records = [], 0, 0, Counter(), []
    for hid in ids:
        if hid not in mats:
            continue
        dates, X = mats[hid]
        sk = (skip.get(hid, set()) if known_absences else set()) - collapse_days.get(hid, set())
        if sk:  # registered absences are not part of the usual pattern either
            X = X.copy()
            X[[i for i, d in enumerate(dates) if d in sk]] = np.nan
        alerts = run_matrix(dates, X, params, skip=sk)
        cdays = collapse_days.get(hid, set())
        evaluated = [d for d in dates[history:] if d not in sk and d not in cdays]
        hh_days += len(evaluated)
        for d, a in alerts:
            if d not in cdays:
                false_alerts += 1
                kinds[a.kind] += 1
                if details:
                    false_records.append((hid, d, a))
        for c in collapses.filter(pl.col("household_id") == hid).iter_rows(named=True):
            start, end = c["start_ts"], c["end_ts"]
            if start.date() < dates[0] + timedelta(days=history):
                continue
            fired = sorted(((_slot_time(d, a.slot), a) for d, a in alerts
                            if start <= _slot_time(d, a.slot) <= end + timedelta(minutes=30)), key=lambda x: x[0])
            rec = {"household_id": hid, "start": start, "end": end, "truth_details": c.get("details"),
                   "detected": bool(fired)}
            if fired:
                t, a = fired[0]
                rec["delay_h"] = (t - start).total_seconds() / 3600
                wake = a.evidence.get("usual_wake_slot")
                onset = max(start, _slot_time(t.date(), wake - 1)) if wake is not None else start
                rec["delay_from_usual_onset_h"] = max(0.0, (t - onset).total_seconds() / 3600)
                rec["kind"] = a.kind
            results.append(rec)
    out = _summary(results, false_alerts, hh_days, kinds, len(ids))
    if details:
        out["collapse_records"] = results
        out["false_alert_records"] = false_records
    return out


def _summary(results, false_alerts, hh_days, kinds, n_households) -> dict:
    det = [r for r in results if r["detected"]]
    delays = [r["delay_h"] for r in det]
    onset = [r["delay_from_usual_onset_h"] for r in det]
    within4 = sum(1 for r in det if r["delay_from_usual_onset_h"] <= 4.0)
    n = len(results)
    return {
        "households": n_households,
        "collapses": n,
        "detected": len(det),
        "detected_share": len(det) / n if n else math.nan,
        "detected_within_4h_of_usual_onset_share": within4 / n if n else math.nan,
        "delay_h_median": float(np.median(delays)) if delays else math.nan,
        "delay_h_p90": float(np.quantile(delays, 0.9)) if delays else math.nan,
        "delay_from_usual_onset_h_median": float(np.median(onset)) if onset else math.nan,
        "first_alert_kinds": dict(Counter(r["kind"] for r in det)),
        "household_days": hh_days,
        "false_alerts": false_alerts,
        "false_alerts_per_100_household_days": 100 * false_alerts / hh_days if hh_days else math.nan,
        "false_alert_kinds": dict(kinds),
        "missed": [f"{r['household_id']} {r['start']}" for r in results if not r["detected"]][:20],
    }


def evaluate_lcl(folder: str | Path, *, params: DetectorParams | None = None, tz: str = "Europe/London",
                 limit: int | None = None) -> dict:
    """False alerts per 100 household-days on London LCL files (every alert counted as false)."""
    files = sorted(Path(folder).glob("*.csv*"))[:limit]
    history = (params or DetectorParams()).history_days
    frames = []
    for f in files:
        df = pl.read_csv(f, infer_schema_length=0)
        frames.append(df.select(
            pl.col("LCLid").alias("household_id"),
            pl.col("tstp").str.strip_chars().str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False)
            .dt.replace_time_zone("UTC").alias("ts"),
            pl.col("energy(kWh/hh)").str.strip_chars().cast(pl.Float64, strict=False).alias("kwh"),
        ).drop_nulls())
    long = local_frame(pl.concat(frames), "ts", tz)
    long = long.group_by("household_id", "local_date", "slot").agg(pl.col("kwh").sum())
    mats = day_matrices(long)
    alerts_n, hh_days, kinds = 0, 0, Counter()
    per_household = {}
    for hid, (dates, X) in mats.items():
        alerts = run_matrix(dates, X, params)
        days_ok = int((np.isfinite(X[history:]).sum(axis=1) >= 40).sum())
        hh_days += days_ok
        alerts_n += len(alerts)
        per_household[hid] = len(alerts)
        for _, a in alerts:
            kinds[a.kind] += 1
    return {
        "households": len(mats),
        "household_days": hh_days,
        "alerts": alerts_n,
        "alerts_per_100_household_days": 100 * alerts_n / hh_days if hh_days else math.nan,
        "alert_kinds": dict(kinds),
        "households_with_no_alert": sum(1 for v in per_household.values() if v == 0),
        "note": "London 2013 homes of all ages and sizes; no ground truth, so every alert counts as false",
    }
