"""Snapshot publish and the daily run after the incremental snapshot, on a store the
whole-path benchmark kept (``--keep``), against the same DuckDB references.

Not a test. On ``WORKDIR`` (one size's scratch folder: store.duckdb, base/, inbox/):

  snapshot_first   publish where no day file exists yet (every day written once)
  snapshot_again   publish with nothing new (no day file written)
  daily_new_day    meterrisk run with one more day (the last delivered day moved a day on)
  prefect_noop     Prefect's fixed start-up

    .venv/bin/python -m benchmarks.bench_snapshot_publish WORKDIR --json-out results.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import timedelta
from pathlib import Path

import duckdb

from benchmarks.bench_whole_path import REFS, _internal, _meterrisk, timed


def next_day_inbox(work: Path) -> Path:
    """The last delivered day's readings, one day later: a new day with realistic values.

    The last day is found among the inbox and the daily runs' archive (where a run moves
    what it loaded), so calling this again gives the day after that."""
    inbox = work / "inbox_next"
    shutil.rmtree(inbox, ignore_errors=True)
    files = sorted((work / "inbox").glob("*.parquet")) + sorted((work / "data" / "archive").rglob("*.parquet"))
    inbox.mkdir()
    con = duckdb.connect()
    last = con.execute(f"SELECT max(ts) FROM read_parquet({[str(f) for f in files]})").fetchone()[0]
    for f in files:
        day = f"SELECT household_id, ts + INTERVAL 1 DAY AS ts, kwh FROM read_parquet('{f}') " \
              f"WHERE ts > TIMESTAMPTZ '{last.isoformat()}' - INTERVAL 1 DAY"
        if con.execute(f"SELECT count(*) FROM ({day})").fetchone()[0]:
            # a new delivery (a name of its own), not a new version of an old one
            target = inbox / f"{(last + timedelta(days=1)):%Y%m%d}-{f.name.split('-', 1)[-1]}"
            con.execute(f"COPY ({day}) TO '{target}' (FORMAT parquet)")
    return inbox


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--json-out", type=Path, required=True)
    args = parser.parse_args()
    work = args.work.resolve()
    db = str(work / "store.duckdb")
    for old in work.glob("store.snapshot.*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    out: dict = {"work": str(work)}
    with open(work.parent / f"{work.name}.snapshot.log", "w") as log:
        out["references"] = {r: timed(_internal(r, work), work, log) for r in REFS}
        out["snapshot_first"] = timed(_internal("snapshot", work), work, log)
        out["snapshot_again"] = timed(_internal("snapshot", work), work, log)
        inbox = next_day_inbox(work)
        out["daily_new_day"] = timed([*_meterrisk(), "run", "--db", db, "--inbox", str(inbox)], work, log)
        out["prefect_noop"] = timed(_internal("prefect_noop", work), work, log)
        for r in REFS:
            out["references"][r + "_after"] = timed(_internal(r, work), work, log)
    refs = {r: (out["references"][r]["wall_s"] + out["references"][r + "_after"]["wall_s"]) / 2 for r in REFS}
    for k in ("snapshot_first", "snapshot_again", "daily_new_day", "prefect_noop"):
        for r, s in refs.items():
            out[k][f"x_{r}"] = round(out[k]["wall_s"] / s, 2)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(out, indent=1, default=str) + "\n")
    print(json.dumps({k: out[k]["wall_s"] for k in ("snapshot_first", "snapshot_again", "daily_new_day", "prefect_noop")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
