"""Which failures are worth retrying: transient I/O and a busy store, never bad data."""

from __future__ import annotations

import errno

from meterrisk.errors import MeterriskError
from meterrisk.store import StoreBusyError


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, StoreBusyError):
        return True
    if isinstance(exc, MeterriskError):
        return False
    # A folder this user may not write stays that way: retrying only delays the message.
    if isinstance(exc, PermissionError) or (isinstance(exc, OSError) and exc.errno == errno.EROFS):
        return False
    return isinstance(exc, OSError)


def retry_on_transient_io(task, task_run, state) -> bool:
    """Prefect ``retry_condition_fn``: retry only when the failure was transient."""
    try:
        state.result()
    except BaseException as exc:  # the task's own exception, re-raised by result()
        return is_transient(exc)
    return False
