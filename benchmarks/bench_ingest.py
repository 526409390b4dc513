"""Ingest throughput against DuckDB's own readers, in the same run (the machine is shared).

    python -m benchmarks.bench_ingest [--rows 10000000] [--households 1000]

Writes a long CSV and a Parquet file of ``--rows`` readings, then for each format times
(1) the reference: DuckDB reading the file into a table (``read_csv``/``read_parquet``),
``--repeats`` times (default 3, each into a fresh database file), and
(2) ``meterrisk`` ingest of the same file into a fresh store (readings and their day rows,
``reading_days``), and reports rows/s, the ratio ingest / median reference (with the
reference's min/median/max, since one timing of it swings by 2-3x on a shared machine) and
peak RSS of the ingest (measured in a child process).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl


def write_inputs(folder: Path, rows: int, households: int) -> tuple[Path, Path, Path]:
    per = rows // households
    ids = pl.Series([f"H{h:06d}" for h in range(households)]).to_frame("household_id")
    frame = (ids.join(pl.int_range(0, per, eager=True).alias("i").to_frame(), how="cross")
             .with_columns((pl.lit(datetime(2025, 1, 1)) + pl.duration(minutes=30 * pl.col("i")))
                           .dt.replace_time_zone("Asia/Tokyo").alias("ts"),
                           ((pl.col("i") * 7919 % 1000) / 2000).alias("kwh"))
             .drop("i"))
    parquet = folder / "readings.parquet"
    frame.write_parquet(parquet, row_group_size=1_000_000)
    csv = folder / "readings.csv"
    frame.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%:z")).write_csv(csv)
    registry = folder / "households.csv"
    ids.with_columns(pl.lit(1945).alias("birth_year"), pl.lit("true").alias("lives_alone"),
                     pl.lit("2020-01-01").alias("consent_given_on"), pl.lit(None, dtype=pl.String).alias("consent_withdrawn_on"),
                     pl.lit("false").alias("care_certified"), pl.lit("false").alias("has_solar"),
                     pl.lit("A").alias("district")).write_csv(registry)
    return csv, parquet, registry


def reference_seconds(path: Path, run: int = 0) -> float:
    """One timing of DuckDB reading ``path`` into a table of a fresh database file."""
    db = path.parent / f"{path.name}.ref{run}.duckdb"
    con = duckdb.connect(str(db))
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}(?)", [str(path)])
    seconds = time.perf_counter() - t0
    con.close()
    db.unlink()
    return seconds


def spread(times: list[float]) -> dict:
    return {"min": min(times), "median": statistics.median(times), "max": max(times)}


# The day-row rebuild (meterrisk.ingest.days) is timed on its own as well, where it exists
# (the same script runs against code from before the day table, to compare).
_CHILD = """
import json, resource, sys, time
from meterrisk import ingest, store
db, data, registry = sys.argv[1:4]
spent = [0.0]
try:
    from meterrisk.ingest import days
    rebuild = days.rebuild_changed
    def timed(con, **options):
        t = time.perf_counter()
        try:
            return rebuild(con, **options)
        finally:
            spent[0] += time.perf_counter() - t
    days.rebuild_changed = timed
except ImportError:
    days = None
con = store.connect(db)
ingest.load_registry(con, registry)
t0, cpu0 = time.perf_counter(), time.process_time()
result = ingest.ingest_file(con, data, ingest.load_profile("default"))
seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rows_loaded": result.rows_loaded, "status": result.status,
                  "day_rows_s": spent[0] if days else None,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def ingest_run(folder: Path, data: Path, registry: Path) -> dict:
    db = folder / f"{data.stem}.{data.suffix[1:]}.duckdb"
    out = subprocess.run([sys.executable, "-c", _CHILD, str(db), str(data), str(registry)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="reference timings per format (at least 3)")
    parser.add_argument("--formats", default="parquet,csv", help="comma-separated: parquet, csv")
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats must be at least 3: the ratio is to the median of the reference")
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv, parquet, registry = write_inputs(folder, args.rows, args.households)
        for label, path in (("parquet", parquet), ("csv", csv)):
            if label not in args.formats.split(","):
                continue
            # Reference timings on both sides of the ingest, so a load spike on the shared
            # machine does not fall on one side only.
            before = (args.repeats + 1) // 2
            times = [reference_seconds(path, i) for i in range(before)]
            run = ingest_run(folder, path, registry)
            times += [reference_seconds(path, i) for i in range(before, args.repeats)]
            ref = spread(times)
            report[label] = {
                "rows": run["rows_loaded"], "file_mib": round(path.stat().st_size / 2**20, 1),
                "reference_s": {k: round(v, 3) for k, v in ref.items()}, "ingest_s": round(run["seconds"], 2),
                "ingest_cpu_s": round(run["cpu_seconds"], 2),  # steadier than wall time on a shared machine
                "ingest_rows_per_s": round(run["rows_loaded"] / run["seconds"]),
                "ingest_over_reference": round(run["seconds"] / ref["median"], 2),
                "ingest_over_reference_min_max": [round(run["seconds"] / ref["max"], 2),
                                                  round(run["seconds"] / ref["min"], 2)],
                "day_rows_s": None if run["day_rows_s"] is None else round(run["day_rows_s"], 2),
                "peak_rss_mib": round(run["peak_rss_mib"]),
            }
            print(label, json.dumps(report[label]), flush=True)
    return report


if __name__ == "__main__":
    main()
