"""How well the inactivity detector does: collapses caught, delay, false alerts.

- On a synthetic cohort (``truth/events.csv``): share of collapses detected; **detection
  delay** = (clock time of the intraday run that raises the alert) - (collapse start), where a
  run at clock time T sees the half hours ending at or before T - ``latency_min`` (readings
  arrive after their half hour ends; default 30 min) and runs are every ``every_min`` (30)
  minutes on the clock; and, for continuity, the former delay from the usual activity onset
  (the later of collapse and usual wake, measured at the alert's half hour). False alerts per
  100 household-days on days without a collapse, counted by **episode** (consecutive days of
  the same household and kind are one alert) and as raw alert-days.
- On real London households (``LCLid,tstp,energy(kWh/hh)``, UTC): the same false rates (no
  ground truth: every alert is counted as false, an upper bound).
- Data-quality events (``meter_outage``, ``no_data``) are counted separately, never as alerts.

Runs the detector straight on (days x 48) matrices, without a store, so the same code path
as :func:`meterrisk.alerts.service.run_alerts` is measured. The batch and the intraday runs
give the same alerts at the same half hours (the detector is causal; tests/test_alert_intraday.py),
so the batch's half hour plus the delivery latency is when an intraday run raises it.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from meterrisk.alerts.detector import DetectorParams, day_matrices, detect_day
from meterrisk.alerts.episodes import DATA_KINDS, group_episodes
from meterrisk.alerts.timing import DELIVERY_LATENCY_MIN, RUN_EVERY_MIN, raised_at, slot_end


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


_slot_time = slot_end


def _false_counts(alerts, bad_days: set[date], hid: str) -> tuple[Counter, Counter, Counter, Counter]:
    """(inactivity alert-days, inactivity episodes, data alert-days, data episodes) by kind,
    for alerts on days not in ``bad_days`` (an episode counts when it starts on such a day)."""
    days, eps, qdays, qeps = Counter(), Counter(), Counter(), Counter()
    for d, a in alerts:
        if d not in bad_days:
            (qdays if a.kind in DATA_KINDS else days)[a.kind] += 1
    for e in group_episodes((hid, d, a.kind, a) for d, a in alerts):
        if e.start_date not in bad_days:
            (qeps if e.kind in DATA_KINDS else eps)[e.kind] += 1
    return days, eps, qdays, qeps


def _day_set(start: datetime, end: datetime) -> set[date]:
    d, out = start.date(), set()
    while d <= end.date():
        out.add(d)
        d += timedelta(days=1)
    return out


def evaluate_synthetic(cohort: str | Path, *, households: int | None = None, params: DetectorParams | None = None,
                       tz: str = "Asia/Tokyo", known_absences: bool = True, details: bool = False,
                       latency_min: int = DELIVERY_LATENCY_MIN, every_min: int = RUN_EVERY_MIN) -> dict:
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
    # stays with family count as known only when the resident told the service (truth details)
    known = events.filter(pl.col("kind").is_in(["holiday", "hospital_stay"])
                          | ((pl.col("kind") == "family_stay")
                             & pl.col("details").fill_null("").str.contains("registered=true")))
    for r in known.iter_rows(named=True):
        skip.setdefault(r["household_id"], set()).update(_day_set(r["start_ts"], r["end_ts"]))
    faults = _fault_spans(cohort, tz)
    for r in collapses.iter_rows(named=True):
        collapse_days.setdefault(r["household_id"], set()).update(_day_set(r["start_ts"], r["end_ts"]))
    results, hh_days, false_records, fault_stats = [], 0, [], Counter()
    days_k, eps_k, qdays_k, qeps_k = Counter(), Counter(), Counter(), Counter()
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
        evaluated_set = set(dates[history:])
        hh_days += len(evaluated)
        for acc, c in zip((days_k, eps_k, qdays_k, qeps_k), _false_counts(alerts, cdays, hid)):
            acc.update(c)
        if details:
            false_records.extend((hid, d, a) for d, a in alerts if d not in cdays and a.kind not in DATA_KINDS)
        fired_days = {(d, a.kind) for d, a in alerts}
        data_days = {d for d, a in alerts if a.kind in DATA_KINDS}
        for kind, fs, fe in faults.get(hid, []):
            span = {d for d in _day_set(fs, fe - timedelta(minutes=30)) if d in evaluated_set} - sk
            if not span:
                continue
            fault_stats[kind] += 1
            fault_stats[f"{kind}_reported"] += bool(span & data_days)
            fault_stats["inactivity_alert_days_on_fault_days"] += len(
                {d for d, a in alerts if d in span and a.kind not in DATA_KINDS})
        for c in collapses.filter(pl.col("household_id") == hid).iter_rows(named=True):
            start, end = c["start_ts"], c["end_ts"]
            if start.date() < dates[0] + timedelta(days=history):
                continue
            # the alert's evidence must not predate the collapse: its half hour ends after the start
            fired = sorted(((raised_at(d, a.slot, latency_min=latency_min, every_min=every_min), d, a)
                            for d, a in alerts if a.kind not in DATA_KINDS
                            and start < _slot_time(d, a.slot) <= end + timedelta(minutes=30)), key=lambda x: x[0])
            rec = {"household_id": hid, "start": start, "end": end, "truth_details": c.get("details"),
                   "detected": bool(fired)}
            if fired:
                t, d, a = fired[0]
                slot_t = _slot_time(d, a.slot)
                rec["delay_h"] = (t - start).total_seconds() / 3600
                wake = a.evidence.get("usual_wake_slot")
                onset = max(start, _slot_time(d, wake - 1)) if wake is not None else start
                rec["delay_from_usual_onset_h"] = max(0.0, (slot_t - onset).total_seconds() / 3600)
                rec["kind"] = a.kind
                # an episode of the same kind already open from yesterday: no new alert is raised
                rec["continues_open_episode"] = (d - timedelta(days=1), a.kind) in fired_days
            results.append(rec)
    out = _summary(results, hh_days, len(ids), days_k, eps_k, qdays_k, qeps_k)
    out["truth_faults"] = dict(fault_stats)   # meter faults of truth/faults.csv and whether a data event reported them
    if details:
        out["collapse_records"] = results
        out["false_alert_records"] = false_records
    return out


def _rates(hh_days, days_k, eps_k, qdays_k, qeps_k) -> dict:
    per100 = (lambda n: 100 * n / hh_days) if hh_days else (lambda n: math.nan)
    return {
        "household_days": hh_days,
        "false_episodes": sum(eps_k.values()),
        "false_episodes_per_100_household_days": per100(sum(eps_k.values())),
        "false_alert_days": sum(days_k.values()),
        "false_alert_days_per_100_household_days": per100(sum(days_k.values())),
        "false_episode_kinds": dict(eps_k),
        "false_alert_day_kinds": dict(days_k),
        "data_events": sum(qeps_k.values()),
        "data_events_per_100_household_days": per100(sum(qeps_k.values())),
        "data_event_days": sum(qdays_k.values()),
        "data_event_kinds": dict(qeps_k),
    }


def _fault_spans(cohort: Path, tz: str) -> dict[str, list[tuple[str, datetime, datetime]]]:
    """{household: [(kind, start, end)]} of the generator's meter faults (truth/faults.csv), if any."""
    path = cohort / "truth" / "faults.csv"
    if not path.exists():
        return {}
    df = pl.read_csv(path, infer_schema_length=0)
    if "end_ts" not in df.columns:
        return {}
    df = df.filter(pl.col("kind").is_in(["meter_outage", "flat_line", "no_data"])).with_columns(
        pl.col("ts").str.to_datetime(time_zone=tz).dt.replace_time_zone(None),
        pl.col("end_ts").str.to_datetime(time_zone=tz).dt.replace_time_zone(None))
    out: dict[str, list] = {}
    for r in df.iter_rows(named=True):
        out.setdefault(r["household_id"], []).append((r["kind"], r["ts"], r["end_ts"]))
    return out


def _summary(results, hh_days, n_households, days_k, eps_k, qdays_k, qeps_k) -> dict:
    det = [r for r in results if r["detected"]]
    delays = [r["delay_h"] for r in det]
    onset = [r["delay_from_usual_onset_h"] for r in det]
    n = len(results)
    share = (lambda k: k / n) if n else (lambda k: math.nan)
    return {
        "households": n_households,
        "collapses": n,
        "detected": len(det),
        "detected_share": share(len(det)),
        "within_4h_share": share(sum(1 for d in delays if d <= 4.0)),
        "within_12h_share": share(sum(1 for d in delays if d <= 12.0)),
        "delay_h_median": float(np.median(delays)) if delays else math.nan,
        "delay_h_p90": float(np.quantile(delays, 0.9)) if delays else math.nan,
        "detected_within_4h_of_usual_onset_share": share(sum(1 for d in onset if d <= 4.0)),
        "delay_from_usual_onset_h_median": float(np.median(onset)) if onset else math.nan,
        "first_alert_kinds": dict(Counter(r["kind"] for r in det)),
        "detected_inside_an_open_episode": sum(1 for r in det if r["continues_open_episode"]),
        **_rates(hh_days, days_k, eps_k, qdays_k, qeps_k),
        "missed": [f"{r['household_id']} {r['start']}" for r in results if not r["detected"]][:20],
    }


def evaluate_lcl(folder: str | Path, *, params: DetectorParams | None = None, tz: str = "Europe/London",
                 limit: int | None = None, files: list[str] | None = None, details: bool = False) -> dict:
    """False alerts per 100 household-days on London LCL files (every alert counted as false)."""
    paths = sorted(Path(folder).glob("*.csv*"))[:limit]
    if files is not None:   # only these homes (file names without suffixes, e.g. "MAC000006")
        paths = [f for f in paths if f.name.split(".")[0] in set(files)]
    history = (params or DetectorParams()).history_days
    frames = []
    for f in paths:
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
    hh_days, per_household, records = 0, {}, []
    days_k, eps_k, qdays_k, qeps_k = Counter(), Counter(), Counter(), Counter()
    for hid, (dates, X) in mats.items():
        alerts = run_matrix(dates, X, params)
        hh_days += int((np.isfinite(X[history:]).sum(axis=1) >= 40).sum())
        counts = _false_counts(alerts, set(), hid)
        for acc, c in zip((days_k, eps_k, qdays_k, qeps_k), counts):
            acc.update(c)
        per_household[hid] = sum(counts[1].values())
        if details:
            records.extend((hid, d, a) for d, a in alerts)
    out = {
        "households": len(mats),
        **_rates(hh_days, days_k, eps_k, qdays_k, qeps_k),
        "households_with_no_alert": sum(1 for v in per_household.values() if v == 0),
        "note": "London 2013 homes of all ages and sizes; no ground truth, so every alert counts as false",
    }
    if details:
        out["alert_records"] = records
    return out


def same_span_still_days(cohort: str | Path, *, hours: float = 4.0, tz: str = "Asia/Tokyo",
                         params: DetectorParams | None = None) -> dict:
    """The outing bound: for each collapse, how many ordinary days of the home's own previous
    ``history_days`` (registered absences left out) were also still over the same clock span
    [collapse start, + ``hours``). A rule that raises that collapse within ``hours`` would have
    fired on those days too: whole-home electricity cannot tell "out" from "collapsed"."""
    from meterrisk.alerts.detector import active_matrix, floor_level

    p = params or DetectorParams()
    cohort = Path(cohort)
    events = pl.read_csv(cohort / "truth" / "events.csv", infer_schema_length=0).with_columns(
        pl.col("start_ts").str.to_datetime(time_zone=tz).dt.replace_time_zone(None),
        pl.col("end_ts").str.to_datetime(time_zone=tz).dt.replace_time_zone(None))
    collapses = events.filter(pl.col("kind") == "collapse")
    ids = sorted(set(collapses["household_id"]))
    long = local_frame(pl.scan_parquet(cohort / "readings").filter(pl.col("household_id").is_in(ids)).collect(),
                       "ts", tz)
    mats = day_matrices(long)
    known = events.filter(pl.col("kind").is_in(["holiday", "hospital_stay"])
                          | ((pl.col("kind") == "family_stay")
                             & pl.col("details").fill_null("").str.contains("registered=true")))
    for r in known.filter(pl.col("household_id").is_in(ids)).iter_rows(named=True):
        dates, X = mats[r["household_id"]]
        for d in _day_set(r["start_ts"], r["end_ts"]):
            if dates[0] <= d <= dates[-1]:
                X[(d - dates[0]).days] = np.nan
    n_slots, counts = int(2 * hours), []
    for r in collapses.iter_rows(named=True):
        dates, X = mats[r["household_id"]]
        start = r["start_ts"]
        di = (start.date() - dates[0]).days
        H = X[di - p.history_days: di] if di >= p.history_days else X[:0]
        good = np.isfinite(H).sum(axis=1) >= 40
        if good.sum() < 14:
            continue
        floor = floor_level(H[good], p)
        act = active_matrix(H, floor, p, np.vstack([np.full((1, X.shape[1]), np.nan), H[:-1]]))
        still = (~act & np.isfinite(H)).ravel()
        c = (start.hour * 60 + start.minute) // 30
        counts.append(sum(1 for i in range(len(H)) if i * 48 + c + n_slots <= len(still)
                          and still[i * 48 + c: i * 48 + c + n_slots].all()))
    n = len(counts)
    return {"collapses": n, "hours": hours,
            "with_a_still_ordinary_day": sum(1 for k in counts if k > 0),
            "share_with_a_still_ordinary_day": sum(1 for k in counts if k > 0) / n if n else math.nan}
