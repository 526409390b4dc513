"""Clock-change folds: local stamps without offsets that repeat the fall-back hour.

London repeats 01:00-02:00 on the last Sunday of October, Sydney 02:00-03:00 on the first
Sunday of April. A correctly ordered export writes that hour twice; with ``fold = "order"``
the first occurrence is the earlier instant and the second the later, giving the 50-slot day.
The default stays strict: such stamps are quarantined as ``ambiguous_local_time``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from meterrisk import ingest, store

from .helpers import write_long, write_registry

FOLDS = {  # zone -> (fall-back day, first repeated wall-clock hour)
    "Europe/London": (date(2025, 10, 26), 1),
    "Australia/Sydney": (date(2025, 4, 6), 2),
}


def wall_clock_day(day: date, zone: str) -> list[str]:
    """Every half hour of a local day as an ordered export writes it: naive wall-clock stamps."""
    tz, utc = ZoneInfo(zone), ZoneInfo("UTC")
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(utc)
    stamps = []
    t = start
    while t.astimezone(tz).date() == day:
        stamps.append(t.astimezone(tz).strftime("%Y-%m-%d %H:%M"))
        t += timedelta(minutes=30)
    return stamps


def zoned(tmp_path, zone: str, fold: str | None = None):
    con = store.connect(tmp_path / "s.duckdb", timezone=zone)
    ingest.load_registry(con, write_registry(tmp_path / "h.csv"))
    profile = ingest.load_profile("default").with_overrides(timezone=zone, fold=fold)
    return con, profile


@pytest.mark.parametrize("zone", sorted(FOLDS))
def test_ordered_fold_day_gives_50_distinct_half_hours(tmp_path, zone):
    day, hour = FOLDS[zone]
    stamps = wall_clock_day(day, zone)
    assert len(stamps) == 50 and stamps.count(f"{day} {hour:02d}:00") == 2  # the export repeats the hour
    con, profile = zoned(tmp_path, zone, fold="order")
    lines = [f"H1,{s},{i / 100}" for i, s in enumerate(stamps)]
    result = ingest.ingest_file(con, write_long(tmp_path / "d.csv", lines), profile)
    assert (result.rows_loaded, result.reasons) == (50, {}) and result.balanced
    rows = con.execute("SELECT ts_utc, strftime(local_ts, '%Y-%m-%d %H:%M'), slot, kwh FROM readings "
                       "ORDER BY ts_utc").fetchall()
    utc = [r[0] for r in rows]
    assert len(set(utc)) == 50 and all(b - a == timedelta(minutes=30) for a, b in zip(utc, utc[1:]))
    assert [r[1] for r in rows] == stamps                 # wall clock as delivered, in order
    assert [r[2] for r in rows] == list(range(50))        # elapsed half hours since midnight
    assert [r[3] for r in rows] == [i / 100 for i in range(50)]  # each value on its own instant
    first = utc[0].replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))
    assert (first.date(), first.hour, first.minute) == (day, 0, 0)
    assert con.execute("SELECT expected_slots, present_slots FROM household_day_quality").fetchall() == [(50, 50)]


@pytest.mark.parametrize("zone", sorted(FOLDS))
def test_strict_default_quarantines_the_repeated_hour(tmp_path, zone):
    day, _ = FOLDS[zone]
    con, profile = zoned(tmp_path, zone)
    lines = [f"H1,{s},0.1" for s in wall_clock_day(day, zone)]
    result = ingest.ingest_file(con, write_long(tmp_path / "d.csv", lines), profile)
    assert result.reasons == {"ambiguous_local_time": 4} and result.rows_loaded == 46


def _fold_lines(zone: str, order: list[int]) -> list[str]:
    """The fold day of ``zone`` with the repeated-hour rows (indexes into the day) in ``order``."""
    day, hour = FOLDS[zone]
    stamps = wall_clock_day(day, zone)
    first = stamps.index(f"{day} {hour:02d}:00")
    repeated = stamps[first:first + 4]
    body = [f"H1,{s},0.{i}" for i, s in enumerate(repeated)]
    return ([f"H1,{s},0.5" for s in stamps[:first]] + [body[i] for i in order]
            + [f"H1,{s},0.5" for s in stamps[first + 4:]])


@pytest.mark.parametrize("order, why", [
    ([0, 1, 2, 3, 0], "appears 3 times"),         # a third occurrence
    ([0, 2, 1, 3], "not in file order"),           # :00 :00 :30 :30: the second :00 is later than the first :30
    ([1, 0, 2, 3], "not in file order"),           # :30 :00 :00 :30: goes back in time
])
def test_fold_order_quarantines_what_order_cannot_place(tmp_path, order, why):
    zone = "Europe/London"
    con, profile = zoned(tmp_path, zone, fold="order")
    lines = _fold_lines(zone, order)
    result = ingest.ingest_file(con, write_long(tmp_path / "d.csv", lines), profile)
    assert result.reasons == {"ambiguous_local_time": len(order)} and result.balanced
    assert result.rows_loaded == 46
    messages = [m for (m,) in con.execute("SELECT message FROM quarantine").fetchall()]
    assert all(why in m and 'fold = "order"' in m for m in messages), messages


def test_fold_order_across_chunk_boundaries(tmp_path, monkeypatch):
    """Readers split files into chunks; a repeated hour split across them still resolves."""
    from meterrisk.ingest import readers

    monkeypatch.setattr(readers, "CHUNK_BYTES", 64)  # about two lines per chunk
    zone = "Australia/Sydney"
    con, profile = zoned(tmp_path, zone, fold="order")
    day, _ = FOLDS[zone]
    lines = [f"H1,{s},0.1" for s in wall_clock_day(day, zone)] + [f"H2,{s},0.2" for s in wall_clock_day(day, zone)]
    result = ingest.ingest_file(con, write_long(tmp_path / "d.csv", lines), profile)
    assert (result.rows_loaded, result.reasons) == (100, {})
    assert con.execute("SELECT household_id, count(DISTINCT ts_utc), max(slot) FROM readings GROUP BY 1 ORDER BY 1"
                       ).fetchall() == [("H1", 50, 49), ("H2", 50, 49)]


def test_fold_order_per_household_when_households_interleave(tmp_path):
    zone = "Europe/London"
    con, profile = zoned(tmp_path, zone, fold="order")
    day, _ = FOLDS[zone]
    lines = [f"{h},{s},0.1" for s in wall_clock_day(day, zone) for h in ("H1", "H2")]
    result = ingest.ingest_file(con, write_long(tmp_path / "d.csv", lines), profile)
    assert (result.rows_loaded, result.reasons) == (100, {})


def test_fold_order_for_the_register_layout(tmp_path):
    zone = "Europe/London"
    con = store.connect(tmp_path / "s.duckdb", timezone=zone)
    ingest.load_registry(con, write_registry(tmp_path / "h.csv"))
    profile = ingest.load_profile("register").with_overrides(timezone=zone, fold="order")
    day, _ = FOLDS[zone]
    lines = [f"H1,{s},{100 + i * 0.5}" for i, s in enumerate(wall_clock_day(day, zone))]
    result = ingest.ingest_file(con, write_long(tmp_path / "r.csv", lines, header="household_id,ts,register_kwh"), profile)
    assert result.reasons == {"register_baseline": 1} and result.rows_loaded == 49
    assert con.execute("SELECT count(DISTINCT ts_utc), min(kwh), max(kwh) FROM readings").fetchall() == [(49, 0.5, 0.5)]


def test_naive_typed_parquet_in_the_fold_is_not_silently_the_earlier_instant(tmp_path):
    zone = "Europe/London"
    day, _ = FOLDS[zone]
    naive = [datetime.strptime(s, "%Y-%m-%d %H:%M") for s in wall_clock_day(day, zone)]
    path = tmp_path / "d.parquet"
    pl.DataFrame({"household_id": ["H1"] * 50, "ts": naive, "kwh": [0.1] * 50}).write_parquet(path)
    con, strict = zoned(tmp_path, zone)
    assert ingest.ingest_file(con, path, strict).reasons == {"ambiguous_local_time": 4}
    con.close()
    (tmp_path / "o").mkdir()
    con, order = zoned(tmp_path / "o", zone, fold="order")
    result = ingest.ingest_file(con, path, order)
    assert (result.rows_loaded, result.reasons) == (50, {})
    assert con.execute("SELECT count(DISTINCT ts_utc), max(slot) FROM readings").fetchall() == [(50, 49)]


@pytest.mark.parametrize("text, message", [
    ('fold = "first"\n', "fold must be 'strict' or 'order'"),
    ('layout = "wide"\nfold = "order"\n[columns]\nhousehold_id = "h"\ndate = "d"\n', "wide layout"),
])
def test_bad_fold_option(tmp_path, text, message):
    from meterrisk.errors import MeterriskError

    path = tmp_path / "p.toml"
    path.write_text(text if "[columns]" in text else text + '[columns]\nhousehold_id="h"\nts="t"\nkwh="k"\n')
    with pytest.raises(MeterriskError, match=message):
        ingest.load_profile(path)
