"""Compute the next batches on worker threads while the current one is written.

Batches are independent, and numpy, Polars and DuckDB release the GIL in their heavy loops,
so on a multi-core machine loading and computing batch n+1 overlaps computing batch n+2
and writing batch n. At most ``workers`` results wait in memory, which bounds peak memory
at about (workers + 1) batches.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def workers() -> int:
    """Worker threads: METERRISK_FEATURE_THREADS, default min(2, CPU count); 0 = no threads."""
    raw = os.environ.get("METERRISK_FEATURE_THREADS")
    return int(raw) if raw else min(2, os.cpu_count() or 1)


def ordered(fn: Callable[[T], R], items: Iterable[T], n_workers: int | None = None) -> Iterator[tuple[T, R]]:
    """(item, fn(item)) in input order, with up to ``n_workers`` items computed ahead."""
    n = workers() if n_workers is None else n_workers
    if n <= 0:
        for item in items:
            yield item, fn(item)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="meterrisk-features") as pool:
        pending: deque = deque()
        try:
            for item in items:
                pending.append((item, pool.submit(fn, item)))
                if len(pending) > n:
                    head, future = pending.popleft()
                    yield head, future.result()
            while pending:
                head, future = pending.popleft()
                yield head, future.result()
        finally:
            for _, future in pending:  # an error or an early stop: do not start the rest
                future.cancel()
