"""Prefect settings for running offline, without a server, inside the project.

Must run before ``prefect`` is imported: Prefect reads its settings at import time.
"""

from __future__ import annotations

import os
from pathlib import Path


def configure_prefect(data_dir: str | os.PathLike = "data") -> None:
    # Telemetry off: these machines have no internet, and a town's data stays in the town.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_HOME", str((Path(data_dir) / "prefect").resolve()))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)  # Prefect's SQLite needs it
    # The temporary server can be slow to start on a busy 2-core machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
