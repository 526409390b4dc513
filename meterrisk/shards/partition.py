"""Which shard a household belongs to.

The key is the household's pseudonym (random, drawn at registration), never the registry id,
so a shard's number says nothing about who is in it. The hash is SHA-256, not Python's
``hash()`` (salted per process): every machine and every run puts a household in the same
shard. A re-consented household has a new pseudonym and may land in another shard; its old
record was purged everywhere at the withdrawal.
"""

from __future__ import annotations

import hashlib

import polars as pl


def shard_of(pseudonym: str, shards: int) -> int:
    """0 .. shards-1 for ``pseudonym``: the first 8 bytes of its SHA-256, modulo ``shards``."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}")
    return int.from_bytes(hashlib.sha256(pseudonym.encode("utf-8")).digest()[:8], "big") % shards


def assign(households: pl.DataFrame, shards: int) -> pl.DataFrame:
    """``households`` (with a ``pseudonym`` column) with a ``shard`` column added."""
    return households.with_columns(
        shard=pl.col("pseudonym").map_elements(lambda p: shard_of(p, shards), return_dtype=pl.Int32))
