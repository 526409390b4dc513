"""One alert per episode: consecutive days of the same household and kind are one episode.

An episode starts with the first alert of a kind for a household, grows by a day each day the
same rule fires again the next day, and closes once a whole day has passed without it. The
store keeps them in ``alert_episodes`` (:func:`meterrisk.alerts.service.update_episodes`); the
evaluation counts false alerts by episode with the same :func:`group_episodes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

#: Data-quality kinds (severity ``data``): reported beside the inactivity alerts, never as one.
DATA_KINDS = frozenset({"meter_outage", "no_data"})


@dataclass
class Episode:
    household_id: str
    kind: str
    start_date: date
    last_date: date
    days: int           # days on which the rule fired (consecutive)
    first: object       # what started it (an Alert, or a store row)
    last: object        # the latest day's


def group_episodes(rows: Iterable[tuple[str, date, str, object]]) -> list[Episode]:
    """(household_id, local_date, kind, payload) -> episodes, in (household, kind, start) order.

    A day continues an episode when the same household and kind fired the day before."""
    out: list[Episode] = []
    open_: dict[tuple[str, str], Episode] = {}
    for hid, d, kind, payload in sorted(rows, key=lambda r: (r[0], r[2], r[1])):
        e = open_.get((hid, kind))
        if e is not None and d == e.last_date + timedelta(days=1):
            e.last_date, e.days, e.last = d, e.days + 1, payload
        elif e is None or d > e.last_date:
            e = Episode(hid, kind, d, d, 1, payload, payload)
            open_[(hid, kind)] = e
            out.append(e)
    return out


def is_open(e: Episode, last_complete_day: date) -> bool:
    """Open while the condition may still be seen: it was seen on the last complete day (or on
    the day in progress). Closed once a whole day has passed without it."""
    return e.last_date >= last_complete_day
