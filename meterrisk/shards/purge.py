"""A withdrawal reaches the shards: the household's rows leave every shard store, the store
files are rewritten (DuckDB leaves deleted rows' bytes in free blocks), and transfer folders a
run left behind (a run killed between split and gather) are deleted, since they hold
readings; the next run sends its changes again.

A shard store that cannot be opened (a run holds it) is reported as a problem; the next run
drops the household there anyway, because it sends only the registry's consenting households
and a shard deletes every row of anyone else (:func:`meterrisk.shards.worker.apply_inputs`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

from meterrisk import store
from meterrisk.shards import layout


@dataclass
class ShardErasure:
    stores_rewritten: list[str] = field(default_factory=list)  # shard folders, e.g. "shard=2"
    rows_deleted: int = 0
    transfer_runs_deleted: int = 0
    problems: list[str] = field(default_factory=list)


def erase_from_shards(db: str | os.PathLike, household_id: str) -> ShardErasure:
    from meterrisk.consent.purge import household_tables
    from meterrisk.store.compact import rewrite_store

    root = layout.shards_root(db)
    result = ShardErasure()
    for path in layout.shard_stores(root):
        try:
            con = store.connect(path, create=False, wait_seconds=5)
        except Exception as exc:  # noqa: BLE001 - one busy shard must not stop the rest
            result.problems.append(f"shard store {path.parent.name} could not be opened ({type(exc).__name__}); "
                                   "the next sharded run removes the household there")
            continue
        deleted = 0
        try:
            with store.transaction(con):
                for table in household_tables(con):
                    deleted += con.execute(f"DELETE FROM {table} WHERE household_id = ?",
                                           [household_id]).fetchall()[0][0]
        except BaseException:
            con.close()
            raise
        if deleted:
            rewrite_store(con, path)  # closes con
            result.stores_rewritten.append(path.parent.name)
            result.rows_deleted += deleted
        else:
            con.close()
    transfers = layout.transfer_root(root)
    if transfers.is_dir():
        for run in sorted(transfers.iterdir()):
            shutil.rmtree(run, ignore_errors=True)
            result.transfer_runs_deleted += 1
    return result
