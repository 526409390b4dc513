"""Benchmark the whole path, stage by stage, against two DuckDB references on the same data.

Not a test. For each size (households x days) it generates a synthetic town with one day
more than asked, keeps the last day back as the next day's delivery, and then runs every
stage in its own process, timing it and reading its peak RSS (``os.wait4``: the largest
resident set of the stage process and the processes it waited for, so a stage's peak is
its own):

  synth            meterrisk synth (days + 1, long Parquet)
  registry         meterrisk households + temperature + assessments
  ingest           meterrisk ingest of the readings Parquet (the `days` days)
  daily_features   every household-day's features from scratch
  window_features  household windows as of the last day and each assessment date
  training         meterrisk train
  scoring          meterrisk score --as-of the last day
  alerts           meterrisk alerts --date the last day
  export           meterrisk export (the care-staff risk list)
  snapshot         publish the analyst snapshot
  daily_new_day    meterrisk run with the held-back day in the inbox (the daily flow end to
                   end, incremental: ingest, features, alerts, snapshot)
  prefect_noop     a flow that does nothing: Prefect's fixed start-up in a fresh process

References, timed before and after the stages (mean of the two): DuckDB ``SELECT sum(kwh)``
over the readings Parquet, and a one-pass DuckDB daily aggregate (sum, max, count per
household-day). Every figure is also given as a multiple of each.

Derived: ``end_to_end`` (ingest from Parquet through the risk list: ingest, daily and window
features, training, scoring, export), ``full_recompute`` (what the daily flow does, on every
day: ingest, features, alerts, snapshot) and the daily-run target
``daily_new_day <= 0.05 * full_recompute + prefect_noop``.

    .venv/bin/python -m benchmarks.bench_whole_path                      # the issue's sizes
    .venv/bin/python -m benchmarks.bench_whole_path --sizes 1000x90 10000x365
    .venv/bin/python -m benchmarks.bench_whole_path --quick              # harness smoke test

Results: ``benchmarks/results/whole_path.json`` and ``whole_path.md`` (``--out-dir``),
rewritten after each size, so an interrupted run keeps the sizes it finished.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

FULL_SIZES = ["1000x90", "10000x90", "30000x90", "10000x365"]
QUICK_SIZES = ["300x35"]
START = date(2025, 1, 1)
SEED = 11
STAGES = ["synth", "registry", "ingest", "daily_features", "window_features", "training", "scoring",
          "alerts", "export", "snapshot", "daily_new_day", "prefect_noop"]
END_TO_END = ["ingest", "daily_features", "window_features", "training", "scoring", "export"]
FULL_RECOMPUTE = ["ingest", "daily_features", "window_features", "alerts", "snapshot"]
REFS = ["ref_sum", "ref_daily"]
ROOT = Path(__file__).resolve().parent.parent


class StageFailed(RuntimeError):
    pass


def _env(work: Path) -> dict:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_HOME=str(work / "prefect"), METERRISK_DB=str(work / "store.duckdb"),
               # on a loaded machine the temporary server can take longer than the default 20 s
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
    return env


def timed(cmd: list[str], work: Path, log) -> dict:
    """Run ``cmd`` as its own process: wall seconds, peak RSS (GiB) of it and its children, CPU."""
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=work, env=_env(work), stdout=subprocess.PIPE, stderr=err, text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)  # rusage of this process alone (and its children)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        errors = err.read()
    log.write(out[-4000:] + errors[-4000:] + "\n")
    log.flush()
    # ingest and alerts exit 1 when they quarantined a line or raised an alert: a complete
    # run all the same; a failure says "error:".
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and "error:" in errors) or "Traceback" in errors \
            or (proc.returncode == 1 and cmd[1] == "-m"):
        tail = [line for line in errors.splitlines() if line.strip()][-1:] or ["(no output)"]
        raise StageFailed(f"{' '.join(cmd[1:3])} exited {proc.returncode}: {tail[0][:300]} (see {log.name})")
    result = {"wall_s": round(wall, 3), "peak_rss_gib": round(usage.ru_maxrss / 2**20, 3),
              "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "exit": proc.returncode}
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if last.startswith("{"):
        try:
            result["detail"] = json.loads(last)
        except json.JSONDecodeError:
            pass
    return result


def _meterrisk() -> list[str]:
    return [str(Path(sys.executable).with_name("meterrisk"))]


def _internal(stage: str, work: Path) -> list[str]:
    return [sys.executable, "-m", "benchmarks.whole_path_stages", stage, str(work)]


def split_last_day(work: Path, cohort: Path, days: int) -> dict:
    """readings of the first ``days`` days -> base/, the last one -> inbox/ (the next delivery)."""
    import duckdb

    cut = datetime(*(START + timedelta(days=days)).timetuple()[:3], tzinfo=timezone(timedelta(hours=9)))
    (work / "base").mkdir()
    (work / "inbox").mkdir()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    n_base = n_new = 0
    for part in sorted((cohort / "readings").glob("*.parquet")):
        src = f"read_parquet('{part}')"
        for folder, op in (("base", "<"), ("inbox", ">=")):
            out = work / folder / part.name
            con.execute(f"COPY (SELECT * FROM {src} WHERE ts {op} ?::TIMESTAMPTZ ORDER BY household_id, ts) "
                        f"TO '{out}' (FORMAT parquet)", [cut.isoformat()])
        n_base += con.execute(f"SELECT count(*) FROM read_parquet('{work / 'base' / part.name}')").fetchone()[0]
        n_new += con.execute(f"SELECT count(*) FROM read_parquet('{work / 'inbox' / part.name}')").fetchone()[0]
    shutil.rmtree(cohort / "readings")  # the split copies are what the stages read
    return {"readings": n_base, "new_day_readings": n_new}


def run_size(households: int, days: int, work: Path, log) -> dict:
    mr = _meterrisk()
    cohort = work / "cohort"
    last = START + timedelta(days=days - 1)
    (work / "as_of").write_text(last.isoformat())
    db = str(work / "store.duckdb")
    stages: dict[str, dict] = {}
    stages["synth"] = timed([*mr, "synth", "--households", str(households), "--days", str(days + 1),
                             "--start", START.isoformat(), "--seed", str(SEED), "--out", str(cohort)], work, log)
    counts = split_last_day(work, cohort, days)
    refs = {r: [timed(_internal(r, work), work, log)] for r in REFS}
    reg = [timed([*mr, "households", "--db", db, str(cohort / "households.csv")], work, log),
           timed([*mr, "temperature", "--db", db, str(cohort / "temperature.csv")], work, log),
           timed([*mr, "assessments", "--db", db, str(cohort / "assessments.csv")], work, log)]
    stages["registry"] = {"wall_s": round(sum(r["wall_s"] for r in reg), 3),
                          "peak_rss_gib": max(r["peak_rss_gib"] for r in reg),
                          "cpu_s": round(sum(r["cpu_s"] for r in reg), 2)}
    stages["ingest"] = timed([*mr, "ingest", "--db", db, str(work / "base")], work, log)
    stages["daily_features"] = timed(_internal("daily_features", work), work, log)
    stages["window_features"] = timed(_internal("window_features", work), work, log)
    stages["training"] = timed([*mr, "train", "--db", db, "--models-dir", str(work / "models"),
                                "--version", "bench"], work, log)
    stages["scoring"] = timed([*mr, "score", "--db", db, "--models-dir", str(work / "models"),
                               "--as-of", last.isoformat()], work, log)
    stages["alerts"] = timed([*mr, "alerts", "--db", db, "--date", last.isoformat(), "--no-show"], work, log)
    stages["export"] = timed([*mr, "export", "--db", db, "--as-of", last.isoformat(),
                              "--out", str(work / "risk_list.parquet")], work, log)
    stages["snapshot"] = timed(_internal("snapshot", work), work, log)
    stages["daily_new_day"] = timed([*mr, "run", "--db", db, "--inbox", str(work / "inbox")], work, log)
    stages["prefect_noop"] = timed(_internal("prefect_noop", work), work, log)
    for r in REFS:
        refs[r].append(timed(_internal(r, work), work, log))
    return summarise(households, days, counts, stages, refs, store_bytes=(work / "store.duckdb").stat().st_size)


def summarise(households: int, days: int, counts: dict, stages: dict, refs: dict, store_bytes: int) -> dict:
    n = counts["readings"]
    ref = {r: {"wall_s": round(sum(x["wall_s"] for x in runs) / len(runs), 3),
               "runs_s": [x["wall_s"] for x in runs],
               "peak_rss_gib": max(x["peak_rss_gib"] for x in runs)} for r, runs in refs.items()}

    def figures(wall: float, rss: float | None) -> dict:
        out = {"wall_s": round(wall, 3), "readings_per_s": round(n / wall) if wall else None,
               "us_per_reading": round(wall / n * 1e6, 4) if n else None}
        if rss is not None:
            out["peak_rss_gib"] = rss
        for r in REFS:
            out[f"x_{r}"] = round(wall / ref[r]["wall_s"], 2)
        return out

    table = {s: {**figures(v["wall_s"], v["peak_rss_gib"]), "cpu_s": v["cpu_s"],
                 **({"detail": v["detail"]} if "detail" in v else {})} for s, v in stages.items()}
    derived = {}
    for name, parts in (("end_to_end", END_TO_END), ("full_recompute", FULL_RECOMPUTE)):
        derived[name] = {**figures(sum(stages[s]["wall_s"] for s in parts),
                                   max(stages[s]["peak_rss_gib"] for s in parts)),
                         "cpu_s": round(sum(stages[s]["cpu_s"] for s in parts), 2), "stages": parts}
    budget = 0.05 * derived["full_recompute"]["wall_s"] + stages["prefect_noop"]["wall_s"]
    new_day = stages["daily_new_day"]["wall_s"]
    targets = {
        "daily_new_day_budget_s": round(budget, 2),
        "daily_new_day_s": new_day,
        "daily_new_day_met": new_day <= budget,
        "daily_new_day_share_of_full_recompute": round(new_day / derived["full_recompute"]["wall_s"], 4),
        "daily_new_day_minus_prefect_noop_share": round(
            max(new_day - stages["prefect_noop"]["wall_s"], 0) / derived["full_recompute"]["wall_s"], 4),
        "end_to_end_under_5_min": derived["end_to_end"]["wall_s"] < 300,
        "end_to_end_peak_under_4_gib": derived["end_to_end"]["peak_rss_gib"] < 4,
    }
    return {"size": f"{households}x{days}", "households": households, "days": days, **counts,
            "store_bytes": store_bytes, "references": ref, "stages": table, "derived": derived,
            "targets": targets}


def linearity(results: list[dict]) -> dict | None:
    """Cost per reading of the end-to-end path at the largest 90-day size vs the smallest."""
    ninety = sorted((r for r in results if r["days"] == 90), key=lambda r: r["households"])
    if len(ninety) < 2:
        return None
    small, large = ninety[0], ninety[-1]
    out = {"small": small["size"], "large": large["size"]}
    for what in ("end_to_end", "full_recompute"):
        a, b = small["derived"][what]["us_per_reading"], large["derived"][what]["us_per_reading"]
        out[f"{what}_cost_ratio"] = round(b / a, 3)
        # the same ratio in reference units: drift of the machine's load cancels out
        ra = small["derived"][what]["x_ref_daily"] / small["readings"]
        rb = large["derived"][what]["x_ref_daily"] / large["readings"]
        out[f"{what}_cost_ratio_in_ref_daily_units"] = round(rb / ra, 3)
    out["within_30_percent"] = 0.7 <= out["end_to_end_cost_ratio"] <= 1.3
    # Per stage, wall and CPU: on a shared machine CPU seconds drift less with the load, and
    # fixed costs (training on the labelled subset, Prefect, imports) show as a ratio below 1.
    out["per_stage"] = {}
    for name in small["stages"]:
        a, b = small["stages"][name], large["stages"][name]
        out["per_stage"][name] = {
            "wall_cost_ratio": round((b["wall_s"] / large["readings"]) / (a["wall_s"] / small["readings"]), 3),
            "cpu_cost_ratio": round((b["cpu_s"] / large["readings"]) / (a["cpu_s"] / small["readings"]), 3)
            if a.get("cpu_s") and b.get("cpu_s") else None}
    return out


def markdown(doc: dict) -> str:
    lines = [f"# Whole-path benchmark ({doc['started_at']}, {doc['machine']})", "",
             "Each stage in its own process; peak RSS is that process's (and its children's) largest "
             "resident set. `x sum` / `x daily`: wall time as a multiple of the same run's DuckDB "
             "`SELECT sum(kwh)` over the readings Parquet / one-pass DuckDB daily aggregate.", ""]
    for r in doc["results"]:
        refs = r["references"]
        lines += [f"## {r['households']:,} households x {r['days']} days: {r['readings']:,} readings "
                  f"(+{r['new_day_readings']:,} in the new day); store {r['store_bytes'] / 2**30:.2f} GiB", "",
                  f"References: sum {refs['ref_sum']['wall_s']:.2f} s (runs {refs['ref_sum']['runs_s']}), "
                  f"daily aggregate {refs['ref_daily']['wall_s']:.2f} s (runs {refs['ref_daily']['runs_s']}).", "",
                  "| stage | wall s | readings/s | peak RSS GiB | CPU s | x sum | x daily |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        rows = [(s, v) for s, v in r["stages"].items()] + [(f"**{k}**", v) for k, v in r["derived"].items()]
        for s, v in rows:
            lines.append(f"| {s} | {v['wall_s']:.2f} | {v['readings_per_s']:,} | {v.get('peak_rss_gib', 0):.2f} | "
                         f"{v.get('cpu_s', '')} | {v['x_ref_sum']:.1f} | {v['x_ref_daily']:.1f} |")
        t = r["targets"]
        lines += ["", f"- daily run for the new day: {t['daily_new_day_s']:.1f} s, budget 5% of full recompute + "
                      f"Prefect no-op = {t['daily_new_day_budget_s']:.1f} s: {'met' if t['daily_new_day_met'] else 'missed'} "
                      f"({t['daily_new_day_share_of_full_recompute']:.1%} of the full recompute; "
                      f"{t['daily_new_day_minus_prefect_noop_share']:.1%} without Prefect's start-up)",
                  f"- end to end {r['derived']['end_to_end']['wall_s']:.1f} s (< 300 s: "
                  f"{'yes' if t['end_to_end_under_5_min'] else 'no'}), peak "
                  f"{r['derived']['end_to_end']['peak_rss_gib']:.2f} GiB (< 4 GiB: "
                  f"{'yes' if t['end_to_end_peak_under_4_gib'] else 'no'})", ""]
    if doc.get("linearity"):
        lin = doc["linearity"]
        lines += ["## Cost per reading, large vs small", "",
                  f"{lin['large']} / {lin['small']}: end to end x{lin['end_to_end_cost_ratio']} "
                  f"(x{lin['end_to_end_cost_ratio_in_ref_daily_units']} in daily-aggregate units), full recompute "
                  f"x{lin['full_recompute_cost_ratio']} (x{lin['full_recompute_cost_ratio_in_ref_daily_units']}); "
                  f"target 0.7-1.3: {'met' if lin['within_30_percent'] else 'missed'}", "",
                  "| stage | cost per reading, wall (large / small) | CPU (large / small) |", "|---|---:|---:|"]
        lines += [f"| {k} | {v['wall_cost_ratio']} | {v['cpu_cost_ratio']} |" for k, v in lin["per_stage"].items()]
        lines.append("")
    return "\n".join(lines) + "\n"


def write(doc: dict, out_dir: Path, stem: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for r in doc["results"]:  # results written before derived figures had CPU seconds
        for d in r["derived"].values():
            d.setdefault("cpu_s", round(sum(r["stages"][s]["cpu_s"] for s in d["stages"]), 2))
    doc["linearity"] = linearity(doc["results"])
    (out_dir / f"{stem}.json").write_text(json.dumps(doc, indent=1, default=str) + "\n")
    (out_dir / f"{stem}.md").write_text(markdown(doc))


def parse_size(text: str) -> tuple[int, int]:
    try:
        h, d = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not HOUSEHOLDSxDAYS, e.g. 1000x90") from None
    if h < 1 or d < 30:  # the window stage needs weeks of history; scoring needs windows
        raise argparse.ArgumentTypeError(f"size {text!r}: need at least 1 household and 30 days")
    return h, d


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, help=f"HOUSEHOLDSxDAYS [default: {' '.join(FULL_SIZES)}]")
    parser.add_argument("--quick", action="store_true", help=f"harness smoke test at {' '.join(QUICK_SIZES)}")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--stem", default=None, help="result file name [default: whole_path, or whole_path_quick]")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder [default: a temporary one]")
    parser.add_argument("--keep", action="store_true", help="keep each size's scratch folder")
    args = parser.parse_args(argv)
    sizes = args.sizes or [parse_size(s) for s in (QUICK_SIZES if args.quick else FULL_SIZES)]
    stem = args.stem or ("whole_path_quick" if args.quick else "whole_path")
    doc = {"started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start",
           "results": [], "failed": []}
    base = args.work or Path(tempfile.mkdtemp(prefix="bench_whole_path_"))
    base.mkdir(parents=True, exist_ok=True)
    for households, days in sizes:
        work = base / f"{households}x{days}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir()
        with open(base / f"{households}x{days}.log", "w") as log:
            print(f"== {households} x {days} (log {log.name})", flush=True)
            try:
                result = run_size(households, days, work, log)
            except StageFailed as exc:
                print(f"error: {exc}", file=sys.stderr)
                doc["failed"].append({"size": f"{households}x{days}", "error": str(exc)})
                continue
            finally:
                if not args.keep:
                    shutil.rmtree(work, ignore_errors=True)
        result["load_after"] = round(os.getloadavg()[0], 1)
        doc["results"].append(result)
        write(doc, args.out_dir, stem)
        print(json.dumps({"size": result["size"], "end_to_end_s": result["derived"]["end_to_end"]["wall_s"],
                          "daily_new_day_s": result["stages"]["daily_new_day"]["wall_s"]}), flush=True)
    if not args.work:
        shutil.rmtree(base, ignore_errors=True)
    if doc["failed"] and not doc["results"]:
        return 1
    write(doc, args.out_dir, stem)
    return 1 if doc["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
