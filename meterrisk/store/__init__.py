"""The embedded DuckDB store: connection, schema migrations and store-wide settings."""

from meterrisk.store.connection import StoreBusyError, connect, read_only, setting
from meterrisk.store.migrations import MIGRATIONS, migrate, schema_version

__all__ = [
    "MIGRATIONS",
    "StoreBusyError",
    "connect",
    "migrate",
    "read_only",
    "schema_version",
    "setting",
]
