"""household_day_quality from the day rows (V0400) gives the rows V0001's definition gave.

V0001 aggregated every reading each time the view was read; V0400 reads ``reading_days``.
Both are run side by side on one store with what makes the counts hard: clock-change days
(Europe/London: 46 and 50 slots), zeros, gaps inside a day, a whole day missing (an outage),
duplicate and conflicting rows in a delivery, and days whose readings all went (replace), at
a household's edge (they leave its span) and in its middle (they count as all missing).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from ingest.helpers import write_long, write_registry
from meterrisk import ingest, store

ZONE = "Europe/London"


def old_definition() -> str:
    """V0001's view, renamed, exactly as it shipped."""
    sql = resources.files("meterrisk.store").joinpath("sql", "V0001__core_ingest.sql").read_text(encoding="utf-8")
    view = re.search(r"CREATE VIEW household_day_quality AS.*?;", sql, re.S).group(0)
    return view.replace("CREATE VIEW household_day_quality", "CREATE TEMP VIEW old_day_quality")


def day_lines(household: str, day: date, value=lambda i: i / 100, keep=lambda i: True) -> list[str]:
    """The half hours of ``day`` on London's wall clock, stamped in UTC, in elapsed order."""
    t = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(ZONE)).astimezone(ZoneInfo("UTC"))
    lines, i = [], 0
    while t.astimezone(ZoneInfo(ZONE)).date() == day:
        if keep(i):
            lines.append(f"{household},{t:%Y-%m-%dT%H:%M}:00Z,{value(i)}")
        t, i = t + timedelta(minutes=30), i + 1
    return lines


def rows(con, view: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {view} ORDER BY household_id, local_date").fetchall()


def assert_same(con) -> None:
    con.execute(old_definition())
    old, new = rows(con, "old_day_quality"), rows(con, "household_day_quality")
    assert [r[:-1] for r in new] == [r[:-1] for r in old]
    for (*key, a), (*_, b) in zip(new, old):  # kWh: the same readings summed in another order
        assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), key
    types = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position"
    assert con.execute(types, ["household_day_quality"]).fetchall() == con.execute(types, ["old_day_quality"]).fetchall()


def test_day_rows_give_the_rows_the_readings_gave(tmp_path):
    con = store.connect(tmp_path / "london.duckdb", timezone=ZONE)
    ingest.load_registry(con, write_registry(tmp_path / "h.csv"), today=date(2025, 1, 2))
    utc = ingest.load_profile("default").with_overrides(timezone="UTC")
    spring, autumn = date(2025, 3, 30), date(2025, 10, 26)
    lines = []
    for day in [spring - timedelta(days=1), spring, spring + timedelta(days=1)]:  # 48, 46, 48 slots
        lines += day_lines("H1", day, value=lambda i: 0.0 if i % 5 == 0 else i / 100)
    # spring + 2 missing altogether: an outage inside H1's span
    lines += day_lines("H1", spring + timedelta(days=3), keep=lambda i: i % 3 != 0)  # gaps inside the day
    lines += day_lines("H1", autumn, value=lambda i: 0.0)                              # 50 slots, every one zero
    dup = day_lines("H2", autumn, keep=lambda i: i < 20)
    lines += dup + dup[:5]                                                             # duplicates in the file
    lines += [dup[6].rsplit(",", 1)[0] + ",9.9"]                                       # and a conflicting one
    assert ingest.ingest_file(con, write_long(tmp_path / "a.csv", lines), utc).rows_loaded > 0
    # H2's edge days and H1's middle day come from a file later replaced without them
    path = tmp_path / "b.csv"
    extra = (day_lines("H2", autumn - timedelta(days=2)) + day_lines("H2", autumn + timedelta(days=2))
             + day_lines("H1", spring + timedelta(days=10), keep=lambda i: i < 4)
             + day_lines("H1", spring + timedelta(days=40)))
    ingest.ingest_file(con, write_long(path, extra), utc)
    ingest.ingest_file(con, write_long(path, day_lines("H1", spring + timedelta(days=40))), utc, replace=True)
    emptied = con.execute("SELECT count(*) FROM reading_days WHERE n_readings = 0").fetchall()[0][0]
    assert emptied == 3  # both H2 edges and H1's day 10: kept as day rows with no readings
    assert_same(con)
    q = {(h, d): (e, p, z, m) for h, d, e, p, z, m, *_ in rows(con, "household_day_quality")}
    assert q[("H1", spring)] == (46, 46, 10, 0) and q[("H1", autumn)] == (50, 50, 50, 0)
    assert q[("H1", spring + timedelta(days=2))] == (48, 0, 0, 48)          # the outage
    assert q[("H1", spring + timedelta(days=10))] == (48, 0, 0, 48)         # emptied, mid span
    assert {d for h, d in q if h == "H2"} == {autumn}                       # emptied edges leave the span
    stored = con.execute("SELECT count(*) FROM readings WHERE household_id = 'H2' AND local_date = ?", [autumn])
    assert q[("H2", autumn)][1] == stored.fetchall()[0][0] >= 19  # duplicates once; the conflict's slot per ingest


def test_the_view_does_not_read_the_readings_table(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    con.execute("INSERT INTO local_calendar VALUES ('2025-03-10', 48)")
    con.execute("INSERT INTO readings VALUES ('H1', '2025-03-09 15:00', '2025-03-10 00:00', '2025-03-10', 0, 0.1, 1)")
    con.execute("INSERT INTO reading_days VALUES ('H1', '2025-03-10', 48, 1, [0.1], [1], 1)")
    plan = con.execute("EXPLAIN (FORMAT json) SELECT * FROM household_day_quality").fetchall()[0][1]
    assert set(re.findall(r'"Table": "(?:\w+\.)*(\w+)"', plan)) == {"reading_days", "local_calendar"}
