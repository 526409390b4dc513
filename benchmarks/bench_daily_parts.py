"""Where the daily run's time goes for one new day: its steps as separate commands, on a
store the whole-path benchmark kept (``--keep``), so each has its own wall time and peak RSS.

Not a test. Moves the last delivered day on by one more day (bench_snapshot_publish), then
times ``meterrisk ingest`` of it, ``meterrisk features`` (incremental), ``meterrisk alerts``
for the new day and the snapshot publish (with a per-table breakdown of the publish), and
the same DuckDB references as the whole-path benchmark.

    .venv/bin/python -m benchmarks.bench_daily_parts WORKDIR --json-out parts.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.bench_snapshot_publish import next_day_inbox
from benchmarks.bench_whole_path import REFS, _internal, _meterrisk, timed


def publish_breakdown(db: Path) -> dict:
    """Seconds per part of one publish (in this process: a profile, not a stage figure)."""
    import meterrisk.store.snapshot as S
    from meterrisk import store

    times: dict[str, float] = {}

    def timing(label, f):
        def wrapped(*a, **k):
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                times[label(a)] = round(time.perf_counter() - t, 3)
        return wrapped

    copy, readings, fingerprints = S._copy, S._publish_readings, S._day_fingerprints
    S._copy = timing(lambda a: a[1], copy)
    S._publish_readings = timing(lambda a: "readings (day files and view)", readings)
    S._day_fingerprints = timing(lambda a: "readings fingerprints", fingerprints)
    con = store.connect(db, create=False)
    try:
        t = time.perf_counter()
        S.publish(con, db)
        times["total"] = round(time.perf_counter() - t, 3)
    finally:
        con.close()
        S._copy, S._publish_readings, S._day_fingerprints = copy, readings, fingerprints
    return dict(sorted(times.items(), key=lambda kv: -kv[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--json-out", type=Path, required=True)
    args = parser.parse_args()
    work = args.work.resolve()
    db = str(work / "store.duckdb")
    mr = _meterrisk()
    out: dict = {"work": str(work)}
    with open(work.parent / f"{work.name}.daily_parts.log", "w") as log:
        out["references"] = {r: timed(_internal(r, work), work, log) for r in REFS}
        inbox = next_day_inbox(work)
        import duckdb

        day = duckdb.connect().execute(
            f"SELECT CAST(timezone('Asia/Tokyo', max(ts)) AS DATE) FROM read_parquet('{inbox}/*.parquet')").fetchone()[0]
        out["day"] = str(day)
        out["ingest"] = timed([*mr, "ingest", "--db", db, str(inbox)], work, log)
        out["features"] = timed([*mr, "features", "--db", db], work, log)
        out["alerts"] = timed([*mr, "alerts", "--db", db, "--date", str(day), "--no-show"], work, log)
        out["snapshot"] = timed(_internal("snapshot", work), work, log)
        out["snapshot_breakdown_s"] = publish_breakdown(Path(db))
    for k in ("ingest", "features", "alerts", "snapshot"):
        for r in REFS:
            out[k][f"x_{r}"] = round(out[k]["wall_s"] / out["references"][r]["wall_s"], 2)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(out, indent=1, default=str) + "\n")
    print(json.dumps({k: out[k]["wall_s"] for k in ("ingest", "features", "alerts", "snapshot")}
                     | {"breakdown": out["snapshot_breakdown_s"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
