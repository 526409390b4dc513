"""Which shard a household is in: by its pseudonym, the same on every machine and run."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from meterrisk.shards.partition import assign, shard_of


def test_shard_of_is_fixed_by_the_pseudonym_alone():
    # Fixed values: a change of hash or byte order would move every household to another
    # shard store, so it must show up here.
    # (first 8 bytes of SHA-256, big-endian, mod 8: `printf %s P0123456789abcde | sha256sum`)
    assert [shard_of(p, 8) for p in ("P0123456789abcde", "P0000000000000000", "Pfffffffffffffff")] == [0, 3, 1]


def test_shard_of_does_not_depend_on_the_process():
    """Not Python's hash(): another interpreter (another PYTHONHASHSEED) agrees."""
    code = "from meterrisk.shards.partition import shard_of; print([shard_of(f'P{i:015x}', 7) for i in range(50)])"
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": ""} | _pythonpath()).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and outs.pop().strip() == str([shard_of(f"P{i:015x}", 7) for i in range(50)])


def _pythonpath() -> dict:
    import os

    return {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}


def test_households_spread_over_every_shard():
    df = assign(pl.DataFrame({"household_id": [f"H{i}" for i in range(4000)],
                              "pseudonym": [f"P{i * 7919:015x}" for i in range(4000)]}), 4)
    counts = df.group_by("shard").len()["len"].to_list()
    assert len(counts) == 4 and min(counts) > 900


def test_shard_count_must_be_positive():
    with pytest.raises(ValueError):
        shard_of("P0", 0)
