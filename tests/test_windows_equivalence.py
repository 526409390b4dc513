"""The Polars window engine (meterrisk.features.windows) against the numpy grid engine it
replaced (tests/reference_numpy) through the store: a synthetic cohort and the 100 real London
homes. Every column: counts and flags exact, floats within 1e-9 relative (1e-12 absolute)."""

from __future__ import annotations

import dataclasses as dc
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from conftest import REAL_LCL
from reference_numpy import frame as numpy_reference

from meterrisk import features, store
from meterrisk.features import registry, store_io
from meterrisk.features.windows.frame import window_frame
from meterrisk.features.windows.spans import HISTORY_DAYS
from meterrisk.features.windows.sums import Window

KEY = ["household_id", "as_of"]
RTOL, ATOL = 1e-9, 1e-12


def family_of() -> dict[str, str]:
    """Column -> the registered function (family) that computes it."""
    out = {c.name: c.fn.__name__ if c.window is None else f"circadian {c.fn.__name__}"
           for c in registry.window_columns(Window())}
    return out | {"dq_flag": "dq_flag"}


def compare(got: pl.DataFrame, want: pl.DataFrame) -> dict[str, float]:
    """Assert the frames match; return the largest relative difference per family (over
    reference values above 1e-3)."""
    assert got.columns == want.columns and got.schema == want.schema
    assert got.select(KEY).equals(want.select(KEY))
    worst: dict[str, float] = {}
    families = family_of()
    for c in got.columns[2:]:
        g, w = got[c], want[c]
        assert g.is_null().equals(w.is_null()), (c, g.is_null().sum(), w.is_null().sum())
        if not g.dtype.is_float():
            assert g.equals(w), c
            worst.setdefault(families[c], 0.0)
            continue
        seen = ~g.is_null().to_numpy()
        gv, wv = g.to_numpy()[seen], w.to_numpy()[seen]
        assert np.isfinite(gv).all(), c
        np.testing.assert_allclose(gv, wv, rtol=RTOL, atol=ATOL, err_msg=c)
        # Relative where the reference is clear of 0; near 0 the absolute tolerance decides.
        big = np.abs(wv) > ATOL / RTOL
        rel = np.abs(gv - wv)[big] / np.abs(wv[big])
        f = families[c]
        worst[f] = max(worst.get(f, 0.0), float(rel.max()) if rel.size else 0.0)
    return worst


def check_store(con, requests: pl.DataFrame, every_flag: bool = True) -> dict[str, float]:
    got = window_frame(requests, *store_io.load_window_inputs(con, requests, HISTORY_DAYS))
    want = numpy_reference.window_frame(requests, *numpy_reference.load_window_inputs(con, requests))
    worst = compare(got.sort(KEY), want.sort(KEY))
    if every_flag:  # the requests reach each gating case
        assert set(got["dq_flag"]) == {"ok", "no_baseline", "insufficient_data"}
    return worst


# ------------------------------------------------------------------ synthetic cohort

@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    synth = pytest.importorskip("meterrisk.synth")
    ingest = pytest.importorskip("meterrisk.ingest")
    out = tmp_path_factory.mktemp("synth_windows")
    p = synth.SynthParams()
    p = dc.replace(p, frailty=dc.replace(p.frailty, decline_rate_per_year=(3.0, 3.0, 3.0, 3.0),
                                         decline_to_frail_days=(40.0, 60.0)))
    start, n_days = date(2025, 1, 1), 120
    synth.generate(out / "cohort", households=60, days=n_days, start=start, seed=5, params=p)
    con = store.connect(out / "s.duckdb")
    ingest.load_registry(con, out / "cohort" / "households.csv")
    ingest.ingest_paths(con, [out / "cohort" / "readings"], ingest.load_profile("default"))
    features.compute(con, as_of=None)
    yield con, start, n_days
    con.close()


def test_synthetic_cohort_windows_equal_the_numpy_engine(cohort):
    con, start, n_days = cohort
    households = store.frame(con, "SELECT DISTINCT household_id FROM daily_features")["household_id"]
    as_ofs = [start + timedelta(days=d) for d in (15, 30, 50, 83, 84, 101, n_days - 1)]
    requests = pl.DataFrame([(h, a) for h in households for a in as_ofs], schema=KEY, orient="row")
    worst = check_store(con, requests)
    print("synthetic", worst)


# ------------------------------------------------------------------ 100 London homes

FILES = sorted((REAL_LCL / "halfhourly").glob("*.csv.gz"))


@pytest.mark.realdata
@pytest.mark.skipif(not FILES, reason=f"real data not present at {REAL_LCL}")
def test_london_homes_windows_equal_the_numpy_engine(tmp_path):
    from test_features_realdata import load_lcl
    from test_features_support import store_readings

    con = store.connect(tmp_path / "s.duckdb", timezone="Europe/London")
    store_readings(con, pl.concat([load_lcl(f) for f in FILES]))
    features.compute(con, as_of=None)
    span = store.frame(con, "SELECT min(local_date) AS lo, max(local_date) AS hi FROM daily_features")
    lo, hi = span["lo"][0], span["hi"][0]
    as_ofs = [lo + timedelta(days=d) for d in range(20, (hi - lo).days + 1, 30)]
    households = store.frame(con, "SELECT DISTINCT household_id FROM daily_features")["household_id"]
    requests = pl.DataFrame([(h, a) for h in households for a in as_ofs], schema=KEY, orient="row")
    worst = check_store(con, requests)
    print("london", len(households), "homes", requests.height, "windows", worst)
    # Two as_of dates far apart: two dense segments, two disjoint read ranges.
    far = pl.DataFrame([(h, a) for h in households[:20] for a in (as_ofs[2], as_ofs[-1])], schema=KEY, orient="row")
    assert (as_ofs[-1] - as_ofs[2]).days > 2 * HISTORY_DAYS
    check_store(con, far, every_flag=False)
    con.close()
