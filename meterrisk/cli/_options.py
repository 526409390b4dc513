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

create_option = click.option(
    "--create",
    is_flag=True,
    help="Create the store if there is none at --db. Without it a missing store is an error, "
         "so a mistyped path never starts an empty one (`meterrisk households` always may).",
)
