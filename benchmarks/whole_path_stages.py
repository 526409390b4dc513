"""Stages of the whole-path benchmark that have no command of their own, one per process.

    python -m benchmarks.whole_path_stages STAGE WORKDIR

Run by :mod:`benchmarks.bench_whole_path`, which times each call and reads its peak RSS, so
each stage must be its own process: a stage's peak is then its own, not the highest so far.
Prints one JSON line (what the stage did) on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path


def _readings_glob(work: Path) -> str:
    return str(work / "base" / "*.parquet")


def ref_sum(work: Path) -> dict:
    """Reference 1: the cheapest full pass there is, DuckDB summing one column of the Parquet."""
    import duckdb

    con = duckdb.connect()
    total, n = con.execute(f"SELECT sum(kwh), count(*) FROM read_parquet('{_readings_glob(work)}')").fetchone()
    return {"readings": n, "sum_kwh": round(total, 3)}


def ref_daily(work: Path) -> dict:
    """Reference 2: one-pass daily aggregate (sum, max, count per household-day, local days)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Tokyo'")
    con.execute(f"""CREATE TABLE day_totals AS
        SELECT household_id, CAST(timezone('Asia/Tokyo', ts) AS DATE) AS local_date,
               sum(kwh) AS kwh, max(kwh) AS peak, count(*) AS n
        FROM read_parquet('{_readings_glob(work)}') GROUP BY ALL""")
    return {"household_days": con.execute("SELECT count(*) FROM day_totals").fetchone()[0]}


def daily_features(work: Path) -> dict:
    """Every household-day's features from scratch (what `features --full` does before windows)."""
    import importlib

    from meterrisk import store
    from meterrisk.features import catalog, store_io

    C = importlib.import_module("meterrisk.features.compute")  # the package's `compute` is the function

    con = store.connect(work / "store.duckdb", create=False)
    store_io.replace_catalog(con, catalog())
    summary, _ = C._sync(con, full=True, batch_size=C.DEFAULT_BATCH)
    con.close()
    return summary


def window_features(work: Path) -> dict:
    """Household windows as of the last day and of each assessment date (daily rows are current)."""
    from meterrisk import features, store

    con = store.connect(work / "store.duckdb", create=False)
    out = features.compute(con, as_of=date.fromisoformat((work / "as_of").read_text().strip()))
    con.close()
    return {k: str(v) if isinstance(v, date) else v for k, v in out.items()}


def snapshot(work: Path) -> dict:
    from meterrisk import store
    from meterrisk.store.snapshot import publish

    con = store.connect(work / "store.duckdb", create=False)
    path = publish(con, work / "store.duckdb")
    con.close()
    return {"snapshot_bytes": path.stat().st_size}


def prefect_noop(work: Path) -> dict:
    """Prefect's fixed cost: a flow that does nothing, in a fresh process (temporary server)."""
    from prefect import flow

    @flow(name="bench-noop")
    def noop() -> int:
        return 1

    return {"result": noop()}


STAGES = {f.__name__: f for f in (ref_sum, ref_daily, daily_features, window_features, snapshot, prefect_noop)}


def main(argv: list[str]) -> int:
    name, work = argv[0], Path(argv[1])
    started = time.perf_counter()
    out = STAGES[name](work)
    out["in_process_s"] = round(time.perf_counter() - started, 3)
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
