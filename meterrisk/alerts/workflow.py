"""The duty worker's side of alerts: list episodes, acknowledge one (``meterrisk alerts list/ack``).

An episode's id is the first 8 hex digits of md5(household_id/kind/start_date): stable across
the rebuilds of ``alert_episodes`` and short enough to type. It names the registry id only to
whoever holds the store, so it is shown to the duty worker and kept out of the analyst views.
Acknowledging writes ``alert_acks`` (local_date = the episode's start_date); it is the only
write path for care staff. Notes are free text: they are stored, never logged or printed.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from meterrisk.errors import MeterriskError
from meterrisk.store import frame, transaction

EPISODE_ID = "substr(md5(e.household_id || '/' || e.kind || '/' || CAST(e.start_date AS VARCHAR)), 1, 8)"

def episode_id(household_id: str, kind: str, start_date) -> str:
    """The same id as :data:`EPISODE_ID`, in Python (for the delivery hook)."""
    import hashlib

    return hashlib.md5(f"{household_id}/{kind}/{start_date.isoformat()}".encode()).hexdigest()[:8]


_LIST = f"""
SELECT {EPISODE_ID} AS episode_id, e.household_id AS registry_id, h.district, e.kind, e.severity,
       CASE WHEN e.severity = 'data' THEN 'meter problem, not the resident' ELSE 'resident' END AS about,
       e.started_at AS since, e.days, e.last_seen_at AS last_seen,
       CASE WHEN k.household_id IS NOT NULL THEN 'acknowledged' ELSE e.status END AS status,
       k.acked_at, e.message AS evidence
FROM alert_episodes e JOIN households_in_consent h USING (household_id)
LEFT JOIN alert_acks k ON k.household_id = e.household_id AND k.local_date = e.start_date AND k.kind = e.kind
"""


def list_episodes(con, *, open_only: bool = False) -> pl.DataFrame:
    """Episodes of households whose consent is in force; inactivity first, meter problems after,
    newest first within each. ``open_only``: open and not acknowledged."""
    where = "WHERE e.status = 'open' AND k.household_id IS NULL" if open_only else ""
    return frame(con, _LIST + where + " ORDER BY e.severity = 'data', e.started_at DESC, registry_id")


def acknowledge(con, episode_id: str, note: str, by: str | None = None, *, at: datetime | None = None) -> dict:
    """Acknowledge one episode by its id; a one-line error for an unknown id or a second ack."""
    eid = episode_id.strip().lower()
    rows = con.execute(f"""
        SELECT e.household_id, e.kind, e.start_date,
               EXISTS (SELECT 1 FROM alert_acks k WHERE k.household_id = e.household_id
                       AND k.local_date = e.start_date AND k.kind = e.kind)
        FROM alert_episodes e SEMI JOIN households_in_consent h USING (household_id)
        WHERE {EPISODE_ID} = ?""", [eid]).fetchall()
    if not rows:
        raise MeterriskError(f"no alert episode {episode_id!r}", hint="see `meterrisk alerts list`")
    if len(rows) > 1:  # 32-bit ids: a collision is possible in principle, never guessed at
        raise MeterriskError(f"episode id {episode_id!r} is ambiguous ({len(rows)} episodes)")
    hid, kind, start, acked = rows[0]
    if acked:
        raise MeterriskError(f"episode {eid} is already acknowledged")
    with transaction(con):
        con.execute("INSERT INTO alert_acks (household_id, local_date, kind, acked_at, note, acked_by) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [hid, start, kind, at or datetime.now(), note, by])
    return {"episode_id": eid, "kind": kind, "start_date": start}
