"""``meterrisk withdraw``: a resident withdraws consent, and the store forgets them."""

from __future__ import annotations

import click

from meterrisk import store
from meterrisk.cli._options import db_option


@click.command("withdraw")
@db_option
@click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day consent ended [default: today]. Everything is purged either way.")
@click.option("--keep-archives", is_flag=True, envvar="METERRISK_IMMUTABLE_ARCHIVE", show_envvar=True,
              help="The town keeps delivered files immutable: list the archived files that hold the "
                   "household instead of rewriting them.")
@click.argument("household_id")
def withdraw_cmd(db, on, keep_archives, household_id):
    """Withdraw HOUSEHOLD_ID's consent and delete everything the store holds about it.

    In one transaction: readings, quarantined lines, features, profiles, scores, alerts,
    assessments, absences and the registry row go; ingest records that named it are
    redacted; an audit row in `withdrawals` keeps the pseudonym, the date and the rows
    deleted per table. Then its lines leave the archived delivered files (or, with
    --keep-archives, those files are listed), its rows leave the export copies (listed:
    copies handed out are the town's to recall), Prefect's records are redacted and the
    analyst snapshot is published again. A later registry load brings the household back only with a
    consent_given_on after the withdrawal. Prints counts and the pseudonym, not the id.

    \b
    Example:
      meterrisk withdraw H00042 --on 2025-06-30
    """
    from meterrisk import config
    from meterrisk.consent import withdraw
    from meterrisk.consent.files_side import erase_outside_store, finish_withdrawals

    con = store.connect(db, create=False)
    try:
        report = withdraw(con, household_id, on=on.date() if on else None)
        outside = erase_outside_store(con, config.db_path(db), report, immutable_archive=keep_archives)
        snapshot = finish_withdrawals(con, config.db_path(db))
    finally:
        con.close()
    click.echo(report.summary())
    for line in outside.lines():
        click.echo(line)
    click.echo(f"snapshot republished and store rewritten: {snapshot}")
    whole = sum(f.only_this_household for f in report.files)
    if report.files:
        click.echo(f"ingest files involved: {len(report.files)} (file ids "
                   f"{', '.join(str(f.file_id) for f in report.files)}; {whole} with only this household's data)")


COMMANDS = [withdraw_cmd]
