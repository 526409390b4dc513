"""``meterrisk ingest`` and ``meterrisk households``."""

from __future__ import annotations

import sys

import click

from meterrisk import config, ingest, store
from meterrisk.cli._options import create_option, db_option
from meterrisk.consent.files_side import finish_withdrawals, forget_outside_store
from meterrisk.progress import step


@click.command("ingest")
@db_option
@click.option("--profile", "profile_spec", default="default", show_default=True,
              help=f"Source profile: a shipped name ({', '.join(ingest.builtin_names())}) or a .toml file.")
@click.option("--timezone", default=None,
              help="Zone of naive timestamps (overrides the profile; the store's own zone is set by `households`).")
@click.option("--encoding", default=None, help="Text encoding, e.g. utf-8 or cp932 (overrides the profile).")
@click.option("--unit", type=click.Choice(["kWh", "Wh"]), default=None, help="Unit of the values (overrides the profile).")
@click.option("--max-kwh", "max_kwh_per_slot", type=float, default=None,
              help="Plausible maximum kWh per half hour (overrides the profile).")
@click.option("--replace", is_flag=True,
              help="Replace an earlier version of the same delivery (same path relative to the folder "
                   "given, or the same file) instead of keeping its stored values.")
@click.option("--progress", is_flag=True, help="Report rows read after each chunk of a big file (on stderr).")
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
def ingest_cmd(db, profile_spec, timezone, encoding, unit, max_kwh_per_slot, replace, progress, inputs):
    """Load smart-meter readings (CSV, CSV.gz or Parquet files, or folders of them).

    Each file loads in one transaction; the same file twice changes nothing. Prints one
    line per file and exits 1 if anything was quarantined or a file failed.

    \b
    Examples:
      meterrisk ingest data/synthetic/sample/readings
      meterrisk ingest --profile lcl ../shared/data/real/lcl_london_100hh_2013/halfhourly
      meterrisk ingest --profile my_utility.toml --encoding cp932 export.csv
    """
    profile = ingest.load_profile(profile_spec).with_overrides(
        timezone=timezone, encoding=encoding, unit=unit, max_kwh_per_slot=max_kwh_per_slot)
    files = ingest.expand_inputs(inputs)  # a missing input is the error, before any store is touched
    # Never creates: readings need the registry's consent, so `meterrisk households` comes first.
    con = store.connect(db, create=False)
    try:
        profile.check_store_zone(store.setting(con, "timezone"))
        done = 0
        with step(f"ingesting {len(files)} file{'s' if len(files) != 1 else ''}", total=len(files)) as shown:

            def report(result: ingest.FileResult) -> None:  # one line per file doubles as progress
                nonlocal done
                done += 1
                shown.advance()
                with shown.paused():
                    click.echo(f"[{done}/{len(files)}] {result.status}: {result.path}: {result.message}")

            def chunk(path, rows: int) -> None:
                shown.describe(f"{path.name}: {rows:,} rows read")
                if progress:
                    with shown.paused():
                        click.echo(f"  {path.name}: {rows} rows read (uncommitted)", err=True)

            results = ingest.ingest_paths(con, files, profile, replace=replace, on_file=report, on_chunk=chunk)
    finally:
        con.close()
    totals = {k: sum(getattr(r, k) for r in results) for k in
              ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_rejected_consent")}
    failed = sum(r.status == "failed" for r in results)
    click.echo(f"{len(results)} files ({failed} failed): {totals['rows_read']} rows read, "
               f"{totals['rows_loaded']} loaded, {totals['rows_quarantined']} quarantined, "
               f"{totals['rows_duplicate']} duplicate, {totals['rows_rejected_consent']} rejected for consent")
    if any(r.needs_attention for r in results):
        click.echo("see: meterrisk sql \"SELECT reason_code, count(*) FROM quarantine GROUP BY ALL\"", err=True)
        sys.exit(1)


@click.command("households")
@db_option
@click.option("--timezone", default=None,
              help="Local time zone of a NEW store [default: METERRISK_TZ, else Asia/Tokyo]. An existing "
                   "store keeps the zone it was created with; asking for another is an error.")
@click.argument("registry", type=click.Path(exists=True, dir_okay=False))
def households_cmd(db, timezone, registry):
    """Load or update the household registry (consent, age, living alone, solar).

    Columns: household_id, birth_year, lives_alone, consent_given_on,
    consent_withdrawn_on, care_certified, has_solar, district. Readings outside a
    household's consent are deleted. A row whose withdrawal date has come purges that
    household as `meterrisk withdraw` does; a withdrawn household comes back only with a
    consent_given_on later than its withdrawal. Prints what it kept and why. Creates the
    store if there is none at --db (the registry comes first: other commands refuse a
    missing store); its local time zone is fixed then (--timezone).

    \b
    Examples:
      meterrisk households data/synthetic/sample/households.csv
      meterrisk households --db sydney.duckdb --timezone Australia/Sydney households.csv
    """
    con = store.connect(db, timezone=timezone, create=True)
    try:
        result = ingest.load_registry(con, registry)
        outside = forget_outside_store(con, config.db_path(db), result.withdrawn)
        if outside:
            finish_withdrawals(con, config.db_path(db))
    finally:
        con.close()
    for line in registry_report(result):
        click.echo(line)
    for done in outside:
        for line in done.lines():
            click.echo(f"  {line}")


def registry_report(result: ingest.RegistryResult) -> list[str]:
    """What a registry load did, in counts and pseudonyms (never registry ids)."""
    extra = "".join(f", {n} {what}" for n, what in (
        (len(result.withdrawn), "withdrawn and purged"), (len(result.kept_withdrawn), "kept withdrawn")) if n)
    lines = [f"{result.path}: {result.households} households ({result.inserted} new, {result.updated} updated"
             f"{extra}); {result.readings_purged} readings deleted for lack of consent"]
    for w in result.withdrawn:
        lines.append(f"  withdrawn and purged: {w.summary()}")
    for k in result.kept_withdrawn:
        lines.append(f"  kept withdrawn: {k.pseudonym} withdrew on {k.withdrawn_on} and its row gives no consent "
                     "after that (row skipped)")
    for p in result.reconsented:
        lines.append(f"  consented again after a withdrawal: new record {p}")
    for k in result.withdrawal_date_kept:
        lines.append(f"  withdrawal date kept: {k.pseudonym} withdraws on {k.withdrawn_on} "
                     "(the row leaves it empty and gives no later consent)")
    return lines


@click.command("temperature")
@db_option
@create_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def temperature_cmd(db, create, file):
    """Load daily outdoor temperatures (CSV: date, mean_temp_c) for weather-normalised features.

    \b
    Example:
      meterrisk temperature data/synthetic/sample/temperature.csv
    """
    con = store.connect(db, create=create)
    try:
        n = ingest.load_temperature(con, file)
    finally:
        con.close()
    click.echo(f"{file}: {n} days of temperature loaded")


COMMANDS = [ingest_cmd, households_cmd, temperature_cmd]
