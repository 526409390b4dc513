"""Benchmark the feature stage against a one-pass DuckDB aggregate over the same readings.

Not a test. Writes N households x D days of synthetic half-hourly readings (numpy, a
realistic-ish daily shape: night floor, morning/evening peaks, outings, gaps) into a fresh
DuckDB store, then times

  reference    one-pass DuckDB daily aggregate (sum, max, count per household-day) into a table,
               timed three times (before, between, after); ratios use the median
  full         meterrisk.features.compute(full=True): daily features + windows as of the last day
  incremental  one more day of readings for every household, then compute() (incremental)
  extract      only loading every reading into numpy as the feature stage does (its floor)

and reports ratios to the reference and the peak RSS of the timing process (generation
runs in a child process so it does not count).

    .venv/bin/python benchmarks/bench_features.py                  # 10,000 x 90 (43.2M readings)
    .venv/bin/python benchmarks/bench_features.py --households 2000
    .venv/bin/python benchmarks/bench_features.py --scaling          # 1,000 vs 10,000 households
    .venv/bin/python benchmarks/bench_features.py --scaling 200 1000 # the quick pair

``--scaling SMALL LARGE`` runs the whole benchmark once per size, each in its own process
with its own store and its own reference, and reports the cost per reading of the full run
at each size (seconds per million readings, and as a multiple of that size's reference) and
the ratio large / small of both: the issue's goal is within +-30% (0.7-1.3).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

START = date(2025, 1, 1)
CHUNK = 500


def readings_chunk(ids: list[str], first_day: int, n_days: int, seed: int) -> pl.DataFrame:
    """Readings for households ``ids`` over days first_day .. first_day+n_days-1 (Tokyo)."""
    rng = np.random.default_rng(seed)
    h, d = len(ids), n_days
    hour = np.arange(48) / 2.0
    wake = rng.normal(6.5, 0.6, (h, 1)) + rng.normal(0, 0.4, (h, d))
    bed = rng.normal(22.0, 0.7, (h, 1)) + rng.normal(0, 0.4, (h, d))
    base = rng.uniform(0.02, 0.06, (h, 1, 1))
    awake = (hour[None, None, :] >= wake[..., None]) & (hour[None, None, :] < bed[..., None])
    out_start = rng.uniform(9, 14, (h, d, 1))
    out = (rng.random((h, d, 1)) < 0.5) & (hour >= out_start) & (hour < out_start + 3)
    use = rng.gamma(2.0, 0.05, (h, d, 48)) * (rng.random((h, d, 48)) < 0.75)
    meals = (((hour >= 7) & (hour < 8)) | ((hour >= 12) & (hour < 12.5)) | ((hour >= 18) & (hour < 19))) * 0.35
    kwh = base + rng.gamma(2.0, 0.004, (h, d, 48)) + awake * ~out * (use + meals)
    present = rng.random((h, d, 48)) > 0.002
    hh_idx, day_idx, slot = np.nonzero(present)
    day_abs = first_day + day_idx
    local_ts = (np.datetime64(START.isoformat(), "us") + day_abs.astype("timedelta64[D]")
                + (slot * 30).astype("timedelta64[m]"))
    return pl.DataFrame({
        "household_id": np.asarray(ids)[hh_idx],
        "ts_utc": local_ts - np.timedelta64(9, "h"),
        "local_ts": local_ts,
        "local_date": local_ts.astype("datetime64[D]"),
        "slot": slot.astype(np.int16),
        "kwh": np.round(kwh[present], 3),
        "file_id": np.full(len(slot), 1 + first_day, dtype=np.int32),
    })


def write_days(con, households: int, first_day: int, n_days: int) -> int:
    ids_all = [f"H{i:06d}" for i in range(households)]
    n = 0
    for c in range(0, households, CHUNK):
        df = readings_chunk(ids_all[c:c + CHUNK], first_day, n_days, seed=c * 1000 + first_day)
        con.register("_bench", df)
        con.execute("INSERT INTO readings SELECT * FROM _bench")
        con.unregister("_bench")
        n += df.height
    con.execute(
        "INSERT INTO local_calendar SELECT DISTINCT local_date, 48 FROM readings "
        "WHERE local_date NOT IN (SELECT local_date FROM local_calendar)")
    # Ingest keeps reading_days in step; readings written by hand need their day rows built.
    from meterrisk.ingest import days as day_rows

    day_rows.note_changed(con, "SELECT DISTINCT household_id, local_date FROM readings "
                               "WHERE local_date >= ?::DATE", [START + timedelta(days=first_day)])
    day_rows.rebuild_changed(con)
    return n


def generate(db: Path, households: int, days: int) -> None:
    from meterrisk import store

    con = store.connect(db, timezone="Asia/Tokyo")
    t = time.perf_counter()
    n = write_days(con, households, 0, days)
    con.execute("CHECKPOINT")
    con.close()
    print(json.dumps({"readings": n, "generate_s": round(time.perf_counter() - t, 1)}))


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB


def scaling(sizes: list[int], days: int, batch_size: int) -> None:
    """One full benchmark per size (separate processes and stores), then per-reading costs."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench_scaling_") as tmp:
        for n in sizes:
            out = Path(tmp) / f"{n}.json"
            subprocess.run([sys.executable, __file__, "--households", str(n), "--days", str(days),
                            "--batch-size", str(batch_size), "--json-out", str(out)],
                           check=True, stdout=subprocess.DEVNULL)
            runs.append(json.loads(out.read_text()))
    rows = []
    for r in runs:
        ref = sorted(r["reference_s"])[len(r["reference_s"]) // 2]
        rows.append({"households": r["households"], "readings": r["readings"], "full_s": r["full_s"],
                     "reference_s": r["reference_s"],
                     "full_s_per_million_readings": round(r["full_s"] / r["readings"] * 1e6, 3),
                     "reference_s_per_million_readings": round(ref / r["readings"] * 1e6, 3),
                     "full_vs_reference": r["full_vs_reference"], "peak_rss_gib": r["peak_rss_gib"]})
    small, large = rows
    print(json.dumps({
        "days": days, "sizes": rows,
        # 1.0 = the same cost per reading at both sizes; the goal is 0.7-1.3.
        "per_reading_large_vs_small": round(large["full_s_per_million_readings"]
                                            / small["full_s_per_million_readings"], 2),
        "per_reading_vs_reference_large_vs_small": round(large["full_vs_reference"] / small["full_vs_reference"], 2),
    }, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--households", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--db", type=Path, default=None, help="store path [default: a temp dir]")
    ap.add_argument("--scaling", type=int, nargs="*", metavar="HOUSEHOLDS",
                    help="compare the cost per reading at two sizes [default sizes: 1000 10000]")
    ap.add_argument("--json-out", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.scaling is not None:
        sizes = args.scaling or [1_000, 10_000]
        if len(sizes) != 2 or sizes[0] >= sizes[1]:
            ap.error("--scaling takes two sizes, smaller first (e.g. --scaling 1000 10000)")
        scaling(sizes, args.days, args.batch_size)
        return
    scratch = None if args.db else Path(tempfile.mkdtemp(prefix="bench_features_"))
    db = args.db or scratch / "bench.duckdb"
    if args.generate_only:
        if db.exists():
            db.unlink()  # a fresh store every run: appending would duplicate readings
        generate(db, args.households, args.days)
        return
    gen = subprocess.run([sys.executable, __file__, "--generate-only", "--households", str(args.households),
                          "--days", str(args.days), "--db", str(db)], check=True, capture_output=True, text=True)
    info = json.loads(gen.stdout.strip().splitlines()[-1])

    from meterrisk import features, store

    con = store.connect(db)

    def reference() -> float:
        t = time.perf_counter()
        con.execute("""CREATE OR REPLACE TABLE bench_reference AS
                       SELECT household_id, local_date, sum(kwh) AS kwh, max(kwh) AS peak, count(*) AS n
                       FROM readings GROUP BY household_id, local_date""")
        return time.perf_counter() - t

    def extract() -> float:
        """Only bring every day row into Polars, batch by batch, as the feature stage does: the
        floor under any feature stage that computes outside DuckDB."""
        from meterrisk.features import store_io

        ranges = store_io.query(con, "SELECT household_id, min(local_date) AS read_lo, "
                                     "max(local_date) AS read_hi FROM reading_days GROUP BY ALL")
        t = time.perf_counter()
        n = 0
        for b in store_io.batches(ranges, args.batch_size):
            got = store_io.load_days(con, b)
            n += int(got.select(pl.sum_horizontal(pl.exclude("household_id", "local_date").is_not_null()
                                                  .cast(pl.Int64))).to_series().sum())
        total = store_io.scalar(con, "SELECT count(*) FROM readings")
        assert n == total, (n, total)
        return time.perf_counter() - t

    # The reference is short and the machine shared: time it before, between and after the
    # feature runs and divide by the median, so one noisy moment does not make the ratio.
    refs = [reference()]
    t = time.perf_counter()
    full = features.compute(con, full=True, batch_size=args.batch_size)
    full_s = time.perf_counter() - t
    refs.append(reference())

    write_days(con, args.households, args.days, 1)
    t = time.perf_counter()
    inc = features.compute(con, batch_size=args.batch_size)
    inc_s = time.perf_counter() - t
    refs.append(reference())
    peak_gib = rss_gib()  # before extract(), whose buffers the allocator may keep
    extract_s = extract()
    con.close()
    ref = sorted(refs)[1]

    report = {
        "households": args.households, "days": args.days, "readings": info["readings"],
        "reference_s": [round(r, 2) for r in refs], "full_s": round(full_s, 2), "incremental_s": round(inc_s, 2),
        "full_vs_reference": round(full_s / ref, 1),
        "full_vs_reference_range": [round(full_s / max(refs), 1), round(full_s / min(refs), 1)],
        "incremental_vs_full": round(inc_s / full_s, 3),
        "extract_s": round(extract_s, 2), "extract_vs_reference": round(extract_s / ref, 1),
        "peak_rss_gib": round(peak_gib, 2),
        "full_summary": {k: str(v) for k, v in full.items()},
        "incremental_summary": {k: str(v) for k, v in inc.items()},
    }
    print(json.dumps(report, indent=2))
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(report))
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)  # a 10,000-household store is ~1 GB


if __name__ == "__main__":
    main()
