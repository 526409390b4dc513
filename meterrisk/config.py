"""Where things live and which defaults apply, with environment overrides.

Every command takes ``--db``; without it ``METERRISK_DB`` applies, then the default
``data/meterrisk.duckdb`` relative to the working directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DB = Path("data/meterrisk.duckdb")
DEFAULT_TZ = "Asia/Tokyo"
#: Half-hour energy above this is physically implausible for a home (20 kW sustained).
DEFAULT_MAX_KWH_PER_SLOT = 10.0


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """Resolve the DuckDB store path: argument, then ``METERRISK_DB``, then the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("METERRISK_DB")
    return Path(env) if env else DEFAULT_DB


def local_timezone(explicit: str | None = None) -> str:
    """The zone that defines local dates and slots: argument, ``METERRISK_TZ``, Asia/Tokyo."""
    return explicit or os.environ.get("METERRISK_TZ") or DEFAULT_TZ


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True
