"""Options shared by every command."""

from __future__ import annotations

import click

db_option = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="METERRISK_DB",
    show_envvar=True,
    help="DuckDB store file [default: data/meterrisk.duckdb].",
)
