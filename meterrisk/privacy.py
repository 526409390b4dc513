"""Pseudonyms: the only household identifier allowed to leave the store.

A pseudonym is a keyed hash (HMAC-SHA256) of the registry id with a secret kept in the
store's settings, so the town can map a risk list back to a resident and nobody holding
only the export can.
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: str, household_id: str) -> str:
    digest = hmac.new(key.encode(), household_id.encode(), hashlib.sha256).hexdigest()
    return f"P{digest[:15].upper()}"
