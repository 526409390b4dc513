"""How many threads the model's OpenMP and BLAS code may use while it fits and predicts.

Why: scikit-learn's boosted trees run every tree level as OpenMP parallel regions ending in
barriers. libgomp's idle workers spin at a barrier before they sleep, so on a shared 2-core
machine a preempted thread holds the others spinning on the cores the busy neighbours need:
one ``meterrisk train`` of 1,000 households took 9 s quiet, 75 s beside two busy loops and
187-194 s beside the other jobs of this machine (user CPU 67-98 s for 9 s of work), and one
5-fold fit 549 s. With ``OMP_WAIT_POLICY=PASSIVE`` (idle workers sleep at once) the CPU time
stays at the quiet figure; the same fit took 16 s with 2 threads beside a matmul loop,
66 s with 1 thread (a single thread gets the smallest share of a busy machine), and
18-20 s either way beside the other jobs alone (issue 12, benchmarks/bench_train.py).
So the default is every CPU this process may use, and the wait policy passive.

The cap changes speed only, never results: the trees' threads split the work by feature
(each histogram is summed by one thread, in sample order) and by contiguous sample chunks
joined in order, so a model fitted with 1 thread predicts exactly what one fitted with 4
predicts (sklearn 1.9's histogram.pyx / splitting.pyx; tests/test_model_threads.py checks it).

``METERRISK_THREADS=N`` (or ``train(..., threads=N)``) fixes the number; without it the
default is the CPUs this process may run on (``os.sched_getaffinity``: taskset, cpusets; not a CPU quota), at
most :data:`MAX_DEFAULT_THREADS`.
"""

from __future__ import annotations

import functools
import os

# libgomp reads its wait policy once, when scikit-learn's compiled modules load it, so this
# must run before the first sklearn import: meterrisk/model/__init__.py imports this module
# first. setdefault: an explicit OMP_WAIT_POLICY in the environment still wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from threadpoolctl import threadpool_limits  # noqa: E402 (after the wait policy, on purpose)

from meterrisk.errors import MeterriskError  # noqa: E402

ENV = "METERRISK_THREADS"
#: A ceiling for big machines, not measured here (2 cores): a town's training set is a few
#: thousand rows, too few to keep many threads busy between barriers. METERRISK_THREADS may
#: go higher.
MAX_DEFAULT_THREADS = 8


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, e.g. under taskset or a cgroup)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def thread_count(threads: int | None = None) -> int:
    """The cap to use: ``threads``, else ``METERRISK_THREADS``, else the usable CPUs (at most 8)."""
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
    return min(MAX_DEFAULT_THREADS, usable_cpus())


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
