"""``meterrisk alerts``: same-day inactivity alerts against each home's own usual day."""

from __future__ import annotations

import click

from meterrisk import store
from meterrisk.cli._options import db_option


@click.command("alerts")
@db_option
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Local date to check [default: the last day most households covered: "
                   "80% of its half hours for half of the recently active homes].")
@click.option("--from", "first", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Backfill: check every local date from this one to --to, in one process.")
@click.option("--to", "last", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last date of a --from backfill (inclusive).")
@click.option("--absence-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="CSV of known absences (household_id, start_date, end_date[, note]) to load first.")
@click.option("--rules", type=click.Choice(["standard", "clock-time"]), default="standard", show_default=True,
              help="clock-time: judge still spells against this home's usual spells at that time of day; "
                   "catches collapses sooner, alerts more often (docs/alerts.md).")
@click.option("--history-days", type=click.IntRange(14, 365), default=None,
              help="Days of each home's own history a day is judged against "
                   "[default: 84 for the standard rules, 28 for clock-time].")
@click.option("--show/--no-show", default=True, show_default=True, help="Print the alerts.")
def alerts(db, day, first, last, absence_file, rules, history_days, show):
    """Check a day for inactivity: no activity after the usual wake-up, a still spell longer
    than this home's usual ones in the last 12 weeks, or a load stuck on. Writes the ``alerts``
    table (re-running a date replaces its alerts). Registered absences suppress alerts.

    Electricity alone cannot tell "out" from "collapsed": an alert asks for a call, not an ambulance.

    \b
    Examples:
      meterrisk alerts --date 2025-07-31
      meterrisk alerts --absence-file absences.csv --date 2025-07-31
      meterrisk alerts --rules clock-time
      meterrisk alerts --from 2025-01-01 --to 2025-07-31 --no-show
    """
    from datetime import timedelta

    from meterrisk.alerts.detector import RULES
    from meterrisk.alerts.service import latest_date, load_absences, run_alerts
    from meterrisk.errors import MeterriskError

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
        if first is not None:
            dates = [first.date() + timedelta(days=i) for i in range((last - first).days + 1)]
        else:
            dates = [day.date() if day else latest_date(con)]
        params = RULES[rules](**({} if history_days is None else {"history_days": history_days}))
        total = 0
        for d in dates:  # one process, one connection: a backfill is a loop, not a process per day
            s = run_alerts(con, d, params=params)
            total += s["alerts"]
            click.echo(f"{s['date']}: {s['households_checked']} households checked, {s['alerts']} alerts "
                       f"{s['by_kind']}; {s['suppressed_by_absence']} suppressed by a known absence")
            if show and s["alerts"]:
                for hid, kind, sev, at, msg in con.execute(
                    "SELECT h.pseudonym, a.kind, a.severity, a.detected_at, a.message FROM alerts a "
                    "JOIN households h USING (household_id) WHERE a.local_date = ? ORDER BY a.detected_at", [d]
                ).fetchall():
                    click.echo(f"  {at:%H:%M} {sev:6s} {hid} {kind}: {msg}")
        if len(dates) > 1:
            click.echo(f"{len(dates)} days, {dates[0]} to {dates[-1]}: {total} alerts")
    finally:
        con.close()


COMMANDS = [alerts]
