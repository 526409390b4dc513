"""Consent: withdrawal that forgets, and the tombstones that keep it final.

``purge`` deletes every row of a household in one transaction (``withdraw``); ``tombstones``
keeps the ``withdrawals`` table (a salted hash of the id, never the id) that a registry load
checks so a withdrawal stays until a later consent.
"""

from meterrisk.consent.purge import FileTouched, WithdrawalReport, local_today, purge_household, withdraw

__all__ = ["FileTouched", "WithdrawalReport", "local_today", "purge_household", "withdraw"]
