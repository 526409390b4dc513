"""The thread cap of the model code: how it is chosen, that it applies, that it changes nothing."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from threadpoolctl import threadpool_info

from meterrisk.errors import MeterriskError
from meterrisk.model import threads
from meterrisk.model.pipeline import make_pipeline


def _openmp_threads() -> set[int]:
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "openmp"}


def test_thread_count_argument_then_environment_then_usable_cpus(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    monkeypatch.setattr(threads, "usable_cpus", lambda: 2)
    assert threads.thread_count() == 2
    monkeypatch.setattr(threads, "usable_cpus", lambda: 16)
    assert threads.thread_count() == threads.MAX_DEFAULT_THREADS == 8
    monkeypatch.setenv(threads.ENV, " 3 ")
    assert threads.thread_count() == 3
    assert threads.thread_count(12) == 12  # an explicit number may exceed the default cap


@pytest.mark.parametrize("raw", ["two", "1.5"])
def test_a_bad_environment_value_says_what_to_set(monkeypatch, raw):
    monkeypatch.setenv(threads.ENV, raw)
    with pytest.raises(MeterriskError, match="METERRISK_THREADS=.* is not a whole number"):
        threads.thread_count()


def test_zero_threads_is_refused(monkeypatch):
    monkeypatch.setenv(threads.ENV, "0")
    with pytest.raises(MeterriskError, match="at least 1"):
        threads.thread_count()


def test_usable_cpus_follow_the_affinity_mask(monkeypatch):
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert threads.usable_cpus() == 3


def test_the_cap_applies_inside_and_is_lifted_after():
    before = _openmp_threads()
    assert before, "scikit-learn's OpenMP runtime should be loaded by now"
    with threads.limited(1):
        assert _openmp_threads() == {1}
    assert _openmp_threads() == before


def test_the_wait_policy_is_set_before_sklearn_loads_openmp():
    import os

    assert os.environ["OMP_WAIT_POLICY"]  # PASSIVE unless the environment chose otherwise


def _tiny_problem(seed: int = 3) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 400
    x = rng.normal(size=(n, 6))
    x[rng.random((n, 6)) < 0.05] = np.nan  # missing values take their own branch in the trees
    y = (np.nan_to_num(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) ** 2 + rng.normal(0, 0.7, n) > 0.6).astype(int)
    return pl.DataFrame(x, schema=[f"f{i}" for i in range(6)]), y


def test_predictions_do_not_depend_on_the_thread_cap():
    X, y = _tiny_problem()
    probs = []
    for cap in (1, 2, 4):
        with threads.limited(cap):
            pipe = make_pipeline(random_state=0, cv=3, max_iter=40).fit(X, y)
            probs.append(pipe.predict_proba(X)[:, 1])
    assert np.ptp(probs[0]) > 0.3  # a model that learnt something, not a constant
    np.testing.assert_array_equal(probs[0], probs[1])
    np.testing.assert_array_equal(probs[0], probs[2])


def test_train_fits_inside_the_cap(monkeypatch, tmp_path):
    """``train(threads=1)`` caps every fit, and the cap is lifted when it returns."""
    from datetime import date

    from meterrisk.model import training

    rng = np.random.default_rng(5)
    n = 120  # households, each assessed twice: the split needs earlier and later examples
    frail = rng.random(n) < 0.4
    examples = pl.DataFrame({
        "household_id": [f"h{i:03d}" for i in range(n) for _ in range(2)],
        "as_of": [d for _ in range(n) for d in (date(2024, 6, 1), date(2025, 6, 1))],
        "label": np.repeat(frail.astype(np.int64), 2),
        "age": rng.integers(65, 95, 2 * n).astype(float),
        "active_share": np.repeat(0.5 - 0.2 * frail, 2) + rng.normal(0, 0.05, 2 * n),
    })
    monkeypatch.setattr(training, "build_examples", lambda con, feature_fn=None: examples)
    seen = []
    real = training.make_pipeline

    def recording(**kw):
        pipe = real(**kw)
        fit = pipe.fit

        def fit_and_record(X, y):
            seen.append(_openmp_threads())
            return fit(X, y)
        pipe.fit = fit_and_record
        return pipe

    monkeypatch.setattr(training, "make_pipeline", recording)
    before = _openmp_threads()
    training.train(None, models_dir=tmp_path, cv=2, max_iter=10, threads=1)
    assert seen == [{1}, {1}]  # the split's fit and the refit
    assert _openmp_threads() == before
