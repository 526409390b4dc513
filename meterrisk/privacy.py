"""Household identifiers: who may see which.

* The **registry id** is the town's: care staff get it on the risk list, so they know whom to
  visit (the store holds no names; the town maps the id to a resident).
* The **pseudonym** names a household to analysts (views, snapshot). It is a random
  surrogate drawn once when the household is first registered, so nothing in the store or
  the snapshot lets anyone compute it from a registry id: the mapping lives only in
  ``households``, which analysts do not get.
* A **keyed id** names a household in a research or vendor extract: HMAC-SHA256 of the
  registry id with a key the town keeps outside the data folder, so extracts made with the
  same key can be linked with each other and with nothing else. The key is read at export
  time and never written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from meterrisk.errors import MeterriskError

KEY_ENV = "METERRISK_PSEUDONYM_KEY"
KEY_FILE_ENV = "METERRISK_PSEUDONYM_KEY_FILE"
#: 32 characters: `openssl rand -hex 32` gives 64; a short key can be guessed offline.
MIN_KEY_CHARS = 32


def new_pseudonym() -> str:
    """A fresh random surrogate, e.g. ``P3F9160D68D2C43A`` (60 random bits)."""
    return "P" + secrets.token_hex(8)[:15].upper()


def keyed_id(key: str, household_id: str) -> str:
    """HMAC-SHA256 of the registry id, 64 lowercase hex digits.

    The same as ``printf %s ID | openssl dgst -sha256 -hmac KEY``, so a town can check an
    extract without meterrisk.
    """
    return hmac.new(key.encode(), household_id.encode(), hashlib.sha256).hexdigest()


def research_key(key_file: str | os.PathLike | None, *, keep_out_of: list[Path]) -> str:
    """The extract key from ``key_file`` or ``METERRISK_PSEUDONYM_KEY``; refuse without one.

    ``key_file`` (``--key-file`` or ``METERRISK_PSEUDONYM_KEY_FILE``) must lie outside every
    folder in ``keep_out_of`` (the store's folder, the export's folder): a key next to the
    data it protects travels with it. Errors never show the key.
    """
    from_env = os.environ.get(KEY_ENV)
    if key_file and from_env:
        raise MeterriskError(f"two keys given ({KEY_ENV} and the key file {key_file})",
                             hint=f"unset {KEY_ENV} or drop the key file, so the ids cannot silently change")
    if key_file:
        path = Path(key_file).expanduser().resolve()
        for folder in keep_out_of:
            folder = Path(folder).resolve()
            if path.is_relative_to(folder):
                raise MeterriskError(f"the key file {key_file} is inside {folder}: keep it outside the data folder",
                                     hint="move it, e.g. to ~/.config/meterrisk/research.key (mode 0600)")
        try:
            key = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise MeterriskError(f"cannot read the key file {key_file}: {exc.strerror}") from None
    elif from_env:
        key = from_env.strip()
    else:
        raise MeterriskError(f"--pseudonymize needs a key: set {KEY_ENV}, or {KEY_FILE_ENV} / --key-file "
                             "naming a file outside the data folder",
                             hint="make one with `openssl rand -hex 32 > ~/research.key` and keep it safe: "
                                  "the same key gives the same ids in every extract")
    if len(key) < MIN_KEY_CHARS:
        raise MeterriskError(f"the pseudonymisation key is too short ({len(key)} characters, "
                             f"at least {MIN_KEY_CHARS})", hint="make one with `openssl rand -hex 32`")
    return key
