"""Delivery hook: hand the NEW episodes of an alerts run to a command of the town's choosing.

``METERRISK_ALERT_HOOK`` (or the flows' ``hook`` parameter) names an executable; it is run as
``HOOK FILE.json`` with the run's new episodes, time-limited (``METERRISK_ALERT_HOOK_TIMEOUT``
seconds, default 60). The file carries the registry id: the duty worker who receives it has to
find the resident, and a pseudonym would send them back to the store. It is written owner-only
and removed after the hook returns. A failing or slow hook is logged (exit code only, no
personal data) and never fails the run: the episodes are already committed in the store.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def run_hook(con, episodes: list[dict], command: str | None = None, *, timeout: float | None = None) -> str:
    """Run the hook with ``episodes``; return 'none' (no hook or nothing new), 'ok' or 'failed'."""
    from meterrisk.alerts.workflow import episode_id

    command = command or os.environ.get("METERRISK_ALERT_HOOK") or None
    if not command or not episodes:
        return "none"
    timeout = timeout or float(os.environ.get("METERRISK_ALERT_HOOK_TIMEOUT", "60"))
    districts = dict(con.execute("SELECT household_id, district FROM households").fetchall())
    rows = [{"episode_id": episode_id(e["household_id"], e["kind"], e["start_date"]),
             "registry_id": e["household_id"], "district": districts.get(e["household_id"]),
             "kind": e["kind"], "severity": e["severity"],
             "meter_problem": e["severity"] == "data", "since": e["started_at"].isoformat(sep=" "),
             "days": e["days"], "evidence": e["message"]} for e in episodes]
    fd, path = tempfile.mkstemp(prefix="meterrisk-alerts-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump({"episodes": rows}, f, ensure_ascii=False, indent=1)
        try:
            r = subprocess.run([command, path], timeout=timeout, capture_output=True)
        except subprocess.TimeoutExpired:
            log.warning("alert hook timed out after %ss; %d new episodes stay in the store", timeout, len(rows))
            return "failed"
        except OSError as e:
            log.warning("alert hook could not start (%s); %d new episodes stay in the store", type(e).__name__, len(rows))
            return "failed"
        if r.returncode != 0:
            log.warning("alert hook exited %d; %d new episodes stay in the store", r.returncode, len(rows))
            return "failed"
        return "ok"
    finally:
        Path(path).unlink(missing_ok=True)
