"""Where the shards keep their files, beside the main store.

``<store folder>/shards/shard=K/meterrisk.duckdb``: shard K's own store (one DuckDB file per
shard: a worker must own the file it writes, and DuckDB has one writer per file);
``<store folder>/shards/transfer/<run>/``: what one run hands the shards (``in/``) and gets
back (``out/``), hive-partitioned Parquet, deleted once the run has gathered it.

On a cluster of several machines this folder must be storage every worker and the machine
starting the run see under the same path (NFS, a cluster file system); docs/scale-out.md.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Tables a shard computes and the main store receives back, in this order.
OUTPUT_TABLES = ("daily_features", "daily_profiles", "feature_state", "household_features",
                 "alerts", "alert_episodes")

#: Main store settings: how many shards the store is split into, and the day-row version
#: every shard has received (changes after it are sent next run).
COUNT_KEY = "shards.count"
VERSION_KEY = "shards.days_version"


def shards_root(db: str | os.PathLike) -> Path:
    """The shards' folder of the store ``db`` (``METERRISK_SHARDS_DIR`` if set)."""
    env = os.environ.get("METERRISK_SHARDS_DIR")
    return Path(env) if env else Path(db).resolve().parent / "shards"


def shard_store(root: Path, shard: int) -> Path:
    return root / f"shard={shard}" / "meterrisk.duckdb"


def shard_stores(root: Path) -> list[Path]:
    """Every shard store under ``root``, whatever shard count made it."""
    return sorted(root.glob("shard=*/meterrisk.duckdb"))


def transfer_root(root: Path) -> Path:
    return root / "transfer"


def inputs_of(run: Path, table: str, shard: int) -> list[Path]:
    """Shard ``shard``'s Parquet files of ``table`` in run folder ``run`` (none: no rows)."""
    return sorted((run / "in" / table / f"shard={shard}").glob("*.parquet"))


def output_of(run: Path, table: str, shard: int) -> Path:
    return run / "out" / table / f"shard={shard}.parquet"
