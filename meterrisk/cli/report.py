"""``meterrisk report``: the monthly list and a page of charts per flagged household, as HTML."""

from __future__ import annotations

import time

import click

from meterrisk.cli._options import db_option
from meterrisk.progress import step

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command("report")
@db_option
@click.option("--as-of", "as_of", required=True, type=_DATE, help="Date of the risk list (local, YYYY-MM-DD).")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder that receives index.html and households/<pseudonym>.html.")
@click.option("--household", default=None, metavar="PSEUDONYM",
              help="Write only this household's page (its pseudonym, as on the list).")
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True,
              help="Language of the labels (ja: charts need a CJK font, e.g. Debian fonts-noto-cjk).")
@click.option("--model-version", default=None, help="The list of this model version [default: the promoted one].")
def report(db, as_of, out, household, lang, model_version):
    """Write a self-contained HTML report of the risk list of --as-of.

    index.html holds the tier counts and the list (consenting households only, with reasons
    and district); each high-tier or new-concern household gets a page with a heatmap of its
    half-hourly use over 12 weeks, the trends behind its reasons and the data's caveats. The
    files open with no network (charts are inline SVG). Reads the store read-only.

    \b
    Example:
      meterrisk report --as-of 2026-02-09 --out data/exports/report_2026-02-09
      meterrisk report --as-of 2026-02-09 --out /tmp/one --household P3F0A1B2C3D4E5F6
    """
    from meterrisk import store
    from meterrisk.report import write_report

    started = time.perf_counter()
    con = store.read_only(db)
    try:
        with step(f"writing the report of {as_of:%Y-%m-%d}"):
            written = write_report(con, as_of.date(), out, household=household, lang=lang,
                                   model_version=model_version)
    finally:
        con.close()
    for w in written.warnings:
        click.echo(f"warning: {w}", err=True)
    where = written.index if written.index is not None else written.pages[0]
    click.echo(f"report {as_of:%Y-%m-%d}: {written.listed} households listed, {len(written.pages)} household "
               f"pages -> {where} ({time.perf_counter() - started:.1f} s)")


COMMANDS = [report]
