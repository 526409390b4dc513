"""File helpers shared by stages."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
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


# Compound suffixes kept whole when a hash goes into a name (x.csv.gz -> x.<hash>.csv.gz).
_COMPOUND = (".csv.gz", ".tsv.gz", ".txt.gz")


def _hashed_name(name: str, digest: str) -> str:
    ext = next((name[-len(s):] for s in _COMPOUND if name.lower().endswith(s)), os.path.splitext(name)[1])
    return f"{name[:len(name) - len(ext)]}.{digest}{ext}"


def keep_target(folder: str | os.PathLike, relative: str, digest: str) -> tuple[Path, bool]:
    """Where to keep a file with SHA-256 ``digest`` delivered as ``relative`` under ``folder``.

    Returns ``(path, already_there)``. The relative path is kept; nothing is ever overwritten:
    if ``folder/relative`` holds other bytes, the file goes beside it with (a prefix of) its
    hash in the name (``201706.<sha12>.csv``). ``already_there`` means that path already holds
    exactly these bytes, so the delivered copy can simply be removed.
    """
    root = Path(folder)
    first = root / relative
    if not first.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"{relative!r} points outside {root}")
    for candidate in (first, first.with_name(_hashed_name(first.name, digest[:12])),
                      first.with_name(_hashed_name(first.name, digest))):
        if not candidate.exists():
            return candidate, False
        if sha256_of(candidate) == digest:
            return candidate, True
    raise FileExistsError(f"{first}: every name for this file is taken by other content")


def move_without_overwrite(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Move ``src`` to ``dst``; raise FileExistsError rather than replace anything at ``dst``.

    A hard link claims ``dst`` atomically (rename would silently replace); across file systems
    the bytes are first copied and flushed beside ``dst``. ``src`` is removed only once ``dst``
    holds its bytes, so a crash in between leaves two copies, never none.
    """
    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError:  # another file system, or one without hard links
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
        shutil.copy2(src, tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        try:
            try:
                os.link(tmp, dst)
            except FileExistsError:
                raise
            except OSError:  # no hard links at all: exclusive create is the next best claim
                fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.close(fd)
                os.replace(tmp, dst)
        finally:
            tmp.unlink(missing_ok=True)
    owner_only(dst)  # a kept delivery is data like the store, whatever mode it arrived with
    src.unlink()


def archive_record(db: str | os.PathLike, kept: str | os.PathLike) -> str:
    """What ``ingest_files.archived_as`` records for a kept copy: its path relative to the
    store's folder when inside it (a data folder moved or copied whole still finds its
    archive), else the absolute path. :func:`archived_path` reads it back."""
    kept = Path(kept).resolve()
    try:
        return str(kept.relative_to(Path(db).resolve().parent))
    except ValueError:  # an archive outside the data folder
        return str(kept)


def archived_path(db: str | os.PathLike, recorded: str) -> Path:
    """Where ``ingest_files.archived_as`` points: relative values are inside the store's folder."""
    path = Path(recorded)
    return path if path.is_absolute() else Path(db).parent / path


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


def replace_atomically(target: str | os.PathLike, write) -> Path:
    """Write ``target`` through ``write(temp_path)`` in a temp file beside it, then rename: the
    file is either the old one or the complete new one, never half, and owner-only."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
