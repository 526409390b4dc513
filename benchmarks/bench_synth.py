"""Benchmark the synthetic cohort generator (not a test).

Times ``meterrisk.synth.generate`` for N households x D days (long Parquet), reports rows/s,
wall time and peak RSS, and in the same run the time pyarrow needs to write the same number of
rows of random floats (household_id, ts, kwh) to Parquet: the ratio says how much of the cost
is modelling rather than unavoidable I/O.

    .venv/bin/python benchmarks/bench_synth.py --households 2000
    .venv/bin/python benchmarks/bench_synth.py            # 10,000 x 365 = 175M readings
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from meterrisk.synth import generate
from meterrisk.synth.writers import PARQUET_OPTIONS


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reference_write(out: Path, rows: int, chunk_rows: int) -> float:
    """Seconds to write ``rows`` random rows in the same schema and chunking with pyarrow."""
    rng = np.random.default_rng(0)
    ids = pa.array([f"H{i:05d}" for i in range(1000)])
    t0 = time.perf_counter()
    for part, lo in enumerate(range(0, rows, chunk_rows)):
        n = min(chunk_rows, rows - lo)
        hh = np.arange(n) // 17520 % 1000
        table = pa.table({
            "household_id": ids.take(pa.array(hh)),
            "ts": pa.array(1_735_657_200_000_000 + 1_800_000_000 * (np.arange(n) % 17520),
                           pa.timestamp("us", tz="Asia/Tokyo")),
            "kwh": pa.array(rng.random(n)),
        })
        pq.write_table(table, out / f"ref-{part:05d}.parquet", row_group_size=1 << 20,
                       **PARQUET_OPTIONS)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write here and keep the output")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_synth_"))
    out = args.keep or tmp / "cohort"
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        summary = generate(out, households=args.households, days=args.days,
                           start=date(2025, 1, 1), seed=args.seed)
        wall = time.perf_counter() - t0
        # CPU seconds of this process: steadier than wall time when other jobs share the box.
        cpu = time.process_time() - c0
        rss = peak_rss_mib()
        rows = summary["readings_rows"]
        ref_dir = tmp / "ref"
        ref_dir.mkdir()
        ref = reference_write(ref_dir, rows, chunk_rows=500 * args.days * 48)
        size = sum(p.stat().st_size for p in (out / "readings").iterdir()) / 2**20
        print(f"households x days     {args.households:,} x {args.days}")
        print(f"readings rows         {rows:,}  ({size:,.0f} MiB Parquet)")
        print(f"generate wall time    {wall:,.1f} s")
        print(f"generate CPU time     {cpu:,.1f} s")
        print(f"rows per second       {rows / wall:,.0f}")
        print(f"peak RSS              {rss:,.0f} MiB (includes the reference write below)")
        print(f"reference write       {ref:,.1f} s  (pyarrow, random floats, same rows)")
        print(f"ratio generate/ref    {wall / ref:,.1f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
