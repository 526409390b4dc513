"""``meterrisk synth``: write a synthetic cohort, or report how realistic one is."""

from __future__ import annotations

from pathlib import Path

import click

from meterrisk.errors import MeterriskError


@click.command("synth")
@click.option("--households", type=click.IntRange(min=1), default=200, show_default=True,
              help="Number of households in the registry.")
@click.option("--days", type=click.IntRange(min=1), default=120, show_default=True,
              help="Local calendar days of readings.")
@click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]), default="2025-04-01",
              show_default=True, help="First local date (YYYY-MM-DD).")
@click.option("--seed", type=int, default=7, show_default=True,
              help="Random seed; same seed and options give byte-identical files.")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="Output directory [default: data/synthetic/<households>x<days>-s<seed>/].")
@click.option("--layout", type=click.Choice(["long", "csv", "wide", "register"]),
              default="long", show_default=True,
              help="Readings layout: long Parquet, long CSV, wide CSV or register CSV.")
@click.option("--faults", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Chance of one data-quality fault per household-day (0 = clean).")
@click.option("--timezone", default="Asia/Tokyo", show_default=True,
              help="Local IANA zone of the homes.")
@click.option("--gzip", "compress", is_flag=True, help="Write CSV layouts as .csv.gz.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), default=None,
              help="Instead of generating, compare the cohort in DIR with DOMAIN.md and the "
                   "real London files; prints and writes DIR/realism.md.")
def synth(households, days, start, seed, out, layout, faults, timezone, compress, report_dir):
    """Generate a synthetic cohort of older residents' half-hourly readings with ground truth.

    Writes readings/, households.csv, assessments.csv, temperature.csv, truth/ and
    manifest.json (see docs/synth.md).

    \b
    Examples:
      meterrisk synth --households 200 --days 120 --start 2025-04-01 --seed 7
      meterrisk synth --households 50 --days 28 --layout csv --faults 0.02 --out /tmp/messy
      meterrisk synth --report data/synthetic/200x120-s7
    """
    if report_dir is not None:
        from meterrisk.synth.report import realism_report

        if not Path(report_dir, "readings").is_dir():
            raise MeterriskError(f"{report_dir} has no readings/ folder",
                                 hint="point --report at a directory written by meterrisk synth")
        click.echo(realism_report(Path(report_dir)))
        return
    from meterrisk.synth import generate

    out = out or f"data/synthetic/{households}x{days}-s{seed}"
    summary = generate(out, households=households, days=days, start=start.date(), seed=seed,
                       layout=layout, faults=faults, timezone=timezone, compress=compress)
    click.echo(f"wrote {summary['readings_rows']:,} readings for "
               f"{summary['households_with_readings']} households to {summary['out_dir']}")
    click.echo(f"frail throughout: {summary['frail_throughout']}, declining: "
               f"{summary['declining']}; events: {summary['events']}")
    if summary["faults"]:
        click.echo(f"faults: {summary['faults']}")


COMMANDS = [synth]
