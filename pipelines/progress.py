"""Stage-by-stage progress on a terminal; silent in logs, pipes and CI (``CI`` set).

rich is already installed as a dependency of Prefect, so this adds no package."""

from __future__ import annotations

import os
import sys
from typing import TextIO


def shown(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("CI")


def stage(step: int, of: int, what: str, stream: TextIO | None = None) -> None:
    """``[2/6] ingest and daily job`` on stderr, only when a person is watching."""
    stream = stream or sys.stderr
    if not shown(stream):
        return
    from rich.console import Console

    Console(file=stream, highlight=False).print(f"[bold][{step}/{of}][/bold] {what}")
