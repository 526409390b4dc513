"""The embedded DuckDB store: connection, schema migrations and store-wide settings."""

from meterrisk.store.connection import (
    StoreBusyError,
    StoreMissingError,
    StoreNotWritableError,
    check_writable,
    connect,
    frame,
    one,
    read_only,
    registered,
    require_store,
    setting,
    transaction,
)
from meterrisk.store.migrations import MIGRATIONS, migrate, schema_version

__all__ = [
    "MIGRATIONS",
    "StoreBusyError",
    "StoreMissingError",
    "StoreNotWritableError",
    "check_writable",
    "connect",
    "frame",
    "one",
    "migrate",
    "read_only",
    "registered",
    "require_store",
    "schema_version",
    "setting",
    "transaction",
]
