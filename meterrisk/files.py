"""File helpers shared by stages."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: Data files are the owner's alone: 0600 files, 0700 folders, whatever the login umask.
OWNER_ONLY_UMASK = 0o077


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (files can be larger than memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def owner_only_umask() -> None:
    """Create every file and folder of this process owner-only from now on.

    Called where a process starts working on data (the CLI, each flow), so the store, the
    snapshot, models, exports and query output never appear readable by others, not even
    for a moment. Files moved or copied with their old mode still need :func:`owner_only`.
    """
    os.umask(OWNER_ONLY_UMASK)


def owner_only(path: str | os.PathLike) -> Path:
    """chmod ``path`` to 0700 (folder) or 0600 (file), e.g. after ``shutil.move``/``copy2``
    (which keep the source's mode); returns it."""
    path = Path(path)
    os.chmod(path, 0o700 if path.is_dir() else 0o600)
    return path
