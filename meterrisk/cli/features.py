"""``meterrisk features``: compute usage-pattern features, or list the catalogue."""

from __future__ import annotations

import click

from meterrisk import store
from meterrisk.cli._options import db_option
from meterrisk.errors import MeterriskError
from meterrisk.progress import step


@click.command("features")
@db_option
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Compute household windows as of this local date [default: the last day most households "
                   "covered: 80% of its half hours for half of the recently active homes].")
@click.option("--full", is_flag=True, help="Recompute everything instead of only what changed.")
@click.option("--list", "list_", is_flag=True, help="Print the feature catalogue and exit.")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Households processed at a time (bounds memory).")
def features(db, as_of, full, list_, batch_size):
    """Compute daily and household-window usage-pattern features.

    Incremental: only household-days whose readings changed since the last run are
    recomputed, with the days and windows that depend on them. Windows are computed as of
    the last local day most households covered (or --as-of) and as of each assessment date.

    \b
    Examples:
      meterrisk features                      # bring features up to date
      meterrisk features --as-of 2025-07-31   # windows as of a scoring date
      meterrisk features --full               # recompute everything
      meterrisk features --list               # name, level, unit, description
    """
    from meterrisk import features as fx

    if list_:
        for row in fx.catalog().iter_rows(named=True):
            click.echo(f"{row['name']}\t{row['level']}\t{row['unit']}\t{row['description']}")
        return
    con = store.connect(db, create=False)
    try:
        n = con.execute("SELECT count(*) FROM readings").fetchall()[0][0]
        if n == 0:
            raise MeterriskError("the store has no readings to compute features from",
                                 hint="load some first: meterrisk ingest DIR")
        with step("computing features: daily rows, then household windows"):
            summary = fx.compute(con, as_of=as_of.date() if as_of else None, full=full,
                                 batch_size=batch_size)
    finally:
        con.close()
    click.echo(
        f"features as of {summary['as_of'] or 'no day (none covered by most households; pass --as-of)'}: "
        f"{summary['households_updated']} households updated, "
        f"{summary['days_recomputed']} household-days recomputed, "
        f"{summary['windows_computed']} windows computed in {summary['seconds']} s"
    )


COMMANDS = [features]
