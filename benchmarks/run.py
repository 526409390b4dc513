"""Run every benchmark at the sizes the issues name (``make bench``), or smaller with --quick.

Each benchmark measures its own reference in the same run and prints ratios, because
these machines are shared and absolute seconds drift with the load.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

FULL = [
    ["benchmarks/bench_ingest.py", "--rows", "10000000"],
    ["benchmarks/bench_synth.py", "--households", "10000", "--days", "365"],
    ["benchmarks/bench_features.py", "--households", "10000", "--days", "90"],
    ["benchmarks/bench_features.py", "--scaling", "1000", "10000", "--days", "90"],
    ["benchmarks/bench_train.py", "--households", "3000", "--days", "180"],
    # every stage and the daily run at 1k/10k/30k x 90 and 10k x 365 (issue 15): hours on 2 cores
    ["benchmarks/bench_whole_path.py"],
]
QUICK = [
    ["benchmarks/bench_ingest.py", "--rows", "1000000", "--households", "200"],
    ["benchmarks/bench_synth.py", "--households", "500", "--days", "365"],
    ["benchmarks/bench_features.py", "--households", "500", "--days", "90"],
    ["benchmarks/bench_features.py", "--scaling", "200", "1000", "--days", "90"],
    ["benchmarks/bench_train.py", "--households", "400", "--days", "180"],
    ["benchmarks/bench_whole_path.py", "--quick"],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes in all")
    args = parser.parse_args()
    failed = 0
    for cmd in QUICK if args.quick else FULL:
        print(f"== {' '.join(cmd)}", flush=True)
        failed += subprocess.call([sys.executable, *cmd]) != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
