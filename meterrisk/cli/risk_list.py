"""``meterrisk risk-list``: the monthly flow now (score, export the care-staff list, write the report)."""

from __future__ import annotations

from pathlib import Path

import click

from meterrisk import store
from meterrisk.cli._options import db_option

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def summary_lines(out: dict) -> list[str]:
    """The flow's result as lines a person reads (never a dict repr)."""
    s = out["score"]
    lines = [f"risk list {out['as_of']}, model {out['model']}: {s['scored']} scored",
             f"  high:        {s['high']}   (the top {s['capacity']:.0%} the town can contact)",
             f"  medium:      {s['medium']}   (the next {s['capacity']:.0%})",
             f"  low:         {s['scored'] - s['high'] - s['medium']}",
             f"  new concern: {s['new_concern']}   (experimental; not high, own routine moving the way frailty moves)"]
    lines += [f"  not scored:  {n} {reason}" for reason, n in s.get("not_scored", {}).items()]
    lines += [f"export:  {out['export']['path']}   ({out['export']['rows']} rows, registry ids)",
              f"report:  {out['report']['path']}   ({out['report']['pages']} household pages; opens offline)"]
    return lines


def _require_readings(db, as_of) -> None:
    """The scoring step's own check, before Prefect starts: a date before the first reading is
    one line at once rather than after a server start (scoring raises the same error)."""
    from meterrisk.model.scoring import require_readings_by

    con = store.read_only(db)
    try:
        require_readings_by(con, as_of)
    finally:
        con.close()


@click.command("risk-list")
@db_option
@click.option("--as-of", "as_of", required=True, type=_DATE, help="Scoring date (local, YYYY-MM-DD).")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Risk-list file [default: data/exports/risk_list_<date>.<format>].")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default=None,
              help="File format [default: from the --out suffix, else parquet].")
@click.option("--models-dir", default="models", show_default=True, type=click.Path(file_okay=False))
def risk_list(db, as_of, out, fmt, models_dir):
    """Run the monthly flow now: score with the promoted model, export the list, write the report.

    The same flow the schedule runs on the 1st (pipelines/risk_list.py), without a server (a
    temporary local one) and offline. The report goes beside the file (report_<date>/).

    \b
    Example:
      meterrisk risk-list --as-of 2025-07-31
      meterrisk risk-list --as-of 2025-07-31 --out out/risk-2025-07.csv
    """
    store.require_store(db)  # before Prefect starts: one line, at once
    from meterrisk.cli.flows import quiet_user_errors
    from meterrisk.model import registry
    from pipelines.risk_list import risk_list_flow
    from pipelines.server import local_server, mark_crashed_runs, runs_tagged_with_this_process

    registry.current(Path(models_dir))  # no promoted model: one line, before Prefect starts
    _require_readings(db, as_of.date())
    fmt = fmt or ("csv" if out and Path(out).suffix.lower() == ".csv" else "parquet")
    quiet_user_errors()
    with local_server(), runs_tagged_with_this_process():
        mark_crashed_runs()
        result = risk_list_flow(db=Path(db) if db else None, as_of=as_of.date(), models_dir=Path(models_dir),
                                out=Path(out) if out else None, fmt=fmt)
    for line in summary_lines(result):
        click.echo(line)


COMMANDS = [risk_list]
