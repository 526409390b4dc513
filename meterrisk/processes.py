"""Whether a process recorded by pid (in a run marker, on a Prefect flow run) still runs."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie (a zombie has exited; only its entry is left). A
    process of another user counts as alive: we may not signal it, but it is there."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc: existence is all we can tell
        return True
