"""How many threads the model's OpenMP and BLAS code may use while it fits and predicts.

Why a cap: scikit-learn's boosted trees run every tree level as OpenMP parallel regions, one
thread per CPU by default, ending in barriers. On a shared 2-core machine where other
processes keep the CPUs busy, a thread that has been preempted holds up the barrier while the
others spin for it: a training that takes 9 s on a quiet machine took 75 s beside two busy
loops and up to 549 s for one fit beside other jobs (issue 12; benchmarks/bench_train.py).
So the model code never starts more threads than there are CPUs to spare, and idle OpenMP
workers sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``).

The cap changes speed only, never results: the trees' threads split the work by feature
(each histogram is summed by one thread, in sample order) and by contiguous sample chunks
joined in order, so a model fitted with 1 thread predicts exactly what one fitted with 4
predicts (sklearn 1.9's histogram.pyx / splitting.pyx; tests/test_model_threads.py checks it).

``METERRISK_THREADS=N`` (or ``train(..., threads=N)``) fixes the number; without it the
default is the CPUs this process may run on (``os.sched_getaffinity``) that the 1-minute load
average leaves idle, at least 1 and at most :data:`MAX_DEFAULT_THREADS`.
"""

from __future__ import annotations

import functools
import math
import os

# libgomp reads its wait policy once, when scikit-learn's compiled modules load it, so this
# must run before the first sklearn import: meterrisk/model/__init__.py imports this module
# first. setdefault: an explicit OMP_WAIT_POLICY in the environment still wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from threadpoolctl import threadpool_limits  # noqa: E402 (after the wait policy, on purpose)

from meterrisk.errors import MeterriskError  # noqa: E402

ENV = "METERRISK_THREADS"
#: Beyond this the trees of a town-sized training set (thousands of rows) gain nothing from
#: more threads and the barriers cost more; an explicit setting may still go higher.
MAX_DEFAULT_THREADS = 8


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. under taskset or a cgroup)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def idle_cpus(usable: int, load: float | None) -> int:
    """``usable`` CPUs minus the runnable processes of the last minute, within [1, usable].

    Examples
    --------
    >>> idle_cpus(2, 0.3), idle_cpus(2, 2.7), idle_cpus(8, 3.2), idle_cpus(4, None)
    (2, 1, 5, 4)
    """
    if load is None or not math.isfinite(load):
        return usable
    return max(1, min(usable, round(usable - load)))


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not available on this platform
        return None


def thread_count(threads: int | None = None) -> int:
    """The cap to use: ``threads``, else ``METERRISK_THREADS``, else the idle usable CPUs."""
    if threads is None:
        raw = os.environ.get(ENV, "").strip()
        if raw:
            try:
                threads = int(raw)
            except ValueError:
                raise MeterriskError(f"{ENV}={raw!r} is not a whole number of threads",
                                     hint=f"unset {ENV}, or set it to 1 or more, e.g. {ENV}=2") from None
    if threads is not None:
        if threads < 1:
            raise MeterriskError(f"{threads} threads: the model needs at least 1",
                                 hint=f"pass --threads 1 or more, or unset {ENV}")
        return threads
    return min(MAX_DEFAULT_THREADS, idle_cpus(usable_cpus(), _load_average()))


def limited(threads: int | None = None) -> threadpool_limits:
    """Context manager: OpenMP and BLAS pools capped at :func:`thread_count` inside it.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with limited(1):
    ...     all(p["num_threads"] == 1 for p in threadpool_info())
    True
    """
    return threadpool_limits(limits=thread_count(threads))


def capped(fn):
    """Decorator: run ``fn`` inside :func:`limited` with the default cap (read at each call)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with limited():
            return fn(*args, **kwargs)
    return wrapper
