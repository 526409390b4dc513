"""Where a flow reads and writes: one folder layout, overridable per run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from meterrisk import config


@dataclass(frozen=True)
class Workspace:
    """The store and the folders around it.

    ``inbox``: utility files waiting to be ingested; ``archive``: ingested files by date;
    ``failed``: files that could not be read (fix and drop them into the inbox again);
    ``exports``: risk lists for care staff; ``models``: versioned models.
    """

    db: Path
    inbox: Path
    archive: Path
    failed: Path
    exports: Path
    models: Path

    @classmethod
    def default(cls, db: str | Path | None = None, *, data_dir: str | Path = "data",
                models_dir: str | Path = "models") -> "Workspace":
        data = Path(data_dir)
        return cls(db=config.db_path(db), inbox=data / "inbox", archive=data / "archive",
                   failed=data / "inbox" / "failed", exports=data / "exports", models=Path(models_dir))

    def ensure(self, *, create_store: bool = False) -> "Workspace":
        """Make the folders, once the store is known to be there (StoreMissingError otherwise,
        before anything is made) unless ``create_store``: only the demo starts a new store."""
        from meterrisk import store

        store.require_store(self.db, create=create_store)
        for folder in (self.inbox, self.archive, self.failed, self.exports, self.models, self.db.parent):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def marks_run(fn):
    """Mark the store as mid-run while the flow body runs, so ``meterrisk sql`` reads the
    published snapshot meanwhile (see meterrisk/store/snapshot.py). Nested flows are no-ops.

    Every flow carries this, so it is also where a flow makes its files owner-only (a flow run
    by a Prefect worker never passes through the ``meterrisk`` command that does it), and where
    it records this process on the flow run (:func:`pipelines.server.claim_flow_run`)."""
    import functools
    import inspect

    from meterrisk.files import owner_only_umask
    from meterrisk.store.snapshot import marking_run

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from pipelines.server import claim_flow_run

        owner_only_umask()
        claim_flow_run()  # so the next start can tell this run crashed if this process is killed
        bound = signature.bind_partial(*args, **kwargs)
        db = bound.arguments.get("db")
        if db is None and "data_dir" in bound.arguments:
            db = Path(bound.arguments["data_dir"]) / "meterrisk.duckdb"
        db = Workspace.default(db).db
        if not db.exists():  # nothing a reader could see yet; the body makes the store or refuses
            return fn(*args, **kwargs)
        with marking_run(db):
            return fn(*args, **kwargs)

    # Prefect validates parameters against the annotations, resolving string ones (this
    # package uses postponed annotations) in the wrapper's module, which lacks e.g. ``date``:
    # hand it the flow's signature with the annotations already evaluated.
    wrapper.__signature__ = inspect.signature(fn, eval_str=True)
    return wrapper
