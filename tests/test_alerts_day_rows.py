"""Alerts read a household's history from the day rows (``reading_days``), not the readings:
the matrices, and so the alerts, are the ones the readings query gave. Checked on a London
store (46- and 50-slot days: slots past 48 are left out either way), with gaps, zeros, a
whole-day outage, an emptied day, an absence and consent that ends, for a whole day and
part of one (intraday: a home whose only readings are later that day is not judged yet)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from meterrisk import ingest, store
from meterrisk.alerts import service
from meterrisk.alerts.detector import SLOTS, day_matrices
from meterrisk.store import frame
from ingest.helpers import write_long, write_registry
from test_day_quality_view import ZONE, day_lines


def readings_matrices(con, day, history_days, upto=SLOTS - 1, households=None):
    """The loader as it was before the day rows: from ``readings``."""
    lo = day - timedelta(days=history_days)
    first, last = households or ("", "\U0010ffff")
    rows = frame(con, """
        SELECT r.household_id, r.local_date, r.slot, r.kwh FROM readings r
        JOIN households h ON h.household_id = r.household_id
         AND h.consent_given_on <= $day AND (h.consent_withdrawn_on IS NULL OR $day < h.consent_withdrawn_on)
        WHERE r.local_date BETWEEN $lo AND $day AND r.slot < $slots AND (r.local_date < $day OR r.slot <= $upto)
          AND r.household_id BETWEEN $first AND $last
          AND NOT EXISTS (SELECT 1 FROM absences a WHERE a.household_id = r.household_id
                          AND r.local_date BETWEEN a.start_date AND a.end_date AND r.local_date < $day)
        """, {"lo": lo, "day": day, "slots": SLOTS, "upto": upto, "first": first, "last": last})
    return {hid: X for hid, (_, X) in day_matrices(rows, start=lo, n_days=history_days + 1).items()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)


def test_day_rows_give_the_matrices_and_alerts_the_readings_gave(tmp_path, monkeypatch):
    con = store.connect(tmp_path / "london.duckdb", timezone=ZONE)
    rows = ["H1,1945,true,2025-01-01,,false,false,North",
            "H2,1950,true,2025-01-01,,false,true,South",
            "H4,1940,true,2025-01-01,2025-10-30,false,false,East",   # consent ends before the last day
            "H5,1941,true,2025-01-01,,false,false,East",
            "H6,1942,true,2025-01-01,,false,false,East"]    # new: readings only late on the last day
    ingest.load_registry(con, write_registry(tmp_path / "h.csv", rows), today=date(2025, 1, 2))
    utc = ingest.load_profile("default").with_overrides(timezone="UTC")
    rng = np.random.default_rng(5)
    first, autumn, last = date(2025, 10, 1), date(2025, 10, 26), date(2025, 11, 1)
    lines, path = [], tmp_path / "later.csv"
    for h in ["H1", "H2", "H4", "H5"]:
        for i in range((last - first).days + 1):
            d = first + timedelta(days=i)
            if (h, i) in {("H2", 12), ("H5", 30)}:  # outages
                continue
            values = rng.choice([0.0, 0.02, 0.3, 1.1], size=50)
            flat = h == "H1" and d == last        # H1's last day: nothing moves (an inactivity alert)
            lines += day_lines(h, d, value=lambda s: 0.02 if flat else values[s],
                               keep=lambda s: not (h == "H2" and i % 4 == 0 and s % 6 == 0))
    lines += day_lines("H6", last, keep=lambda s: s >= 40)
    ingest.ingest_file(con, write_long(tmp_path / "a.csv", lines), utc)
    # H2's outage day had readings once, from a file later replaced without them: an emptied day row
    ingest.ingest_file(con, write_long(path, day_lines("H2", first + timedelta(days=12), keep=lambda s: s < 8)), utc)
    ingest.ingest_file(con, write_long(path, day_lines("H5", first + timedelta(days=4))), utc, replace=True)
    assert con.execute("SELECT household_id, n_readings FROM reading_days WHERE n_readings = 0").fetchall() == [("H2", 0)]
    csv = tmp_path / "absences.csv"
    csv.write_text(f"household_id,start_date,end_date,note\nH2,2025-10-20,2025-10-22,away\nH5,{last},{last},away\n")
    service.load_absences(con, csv)
    for day, upto in [(last, SLOTS - 1), (last, 13), (autumn, SLOTS - 1), (autumn + timedelta(days=1), 30),
                      (date(2025, 10, 21), SLOTS - 1), (first, SLOTS - 1)]:
        for households in [None, ("H1", "H2"), ("H4", "H6")]:
            assert same(service._day_matrices(con, day, 28, upto, households),
                        readings_matrices(con, day, 28, upto, households)), (day, upto, households)
    new = service.run_alerts(con, last)
    alerts = con.execute("SELECT * FROM alerts ORDER BY ALL").fetchall()
    monkeypatch.setattr(service, "_day_matrices", readings_matrices)
    old = service.run_alerts(con, last)
    assert {k: v for k, v in old.items() if k != "new_episodes"} == {k: v for k, v in new.items() if k != "new_episodes"}
    assert con.execute("SELECT * FROM alerts ORDER BY ALL").fetchall() == alerts
    assert new["households_checked"] == 3 and new["suppressed_by_absence"] == 1 and alerts
