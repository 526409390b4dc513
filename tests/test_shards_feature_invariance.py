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
