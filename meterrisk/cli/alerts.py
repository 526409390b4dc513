"""``meterrisk alerts``: same-day inactivity alerts against each home's own usual day."""

from __future__ import annotations

import click

from meterrisk import store
from meterrisk.cli._options import db_option


@click.group("alerts", invoke_without_command=True)
@db_option
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Local date to check [default: the last day most households covered: "
                   "80% of its half hours for half of the recently active homes].")
@click.option("--from", "first", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Backfill: check every local date from this one to --to, in one process.")
@click.option("--to", "last", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last date of a --from backfill (inclusive).")
@click.option("--now", "now", is_flag=True, default=False,
              help="Intraday: judge today's readings received so far (run it every 30 minutes).")
@click.option("--at", "at", type=click.DateTime(formats=["%Y-%m-%d %H:%M"]), default=None,
              help="Intraday as if run at this local time (replays and tests); implies --now.")
@click.option("--latency-min", type=click.IntRange(0, 720), default=30, show_default=True,
              help="Intraday: readings of a half hour arrive this many minutes after it ends.")
@click.option("--absence-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="CSV of known absences (household_id, start_date, end_date[, note]) to load first.")
@click.option("--rules", type=click.Choice(["standard", "clock-time"]), default="standard", show_default=True,
              help="clock-time: judge still spells against this home's usual spells at that time of day; "
                   "catches collapses sooner, alerts more often (docs/alerts.md).")
@click.option("--history-days", type=click.IntRange(14, 365), default=None,
              help="Days of each home's own history a day is judged against "
                   "[default: 84 for the standard rules, 28 for clock-time].")
@click.option("--show/--no-show", default=True, show_default=True, help="Print the new alert episodes.")
@click.option("--hook", default=None, metavar="COMMAND",
              help="Delivery hook: run COMMAND FILE.json with the new episodes, as the flows do "
                   "[default: METERRISK_ALERT_HOOK]. A --from/--to backfill never calls it.")
@click.option("--no-hook", is_flag=True, default=False, help="Do not call the delivery hook this time.")
@click.pass_context
def alerts(ctx, db, day, first, last, now, at, latency_min, absence_file, rules, history_days, show, hook, no_hook):
    """Check a day for inactivity: no activity after the usual wake-up, a still spell longer
    than this home's usual ones in the last 12 weeks, or a load stuck on. Writes the ``alerts``
    table (re-running a date replaces its alerts) and the episodes (``alert_episodes``: the
    same household and kind on consecutive days is one episode; only new ones are printed).
    Registered absences suppress alerts. A meter outage (exact zeros, a value repeated to
    the last digit) or missing readings are data-quality events (severity ``data``), never
    inactivity.

    New episodes go to the delivery hook (METERRISK_ALERT_HOOK or --hook; docs/alerts.md) as in
    the flows; a failing hook is a warning, never a failed run (the episodes are stored). A
    backfill does not call it: its episodes are history, not news for the duty worker.

    Electricity alone cannot tell "out" from "collapsed": an alert asks for a call, not an ambulance.

    \b
    Examples:
      meterrisk alerts --date 2025-07-31
      meterrisk alerts --absence-file absences.csv --date 2025-07-31
      meterrisk alerts --rules clock-time
      meterrisk alerts --from 2025-01-01 --to 2025-07-31 --no-show
      meterrisk alerts --now
      meterrisk alerts --at "2025-07-31 11:30"
      meterrisk alerts list --open
      meterrisk alerts ack 1a2b3c4d --note "called, she is fine"
    """
    ctx.ensure_object(dict)["db"] = db
    if ctx.invoked_subcommand is not None:
        return
    from datetime import timedelta

    from meterrisk.alerts.detector import RULES
    from meterrisk.alerts.service import latest_date, load_absences, now_local, run_alerts, run_intraday
    from meterrisk.errors import MeterriskError

    intraday = now or at is not None
    if intraday and (day is not None or first is not None):
        raise MeterriskError("--now/--at judge today so far: give them without --date or --from/--to")
    if (first is None) != (last is None):
        raise MeterriskError("--from and --to go together: give both, or neither")
    if first is not None and day is not None:
        raise MeterriskError("give --date for one day, or --from and --to for a range, not both")
    if first is not None and first > last:
        raise MeterriskError(f"--from {first:%Y-%m-%d} is after --to {last:%Y-%m-%d}")
    con = store.connect(db, create=False)
    try:
        if absence_file:
            n = load_absences(con, absence_file)
            click.echo(f"{absence_file}: {n.read} absences read, {n.loaded} loaded, "
                       f"{n.not_registered} of households not in the registry (not stored)")
        params = RULES[rules](**({} if history_days is None else {"history_days": history_days}))
        if intraday:
            s = run_intraday(con, at or now_local(con), params=params, latency_min=latency_min)
            until = f"readings up to {s['judged_until']}" if s["judged_until"] else "no readings of today yet"
            click.echo(f"{s['at']}: {until}; {s['households_checked']} households checked, "
                       f"{len(s['new_episodes'])} new episodes; {s['suppressed_by_absence']} suppressed by a known absence")
            _show_new(con, s["new_episodes"], show)
            if not no_hook:
                _deliver(con, s["new_episodes"], hook)
            return
        if first is not None:
            dates = [first.date() + timedelta(days=i) for i in range((last - first).days + 1)]
        else:
            dates = [day.date() if day else latest_date(con)]
        total = 0
        for d in dates:  # one process, one connection: a backfill is a loop, not a process per day
            s = run_alerts(con, d, params=params)
            total += len(s["new_episodes"])
            data = f", data-quality events {s['data_by_kind']}" if s["data_events"] else ""
            click.echo(f"{s['date']}: {s['households_checked']} households checked, {s['alerts']} alert-days "
                       f"{s['by_kind']}{data}, {len(s['new_episodes'])} new episodes; "
                       f"{s['suppressed_by_absence']} suppressed by a known absence")
            _show_new(con, s["new_episodes"], show)
            if first is None and not no_hook:
                _deliver(con, s["new_episodes"], hook)
        if len(dates) > 1:
            click.echo(f"{len(dates)} days, {dates[0]} to {dates[-1]}: {total} new episodes")
    finally:
        con.close()


def _show_new(con, episodes: list[dict], show: bool) -> None:
    """Print new episodes only (a day that continues an open episode is not news): pseudonyms."""
    if not show or not episodes:
        return
    names = dict(con.execute("SELECT household_id, pseudonym FROM households").fetchall())
    for e in episodes:
        click.echo(f"  {e['started_at']:%Y-%m-%d %H:%M} {e['severity']:6s} {names.get(e['household_id'], '?')} "
                   f"{e['kind']}: {e['message']}")


def _deliver(con, episodes: list[dict], hook: str | None) -> None:
    """The flows' delivery step (meterrisk.alerts.hook); its failure is a warning, not an exit code."""
    from meterrisk.alerts.hook import run_hook

    outcome = run_hook(con, episodes, hook)
    if outcome == "ok":
        click.echo(f"delivery hook: ok ({len(episodes)} new episodes)")
    elif outcome == "failed":
        click.echo(f"warning: delivery hook failed; its {len(episodes)} new episodes stay in the store: "
                   "meterrisk alerts list --open", err=True)


@alerts.command("list")
@click.option("--open", "open_only", is_flag=True, default=False, help="Only open episodes nobody has acknowledged.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Also write them to FILE.csv or FILE.parquet.")
@click.pass_context
def list_cmd(ctx, open_only, out):
    """List alert episodes for the duty worker: episode id (for `ack`), registry id, district,
    kind, since, days, last seen, status and the evidence in words. Meter problems (severity
    ``data``) are listed apart: they are about the meter, not the resident. Only households
    whose consent is in force.

    \b
    Examples:
      meterrisk alerts list --open
      meterrisk alerts list --out episodes.csv
    """
    from meterrisk.alerts.workflow import list_episodes
    from meterrisk.errors import MeterriskError

    if out and not out.endswith((".csv", ".parquet")):
        raise MeterriskError(f"--out {out}: give a .csv or .parquet file")
    con = store.connect(ctx.obj["db"], create=False)
    try:
        df = list_episodes(con, open_only=open_only)
    finally:
        con.close()
    for title, part in (("Alerts about the resident", df.filter(df["severity"] != "data")),
                        ("Meter problems, not the resident", df.filter(df["severity"] == "data"))):
        click.echo(f"{title}: {part.height}")
        for r in part.iter_rows(named=True):
            click.echo(f"  {r['episode_id']}  {r['registry_id']}  {r['district'] or '-'}  {r['kind']} ({r['severity']})  "
                       f"since {r['since']:%Y-%m-%d %H:%M}, {r['days']} d, last seen {r['last_seen']:%Y-%m-%d %H:%M}  "
                       f"{r['status']}: {r['evidence']}")
    if out:
        (df.write_parquet if out.endswith(".parquet") else df.write_csv)(out)
        click.echo(f"{df.height} episodes written to {out}")


@alerts.command("ack")
@click.argument("episode_id")
@click.option("--note", required=True, help="What was done (free text: stored, never logged).")
@click.option("--by", default=None, help="Who acknowledged it.")
@click.pass_context
def ack_cmd(ctx, episode_id, note, by):
    """Acknowledge one alert episode: it leaves the open list (`alerts list --open`, v_alerts_open).

    \b
    Example:
      meterrisk alerts ack 1a2b3c4d --note "called, she is fine" --by "Sato"
    """
    from meterrisk.alerts.workflow import acknowledge

    con = store.connect(ctx.obj["db"], create=False)
    try:
        a = acknowledge(con, episode_id, note, by)
    finally:
        con.close()
    click.echo(f"episode {a['episode_id']} ({a['kind']} since {a['start_date']}) acknowledged")


COMMANDS = [alerts]
