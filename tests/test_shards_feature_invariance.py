"""A household's features must not depend on which other households are computed with it:
a shard holds a different set of households than the whole town, and a sharded run must give
the single-process values exactly.

Found by the sharded run (tests/test_dask_sharded.py): ``regularity_corr`` differed in the last
bits (up to 2e-14) between the whole town and a shard, for the same household and the same
inputs. Its row sums ran over (days, 48) arrays in Fortran order, as the engine builds them,
and numpy then reduces each row in an order that depends on where the row sits in the array.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from meterrisk.features.daily.inputs import regularity_norm
from meterrisk.features.daily.regularity import regularity_corr


def _corr(profile: np.ndarray, valid: np.ndarray, pos: np.ndarray) -> np.ndarray:
    # As the engine passes them: a Fortran-ordered profile (Polars' to_numpy of 48 columns)
    # and the norm kernel's column slices.
    profile = np.asfortranarray(profile)
    norm_sum, norm_n, norm_days = regularity_norm(profile, valid, pos)
    return pl.select(regularity_corr(profile.astype(np.float64), norm_sum, norm_n, norm_days)).to_series().to_numpy()


def test_regularity_of_a_household_is_the_same_whoever_is_computed_with_it():
    rng = np.random.default_rng(1)
    days, households = 200, 75
    n = days * households
    profile = rng.choice(np.array([-1, 0, 1], dtype=np.int8), (n, 48), p=[0.1, 0.6, 0.3])
    valid = rng.random(n) > 0.1
    pos = np.arange(n) % days
    town = _corr(profile, valid, pos)
    some = np.concatenate([np.arange(k * days, (k + 1) * days) for k in range(3, households, 3)])  # one shard
    shard = _corr(profile[some], valid[some], pos[some])
    assert np.isfinite(shard).sum() > 1000
    np.testing.assert_array_equal(shard, town[some])


def _daily_rows(household: str, first, n_days: int, rng) -> tuple[pl.DataFrame, pl.DataFrame]:
    from datetime import timedelta

    from meterrisk.features.windows.spans import SUMMARISED

    dates = [first + timedelta(days=i) for i in range(n_days)]
    days = pl.DataFrame({"household_id": household, "local_date": dates,
                         "dq_flag": rng.choice(["ok"] * 9 + ["low_coverage"], n_days).tolist(),
                         **{f: rng.gamma(2.0, 0.7, n_days) + 3.0 for f in SUMMARISED},
                         "temp_c": rng.normal(15, 6, n_days)})
    profiles = pl.DataFrame({"household_id": household, "local_date": dates,
                             "hourly_excess_kwh": rng.gamma(2.0, 0.1, (n_days, 24)).tolist(),
                             "hourly_active_slots": rng.integers(0, 3, (n_days, 24)).astype(float).tolist()}
                            ).with_columns(pl.col("hourly_excess_kwh").cast(pl.Array(pl.Float64, 24)),
                                           pl.col("hourly_active_slots").cast(pl.Array(pl.Float64, 24)))
    return days, profiles


def test_windows_of_a_household_are_the_same_whoever_is_computed_with_it():
    """A window batch pads every household's day grid to its longest member's: the padding
    days (which no window reads) went into the household's centring constant and its
    cumulative sums, so the last bits of a window depended on the batch."""
    from datetime import date, timedelta

    from meterrisk.features.windows.frame import window_frame

    rng = np.random.default_rng(7)
    start, as_of = date(2025, 1, 1), date(2025, 7, 1)
    frames = [_daily_rows(h, start, 190, rng) for h in ("H1", "H2")]
    days = pl.concat([f[0] for f in frames])
    profiles = pl.concat([f[1] for f in frames])
    alone = pl.DataFrame({"household_id": ["H1"], "as_of": [as_of]})
    # H2 also has a questionnaire 80 days earlier: its segment, and so the batch's grid, is longer.
    together = pl.DataFrame({"household_id": ["H1", "H2", "H2"], "as_of": [as_of, as_of, as_of - timedelta(days=80)]})
    one = window_frame(alone, days.filter(pl.col("household_id") == "H1"), profiles.filter(pl.col("household_id") == "H1"))
    both = window_frame(together, days, profiles).filter(pl.col("household_id") == "H1")
    assert one.height == 1 and one["dq_flag"][0] == "ok"
    assert both.equals(one)
