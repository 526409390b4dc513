"""Benchmark the window stage (household_features for every household at one as_of).

Not a test. Needs a store with daily features, e.g. one kept by
``benchmarks/bench_features.py --db PATH``. Times, each the median of three:

  reference  one-pass DuckDB daily aggregate over the readings (as bench_features.py)
  load       store_io.load_window_inputs for every household (daily rows and profiles)
  windows    windows.frame.window_frame on those inputs (Polars window sums)
  numpy      the numpy grid engine it replaced (tests/reference_numpy), its own load included

and the peak RSS of the process. Ratios are to the reference.

    .venv/bin/python benchmarks/bench_windows.py --db /tmp/bench.duckdb [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import polars as pl


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--batch", type=int, default=0, help="requests per batch [default: all at once]")
    ap.add_argument("--no-numpy", action="store_true", help="skip the numpy reference engine")
    args = ap.parse_args()

    from meterrisk import store
    from meterrisk.features import store_io
    from meterrisk.features.windows.frame import window_frame
    from meterrisk.features.windows.spans import HISTORY_DAYS

    con = store.connect(args.db, create=False)
    as_of = store_io.scalar(con, "SELECT max(local_date) FROM daily_features")
    requests = store_io.query(con, "SELECT DISTINCT household_id, ?::DATE AS as_of FROM daily_features "
                                   "ORDER BY 1", [as_of])
    size = args.batch or requests.height
    batches = [requests.slice(i, size) for i in range(0, requests.height, size)]

    def reference() -> None:
        con.execute("""SELECT count(*) FROM (SELECT household_id, local_date, sum(kwh), max(kwh), count(*)
                       FROM readings GROUP BY household_id, local_date)""").fetchall()

    ref_s, _ = timed(reference)
    load_s, inputs = timed(lambda: [store_io.load_window_inputs(con, b, HISTORY_DAYS) for b in batches])
    new_s, frames = timed(lambda: [window_frame(b, *i) for b, i in zip(batches, inputs)])
    report = {"households": requests.height, "as_of": str(as_of), "batch": size,
              "reference_s": round(ref_s, 3), "load_s": round(load_s, 3), "windows_s": round(new_s, 3),
              "load_plus_windows_vs_reference": round((load_s + new_s) / ref_s, 2)}
    if not args.no_numpy:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from reference_numpy import frame as numpy_reference

        def numpy_stage():
            return [numpy_reference.window_frame(b, *numpy_reference.load_window_inputs(con, b)) for b in batches]
        old_s, old = timed(numpy_stage)
        report |= {"numpy_load_plus_windows_s": round(old_s, 3),
                   "numpy_vs_new": round(old_s / (load_s + new_s), 2),
                   "same_flags": pl.concat(old)["dq_flag"].equals(pl.concat(frames)["dq_flag"])}
    report["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
