"""The snapshot's v_household_daily and v_data_quality are built from the tables the publish
has just copied (meterrisk/store/snapshot.py ``FROM_COPIES``), not by running the store's
views again: they must still hold exactly the store views' rows and columns."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from ingest.helpers import day_lines, write_long, write_registry
from meterrisk import ingest, store
from meterrisk.store.snapshot import FROM_COPIES, publish, snapshot_path


def table(con, name: str) -> tuple[list, list]:
    cols = [r[:2] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    return cols, sorted(con.execute(f"SELECT * FROM {name}").fetchall(), key=repr)


def test_views_from_the_copies_equal_the_store_views(tmp_path):
    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    rows = ["H1,1945,true,2025-01-01,,false,false,North",
            "H2,1950,true,2025-01-01,,false,true,South",
            "H3,1948,true,,,false,false,North",                     # never consented
            "H4,1940,true,2025-01-01,2025-04-02,false,false,East",  # withdrawal announced, now past
            "H5,1941,true,2025-01-01,2099-01-01,false,false,East"]  # withdrawal announced, still ahead
    ingest.load_registry(con, write_registry(tmp_path / "h.csv", rows), today=date(2025, 4, 1))
    lines = []
    for i, h in enumerate(["H1", "H2", "H4", "H5"]):
        for d in range(3 + i):
            if (h, d) != ("H2", 1):  # an outage day inside H2's span
                lines += day_lines(h, str(date(2025, 3, 10) + timedelta(days=d)),
                                   [0.0 if (s + d) % 7 == 0 else s / 100 for s in range(48 - 5 * (d % 2))])
    ingest.ingest_file(con, write_long(tmp_path / "a.csv", lines), ingest.load_profile("default"))
    for h in ["H1", "H2", "H3", "H4", "H5"]:
        for d in range(2):
            con.execute("INSERT INTO daily_features (household_id, local_date, coverage, meal_kwh) VALUES (?, ?, ?, ?)",
                        [h, date(2025, 3, 10) + timedelta(days=d), 0.5 + d / 4, d + 1.5])
    publish(con, db)
    snap = duckdb.connect(str(snapshot_path(db)), read_only=True)
    try:
        for view in FROM_COPIES:
            cols, got = table(snap, view)
            assert (cols, got) == table(con, view), view
            assert {r[0] for r in got} == {r[0] for r in con.execute(
                "SELECT pseudonym FROM households WHERE household_id IN ('H1', 'H2', 'H5')").fetchall()}, view
    finally:
        snap.close()
        con.close()
