"""Benchmark ``meterrisk report`` on the demo town against plain matplotlib drawing, in one run.

Not a test. Builds (once, then reuses: ``--workdir``) the demo town with ``meterrisk demo``
(600 households x 400 days, as ``make demo``), then times, each in a fresh child process so its
CPU time and peak RSS are its own, ``--repeat`` times alternately (median):

  reference  plain matplotlib, no store: for each household page of the report, an 84 x 48
             imshow with a colour bar and a 6-panel line figure of 12 points a panel, at the
             report's figure sizes, saved as SVG (matplotlib's defaults, no layout engine)
  report     meterrisk.report.build.write_report of the demo's list date (what
             ``meterrisk report --as-of DATE --out DIR`` runs): the index and every
             high-tier and new-concern household page

and prints the seconds (wall and CPU), report / reference, the pages and the peak RSS. The
1-minute load average is printed too: these machines are shared, so the ratio is the figure
to compare, not the seconds.

    .venv/bin/python benchmarks/bench_report.py                          # the demo town
    .venv/bin/python benchmarks/bench_report.py --workdir /tmp/br --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def build(work: Path, households: int, days: int) -> tuple[Path, str]:
    """The demo town under ``work`` (reused when built with the same arguments) and its list's date."""
    marker = work / "built.json"
    wanted = {"households": households, "days": days}
    if not (marker.exists() and json.loads(marker.read_text()) == wanted):
        for stale in ("data", "models", "prefect"):  # only what this benchmark wrote
            shutil.rmtree(work / stale, ignore_errors=True)
        marker.unlink(missing_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PREFECT_HOME": str(work / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
               "DO_NOT_TRACK": "1", "CI": "true"}
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "meterrisk.cli", "demo", "--households", str(households),
                        "--days", str(days)], cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
        marker.write_text(json.dumps(wanted))
        print(json.dumps({"built": str(work), "build_s": round(time.perf_counter() - t, 1)}), flush=True)
    lists = sorted((work / "data" / "exports").glob("risk_list_*.parquet"))
    return work / "data" / "meterrisk.duckdb", lists[-1].stem.removeprefix("risk_list_")


def reference(pages: int) -> dict:
    import io

    import numpy as np
    from matplotlib.figure import Figure

    from meterrisk.report.charts import HEATMAP_SIZE, TREND_PANEL

    rng = np.random.default_rng(0)
    weeks = np.arange(12)
    for _ in range(pages):
        fig = Figure(figsize=HEATMAP_SIZE)
        ax = fig.add_subplot()
        fig.colorbar(ax.imshow(rng.gamma(1.0, 0.2, (84, 48)), aspect="auto", cmap="cividis"), ax=ax, label="kWh")
        ax.set(title="heatmap", xlabel="time of day", ylabel="day")
        fig.savefig(io.StringIO(), format="svg")
        fig = Figure(figsize=(TREND_PANEL[0], TREND_PANEL[1] * 6))
        for ax in fig.subplots(6, 1, sharex=True):
            ax.plot(weeks, rng.random(12), marker="o")
            ax.axhline(0.5, linestyle="--")
            ax.set_title("feature", loc="left")
        fig.savefig(io.StringIO(), format="svg")
    return {"pages": pages}


def report(db: Path, as_of: str, out: Path) -> dict:
    from datetime import date

    from meterrisk import store
    from meterrisk.report.build import write_report

    con = store.read_only(db)
    try:
        written = write_report(con, date.fromisoformat(as_of), out)
    finally:
        con.close()
    return {"pages": len(written.pages), "listed": written.listed}


def child(stage: str, args: argparse.Namespace) -> None:
    """Run one stage in this (fresh) process; print its wall and CPU seconds and peak RSS as JSON."""
    if stage == "report":
        import meterrisk.report.build  # noqa: F401  imports are start-up, not the report's work
    else:
        import matplotlib.figure  # noqa: F401
    t, cpu = time.perf_counter(), time.process_time()
    extra = report(args.db, args.as_of, args.out) if stage == "report" else reference(args.pages)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB -> MiB
    print(json.dumps({"stage": stage, "seconds": seconds, "cpu_s": cpu, "peak_rss_mib": rss, **extra}))


def timed(stage: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", stage, *args], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--households", type=int, default=600)
    ap.add_argument("--days", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3, help="timings per stage (median) [3]")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="folder for the demo town, kept and reused across runs [default: a temp dir, removed]")
    ap.add_argument("--child", choices=["reference", "report"], help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--as-of", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--pages", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args)
        return
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    scratch = Path(tempfile.mkdtemp(prefix="bench_report_"))
    try:
        db, as_of = build(args.workdir or scratch / "town", args.households, args.days)
        runs: dict[str, list[dict]] = {"report": [], "reference": []}
        for i in range(args.repeat):  # alternately, so a burst of outside load hits both
            runs["report"].append(timed("report", "--db", str(db), "--as-of", as_of, "--out", str(scratch / f"r{i}")))
            runs["reference"].append(timed("reference", "--pages", str(runs["report"][0]["pages"])))
        med = {s: statistics.median(r["seconds"] for r in rs) for s, rs in runs.items()}
        cpu = {s: statistics.median(r["cpu_s"] for r in rs) for s, rs in runs.items()}
        pages = runs["report"][0]["pages"]
        print(json.dumps({
            "households": args.households, "days": args.days, "as_of": as_of, "listed": runs["report"][0]["listed"],
            "pages": pages, "repeat": args.repeat, "load_average_1m": round(os.getloadavg()[0], 1),
            "report_s": [round(r["seconds"], 1) for r in runs["report"]],
            "reference_s": [round(r["seconds"], 1) for r in runs["reference"]],
            "report_cpu_s": round(cpu["report"], 1), "reference_cpu_s": round(cpu["reference"], 1),
            "report_per_page_s": round(med["report"] / max(pages, 1), 2),
            "report_vs_reference": round(med["report"] / med["reference"], 2),
            "report_vs_reference_cpu": round(cpu["report"] / cpu["reference"], 2),
            "peak_rss_mib": {s: round(max(r["peak_rss_mib"] for r in rs)) for s, rs in runs.items()},
        }, indent=2))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
