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
@click.option("--absence-file", type=click.Path(dir_okay=False, exists=True), default=None,
              help="CSV of known absences (household_id, start_date, end_date[, note]) to load first.")
@click.option("--rules", type=click.Choice(["standard", "clock-time"]), default="standard", show_default=True,
              help="clock-time: judge still spells against this home's usual spells at that time of day; "
                   "catches collapses sooner, alerts more often (docs/alerts.md).")
@click.option("--history-days", type=click.IntRange(14, 365), default=None,
              help="Days of each home's own history a day is judged against "
                   "[default: 84 for the standard rules, 28 for clock-time].")
@click.option("--show/--no-show", default=True, show_default=True, help="Print the alerts.")
def alerts(db, day, absence_file, rules, history_days, show):
    """Check a day for inactivity: no activity after the usual wake-up, a still spell longer
    than this home's usual ones in the last 12 weeks, or a load stuck on. Writes the ``alerts``
    table (re-running a date replaces its alerts). Registered absences suppress alerts.

    Electricity alone cannot tell "out" from "collapsed": an alert asks for a call, not an ambulance.

    \b
    Examples:
      meterrisk alerts --date 2025-07-31
      meterrisk alerts --absence-file absences.csv --date 2025-07-31
      meterrisk alerts --rules clock-time
    """
    from meterrisk.alerts.detector import RULES
    from meterrisk.alerts.service import latest_date, load_absences, run_alerts

    con = store.connect(db, create=False)
    try:
        if absence_file:
            n = load_absences(con, absence_file)
            click.echo(f"{absence_file}: {n.read} absences read, {n.loaded} loaded, "
                       f"{n.not_registered} of households not in the registry (not stored)")
        d = day.date() if day else latest_date(con)
        changes = {} if history_days is None else {"history_days": history_days}
        s = run_alerts(con, d, params=RULES[rules](**changes))
        click.echo(f"{s['date']}: {s['households_checked']} households checked, {s['alerts']} alerts "
                   f"{s['by_kind']}; {s['suppressed_by_absence']} suppressed by a known absence")
        if show and s["alerts"]:
            for hid, kind, sev, at, msg in con.execute(
                "SELECT h.pseudonym, a.kind, a.severity, a.detected_at, a.message FROM alerts a "
                "JOIN households h USING (household_id) WHERE a.local_date = ? ORDER BY a.detected_at", [d]
            ).fetchall():
                click.echo(f"  {at:%H:%M} {sev:6s} {hid} {kind}: {msg}")
    finally:
        con.close()


COMMANDS = [alerts]
