"""Run the inactivity detector on the store and keep its alerts and episodes.

:func:`run_alerts` judges one whole local date; :func:`run_intraday` judges today's readings
received so far (``meterrisk alerts --now``, every 30 minutes). Both read the day and the
``history_days`` (84) days before it from the day rows (``reading_days``; known absence days
are left out of the usual pattern) and never alert a household with a registered absence that day, or one whose
consent is not in force that day (not given yet, or withdrawn on or before it).

``alerts`` holds one row per household, date and kind (re-running a date replaces its rows; an
intraday run only adds the kinds not yet raised that day, keeping the first detection, so a
rerun adds nothing). ``alert_episodes`` is rebuilt from ``alerts`` after every run: consecutive
days of one household and kind are one episode (:mod:`meterrisk.alerts.episodes`).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import polars as pl

from meterrisk.alerts.detector import SLOTS, DetectorParams, detect_day
from meterrisk.alerts.episodes import DATA_KINDS, group_episodes, is_open
from meterrisk.alerts.timing import DELIVERY_LATENCY_MIN, last_seen_slot
from meterrisk.errors import InputFileError, MeterriskError
from meterrisk.store import frame, setting
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


#: Households whose history is loaded at a time. All at once, 10,000 homes' 84 days (40 M
#: readings) peaked at 6.8 GiB; a batch is a household_id range, which the readings' zone maps
#: prune (rows are stored by delivery, a household's rows together), so the scans add up to one.
ALERT_BATCH = 1000


def _household_ranges(con, batch: int) -> list[tuple[str, str]]:
    """(first, last) household_id of consecutive batches of ``batch`` registry households."""
    ids = [r[0] for r in con.execute("SELECT household_id FROM households ORDER BY household_id").fetchall()]
    return [(ids[i], ids[min(i + batch, len(ids)) - 1]) for i in range(0, len(ids), batch)]


def _day_matrices(con, day: date, history_days: int, upto: int = SLOTS - 1,
                  households: tuple[str, str] | None = None) -> dict[str, np.ndarray]:
    """{household: (history_days + 1) x 48 kWh, NaN = missing}, the last row being ``day`` (its
    half hours up to ``upto`` only), for the households whose consent is in force on ``day``
    (and whose id is in the ``households`` range, if given) and with a reading among those.

    From the day rows (``reading_days``: a day's readings as one list, element slot + 1 =
    ``readings.kwh``, NULL = no reading; kept in step by every writer, meterrisk/ingest/days.py):
    85 rows a household, each already a matrix row, instead of 85 x 48 readings put through
    the registry join and the absence check, then sorted and scattered. Slots past 48 (a
    50-slot clock-change day) are left out, as the detector's day has 48. Ingest stores only
    finite kWh, so NaN marks exactly the half hours without a reading."""
    lo = day - timedelta(days=history_days)
    first, last = households or ("", "\U0010ffff")  # no range: every id
    days = frame(con, """
        SELECT d.household_id, (d.local_date - $lo)::INTEGER AS di,
               list_transform(list_resize(d.kwh, $slots), lambda x: coalesce(x, 'NaN'::DOUBLE)) AS kwh
        FROM reading_days d
        JOIN households h ON h.household_id = d.household_id
         AND h.consent_given_on <= $day AND (h.consent_withdrawn_on IS NULL OR $day < h.consent_withdrawn_on)
        WHERE d.local_date BETWEEN $lo AND $day AND d.n_readings > 0
          AND d.household_id BETWEEN $first AND $last
          AND NOT EXISTS (SELECT 1 FROM absences a WHERE a.household_id = d.household_id
                          AND d.local_date BETWEEN a.start_date AND a.end_date AND d.local_date < $day)
        ORDER BY d.household_id, d.local_date
        """, {"lo": lo, "day": day, "slots": SLOTS, "first": first, "last": last})
    if days.height == 0:
        return {}
    ids, di = days["household_id"].to_numpy(), days["di"].to_numpy()
    kwh = days["kwh"].explode().to_numpy().reshape(-1, SLOTS).copy()  # Arrow-backed: read-only
    kwh[di == history_days, upto + 1:] = np.nan  # the day itself: only the half hours judged
    out = {}
    starts = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist()]
    for a, b in zip(starts, [*starts[1:], len(ids)]):
        X = np.full((history_days + 1, SLOTS), np.nan)
        X[di[a:b]] = kwh[a:b]
        if not np.isnan(X).all():
            out[ids[a]] = X
    return out


def _detect(con, day: date, params: DetectorParams, upto: int = SLOTS - 1) -> tuple[list, int, int]:
    """(alert rows, households checked, suppressed by an absence) for ``day`` up to half hour ``upto``."""
    absent = {r[0] for r in con.execute(
        "SELECT DISTINCT household_id FROM absences WHERE ? BETWEEN start_date AND end_date", [day]).fetchall()}
    records = []
    seen = suppressed = 0
    for households in _household_ranges(con, ALERT_BATCH):
        mats = _day_matrices(con, day, params.history_days, upto, households)
        for hid, X in sorted(mats.items()):
            if hid in absent:
                continue
            for a in detect_day(X[:-1], X[-1], params, upto=upto):
                detected = datetime(day.year, day.month, day.day) + timedelta(minutes=30 * (a.slot + 1))
                records.append((hid, detected, day, a.kind, a.severity, a.message,
                                json.dumps(a.evidence, default=_json_default)))
        seen += len(mats)
        suppressed += len(absent & set(mats))
    return records, seen - suppressed, suppressed


def _summary(day: date, records: list, checked: int, suppressed: int, new_episodes: list) -> dict:
    kinds: dict[str, int] = {}
    data: dict[str, int] = {}
    for r in records:
        into = data if r[3] in DATA_KINDS else kinds
        into[r[3]] = into.get(r[3], 0) + 1
    return {"date": day.isoformat(), "households_checked": checked, "suppressed_by_absence": suppressed,
            "alerts": sum(kinds.values()), "by_kind": kinds, "data_events": sum(data.values()), "data_by_kind": data,
            "new_episodes": new_episodes}


def run_alerts(con, day: date, *, params: DetectorParams | None = None) -> dict:
    """Detect alerts for the whole local date ``day`` for every household with readings up to
    that day and consent in force on it; replaces that date's rows, then rebuilds the episodes."""
    params = params or DetectorParams()
    records, checked, suppressed = _detect(con, day, params)
    if not checked and not suppressed:
        raise MeterriskError(f"no readings on or before {day}", hint="ingest readings first, or pass --date")
    with transaction(con):
        con.execute("DELETE FROM alerts WHERE local_date = ?", [day])
        if records:
            con.executemany("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?)", records)
        new = update_episodes(con, last_complete_day=day)
    return _summary(day, records, checked, suppressed, new)


def last_received_slot(con, day: date, upto: int) -> int:
    """The last half hour of ``day`` up to ``upto`` for which any household's reading is in the
    store (-1: none yet). Later half hours have not arrived: they are not gaps."""
    (s,) = con.execute("SELECT max(slot) FROM readings WHERE local_date = ? AND slot <= ? AND slot < ?",
                       [day, upto, SLOTS]).fetchall()[0]
    return -1 if s is None else int(s)


def run_intraday(con, at: datetime, *, params: DetectorParams | None = None,
                 latency_min: int = DELIVERY_LATENCY_MIN) -> dict:
    """Judge today's readings received by local wall-clock time ``at`` (naive, the store's zone).

    A run at ``at`` judges the half hours ending at or before ``at - latency_min`` (readings
    arrive after their half hour ends), and of those only up to the last one any household's
    reading has arrived for. Alerts already raised today are kept (their first detection);
    new kinds are added, so a rerun at the same time adds nothing. The detector is causal, so
    the alerts are exactly those the whole-day batch fires at those half hours."""
    params = params or DetectorParams()
    day = at.date()
    clock_slot = last_seen_slot(at, latency_min=latency_min)
    upto = last_received_slot(con, day, clock_slot) if clock_slot >= 0 else -1
    records, checked, suppressed = ([], 0, 0) if upto < 0 else _detect(con, day, params, upto)
    with transaction(con):
        if records:
            con.executemany("INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", records)
        new = update_episodes(con, last_complete_day=day - timedelta(days=1))
    out = _summary(day, records, checked, suppressed, new)
    out.update(at=at.isoformat(sep=" ", timespec="minutes"), judged_until_slot=upto,
               judged_until=(datetime(day.year, day.month, day.day) + timedelta(minutes=30 * (upto + 1))
                             ).strftime("%H:%M") if upto >= 0 else None)
    return out


def now_local(con) -> datetime:
    """The store's local wall-clock time now (naive)."""
    from zoneinfo import ZoneInfo

    zone = setting(con, "timezone") or "Asia/Tokyo"
    return datetime.now(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)


def update_episodes(con, *, last_complete_day: date) -> list[dict]:
    """Rebuild ``alert_episodes`` from ``alerts``; return the episodes that are new (not in the
    table before), oldest first. Call inside the run's transaction.

    An episode is open while it was seen on ``last_complete_day`` or later, closed once a whole
    day has passed without it."""
    before = {(h, k, d) for h, k, d in con.execute(
        "SELECT household_id, kind, start_date FROM alert_episodes").fetchall()}
    rows = con.execute("SELECT household_id, local_date, kind, detected_at, severity, message FROM alerts").fetchall()
    eps = group_episodes((h, d, k, (at, sev, msg)) for h, d, k, at, sev, msg in rows)
    out = [(e.household_id, e.kind, e.start_date, e.first[1], e.first[0], e.last_date, e.last[0], e.days,
            "open" if is_open(e, last_complete_day) else "closed", e.first[2]) for e in eps]
    con.execute("DELETE FROM alert_episodes")
    if out:
        con.executemany("INSERT INTO alert_episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", out)
    return [{"household_id": r[0], "kind": r[1], "start_date": r[2], "severity": r[3], "started_at": r[4],
             "days": r[7], "message": r[9]}
            for r in sorted(out, key=lambda r: r[4]) if (r[0], r[1], r[2]) not in before]


def _json_default(o):
    if isinstance(o, (np.integer, np.floating)):
        return o.item()
    return str(o)


def latest_date(con) -> date:
    """The day to check by default: the last local day most households covered (not the date of
    the latest stray reading; see meterrisk.store.coverage)."""
    return last_covered_day(con)
