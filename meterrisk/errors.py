"""Errors a user can act on: one clear line, optionally a hint, and a non-zero exit."""

from __future__ import annotations


class MeterriskError(Exception):
    """An error meant for the person running meterrisk (not a bug)."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class InputFileError(MeterriskError):
    """A file that cannot be read at all: wrong encoding, missing columns, truncated gzip."""

    def __init__(self, path, problem: str, *, expected: str | None = None,
                 found: str | None = None, hint: str | None = None):
        parts = [f"{path}: {problem}"]
        if expected is not None:
            parts.append(f"expected {expected}")
        if found is not None:
            parts.append(f"found {found}")
        super().__init__("; ".join(parts), hint=hint)
        self.path = str(path)
