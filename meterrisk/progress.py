"""Progress on a terminal; silent in logs, pipes and CI (``CI`` set).

Two kinds: :func:`stage` prints ``[2/6] ...`` lines for the flows' stages (``demo``, ``run``),
and :func:`step` shows a live spinner or bar with the elapsed time while one long CLI step runs
(``ingest``, ``features``, ``train``, ``score``, ``report``), erased when it ends so only the
command's own summary stays.

Here rather than in ``pipelines``, whose import configures Prefect (and makes data/prefect in
the working folder): ``meterrisk features`` must not. rich is already installed as a dependency
of Prefect, so this adds no package."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def _isatty(stream) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def shown(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return _isatty(stream) and not os.environ.get("CI")


def watched(err: TextIO | None = None, out: TextIO | None = None) -> bool:
    """A person at a terminal, and no program reading the output: stderr and stdout are both
    terminals and ``CI`` is unset. A live display on stderr while stdout goes to a file or a
    pipe would be drawn for nobody (and ``meterrisk ... | jq`` must get only its data)."""
    return shown(err or sys.stderr) and _isatty(out or sys.stdout)


def stage(step: int, of: int, what: str, stream: TextIO | None = None) -> None:
    """``[2/6] ingest and daily job`` on stderr, only when a person is watching."""
    stream = stream or sys.stderr
    if not shown(stream):
        return
    from rich.console import Console

    Console(file=stream, highlight=False).print(f"[bold][{step}/{of}][/bold] {what}")


class Step:
    """What a command tells the display of a running step; does nothing off a terminal."""

    def __init__(self, progress=None, task=None):
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def describe(self, what: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=what)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Take the display off the screen while the block writes to stdout (a result line),
        then draw it again below. (rich can redirect stdout, but click writes to the binary
        buffer beneath and its lines landed on the bar's line.)"""
        if self._progress is None:
            yield
            return
        self._progress.stop()
        try:
            yield
        finally:
            sys.stdout.flush()
            self._progress.start()


@contextmanager
def step(what: str, *, total: int | None = None, err: TextIO | None = None,
         out: TextIO | None = None) -> Iterator[Step]:
    """A spinner (or, with ``total``, a bar of done/total) and the elapsed time on stderr while
    the block runs, when :func:`watched`. Write stdout lines meanwhile inside ``paused()``."""
    err, out = err or sys.stderr, out or sys.stdout
    if not watched(err, out):
        yield Step()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(file=err, highlight=False), transient=True,
                  redirect_stdout=False, redirect_stderr=False) as progress:
        yield Step(progress, progress.add_task(what, total=total))
