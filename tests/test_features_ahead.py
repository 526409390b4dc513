"""The batch look-ahead: results in input order, a bounded number computed ahead, errors raised."""

from __future__ import annotations

import threading
import time

import pytest

from meterrisk.features.ahead import ordered, workers


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_results_come_in_input_order(n):
    def slow_for_early(i):
        time.sleep(0.02 if i % 3 == 0 else 0)  # early items finish last
        return i * i

    assert list(ordered(slow_for_early, range(10), n)) == [(i, i * i) for i in range(10)]


def test_at_most_n_results_wait_ahead_of_the_consumer():
    started, lock = [], threading.Lock()

    def work(i):
        with lock:
            started.append(i)
        return i

    seen_ahead = []
    for item, _ in ordered(work, range(20), 2):
        time.sleep(0.01)  # a slow writer: workers must not run away with the whole input
        with lock:
            seen_ahead.append(len(started) - (item + 1))
    assert max(seen_ahead) <= 2


def test_an_error_in_a_worker_is_raised_and_stops_the_rest():
    calls = []

    def work(i):
        calls.append(i)
        if i == 3:
            raise ValueError("bad batch 3")
        return i

    with pytest.raises(ValueError, match="bad batch 3"):
        for _ in ordered(work, range(50), 2):
            time.sleep(0.005)
    assert len(calls) < 50


def test_worker_count_from_the_environment(monkeypatch):
    monkeypatch.setenv("METERRISK_FEATURE_THREADS", "0")
    assert workers() == 0
    monkeypatch.delenv("METERRISK_FEATURE_THREADS")
    assert 1 <= workers() <= 2
