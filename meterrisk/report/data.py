"""What a report shows, read from the store: the month's list and, per flagged household, its
half hours, daily features and data-quality caveats.

Everything is keyed by the registry id inside this module (the store's key); the pages and
file names use the pseudonym only (meterrisk.report.build).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from meterrisk.export.parquet import consenting_list
from meterrisk.store import frame, setting

#: Weeks of half hours in the heatmap and of the recent trend; the baseline is the 12 weeks before.
WEEKS = 12
SLOTS_PER_DAY = 48  # the heatmap's columns: local clock half hours 00:00 .. 23:30
#: Days of daily features the "usual" wake and bed times are the median of.
USUAL_DAYS = 28
#: A day whose readings vary less than this (kWh) from its first is flat: an outage or estimates.
FLAT_KWH = 1e-6

#: Trend features: (column, topic, scale for display). Topics match the reasons' wording.
TREND_FEATURES = [
    ("wake_time_h", "wake", 1.0),
    ("active_share", "activity", 100.0),
    ("night_activity_share", "night", 100.0),
    ("regularity_corr", "regularity", 1.0),
    ("meal_kwh", "cooking", 1.0),
    ("longest_inactive_run_h", "daytime_gaps", 1.0),
]

#: Words of a reason (meterrisk/model/reasons_topics.py wording) -> the trend topic behind it;
#: the first match wins ("electricity in use in 30% of the night" is night, not activity).
_REASON_TOPICS = [
    ("night", "night"), ("gets up", "wake"), ("cooking", "cooking"), ("meal", "cooking"),
    ("usual pattern", "regularity"), ("longest break", "daytime_gaps"), ("electricity in use", "activity"),
    ("at standby", "activity"),
    # the new-concern list's change-phrased wording (meterrisk/model/concern_reasons.py)
    ("wake-up", "wake"), ("quiet daytime", "daytime_gaps"), ("active at home", "activity"),
    ("more uniform", "regularity"),
]


def reason_topics(reasons: list[str] | None) -> list[str]:
    """Trend topics the reasons speak of, in the reasons' order, each once."""
    out: list[str] = []
    for reason in reasons or []:
        topic = next((t for words, t in _REASON_TOPICS if words in reason), None)
        if topic is not None and topic not in out:
            out.append(topic)
    return out


def monthly_list(con, as_of: date, model_version: str | None = None) -> pl.DataFrame:
    """The care-staff list of ``as_of`` (consenting households only, ranked 1..n), with
    ``new_concern`` and ``concern_reasons`` whether or not this store's schema has them."""
    listed = consenting_list(con, as_of, model_version)
    if "new_concern" not in listed.columns:
        listed = listed.with_columns(pl.lit(False).alias("new_concern"))
    if "concern_reasons" not in listed.columns:
        listed = listed.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("concern_reasons"))
    return listed.with_columns(pl.col("new_concern").fill_null(False),
                               (pl.col("risk_tier").eq("high") | pl.col("new_concern").fill_null(False))
                               .alias("flagged"))


@dataclass
class Heatmap:
    """kWh per local day (rows, oldest first) and local clock half hour (48 columns).
    NaN = no reading (a gap); 0.0 is a reading of zero."""

    days: list[date]
    kwh: np.ndarray
    missing: np.ndarray  # per day: half hours without a reading (slots - n_readings; 48 with no row)


def _clock_columns(day: date, slots: int, zone: ZoneInfo) -> np.ndarray:
    """Column (local clock half hour) of each of the day's slots: 0..47 on a 48-slot day; on a
    clock-change day (46/50 slots) from the local wall clock of each slot's start."""
    if slots == SLOTS_PER_DAY:
        return np.arange(SLOTS_PER_DAY)
    start = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
    cols = []
    for i in range(slots):
        t = datetime.fromtimestamp(start + 1800 * i, zone)
        cols.append(min(t.hour * 2 + t.minute // 30, SLOTS_PER_DAY - 1))
    return np.array(cols)


def heatmap(con, household_id: str, as_of: date, weeks: int = WEEKS) -> Heatmap:
    """The last ``weeks`` weeks of half hours up to and including ``as_of``, from reading_days.

    A day with no row is all gaps. On a 50-slot day the repeated clock half hour holds the sum
    of its two readings (NaN only if both are missing); a 46-slot day's skipped half hour is NaN.
    """
    zone = ZoneInfo(setting(con, "timezone") or "Asia/Tokyo")
    first = as_of - timedelta(days=7 * weeks - 1)
    days = [first + timedelta(days=i) for i in range(7 * weeks)]
    out = np.full((len(days), SLOTS_PER_DAY), np.nan)
    missing = np.full(len(days), SLOTS_PER_DAY)
    rows = con.execute("SELECT local_date, slots, n_readings, kwh FROM reading_days WHERE household_id = ? "
                       "AND local_date BETWEEN ? AND ?", [household_id, first, as_of]).fetchall()
    for day, slots, n_readings, kwh in rows:
        r = (day - first).days
        missing[r] = max(slots - n_readings, 0)
        values = np.array([np.nan if v is None else v for v in kwh[:slots]], dtype=float)
        cols = _clock_columns(day, slots, zone)[: len(values)]
        if len(cols) == len(set(cols.tolist())):
            out[r, cols] = values
        else:
            for c in np.unique(cols):
                v = values[cols == c]
                out[r, c] = np.nan if np.isnan(v).all() else np.nansum(v)
    return Heatmap(days, out, missing)


def daily_features(con, household_id: str, as_of: date, weeks: int = 2 * WEEKS) -> pl.DataFrame:
    """Valid days' (dq_flag 'ok') features over the recent and the baseline weeks."""
    cols = ", ".join(["wake_time_h", "bed_time_h"] + [c for c, _, _ in TREND_FEATURES if c != "wake_time_h"])
    return frame(con, f"SELECT local_date, {cols} FROM daily_features WHERE household_id = ? "
                      "AND local_date BETWEEN ? AND ? AND dq_flag = 'ok' ORDER BY local_date",
                 [household_id, as_of - timedelta(days=7 * weeks - 1), as_of])


def usual_times(features: pl.DataFrame, as_of: date, days: int = USUAL_DAYS) -> tuple[float | None, float | None]:
    """Median wake and bed time (local clock hours) of the valid days among the last ``days``."""
    recent = features.filter(pl.col("local_date") > as_of - timedelta(days=days))
    return recent["wake_time_h"].median(), recent["bed_time_h"].median()


@dataclass
class Trend:
    """Weekly medians of one feature over the recent weeks, against the baseline weeks' median."""

    column: str
    topic: str
    week_ends: list[date]
    weekly: list[float | None]
    baseline: float | None


def trends(features: pl.DataFrame, as_of: date, weeks: int = WEEKS) -> list[Trend]:
    """Recent ``weeks`` weekly medians (weeks end on ``as_of``) and the median of the ``weeks``
    weeks before, per trend feature, on the display scale (shares in %)."""
    start = as_of - timedelta(days=7 * weeks - 1)
    recent = features.filter(pl.col("local_date") >= start).with_columns(
        ((pl.col("local_date") - pl.lit(start)).dt.total_days() // 7).alias("week"))
    earlier = features.filter(pl.col("local_date") < start)
    week_ends = [start + timedelta(days=7 * w + 6) for w in range(weeks)]
    out = []
    for column, topic, scale in TREND_FEATURES:
        by_week = dict(recent.group_by("week").agg(pl.col(column).median()).iter_rows())
        weekly = [None if by_week.get(w) is None else by_week[w] * scale for w in range(weeks)]
        base = earlier[column].median()
        out.append(Trend(column, topic, week_ends, weekly, None if base is None else base * scale))
    return out


@dataclass
class Caveats:
    """What in the heatmap's weeks limits what the charts can say."""

    days: int
    gap_days: list[date] = field(default_factory=list)      # some half hours missing (or no row)
    missing_days: list[date] = field(default_factory=list)  # no reading at all
    flat_days: list[date] = field(default_factory=list)     # every reading the same (all zero: an outage)
    absences: list[tuple[date, date]] = field(default_factory=list)  # notes are free text: never shown


def caveats(con, household_id: str, grid: Heatmap) -> Caveats:
    """Gaps and flat days from the heatmap's own rows; registered absences overlapping them."""
    c = Caveats(days=len(grid.days))
    for day, row, missing in zip(grid.days, grid.kwh, grid.missing):
        present = row[~np.isnan(row)]
        if present.size == 0:
            c.missing_days.append(day)
            continue
        if missing:
            c.gap_days.append(day)
        if present.size > 1 and float(present.max() - present.min()) < FLAT_KWH:
            c.flat_days.append(day)
    first, last = grid.days[0], grid.days[-1]
    c.absences = [tuple(r) for r in con.execute(
        "SELECT start_date, end_date FROM absences WHERE household_id = ? AND end_date >= ? AND start_date <= ? "
        "ORDER BY start_date", [household_id, first, last]).fetchall()]
    return c
