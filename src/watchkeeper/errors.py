"""Exception hierarchy.

``UserError`` and its subclasses are mistakes a user can fix (bad path, missing
column, locked store). The CLI prints their one-line message and exits 2.
Anything else is a bug in watchkeeper and keeps its traceback.
"""

from __future__ import annotations


class WatchkeeperError(Exception):
    """Base class of every error watchkeeper raises on purpose."""


class UserError(WatchkeeperError):
    """A mistake in the input that the user can fix; the message says how."""


class SourceError(UserError):
    """A source cannot be opened or read (missing file, unreadable Parquet, bad URL)."""


class PartitionColumnError(UserError):
    """The partition column is missing or is not a date or timestamp."""


class EmptySourceError(UserError):
    """The source has no rows (or none in the requested partitions)."""


class ConfigError(UserError):
    """``watchkeeper.yaml`` or an argument is malformed."""


class UnknownTableError(UserError):
    """A table name is neither registered nor a readable path."""


class StoreError(UserError):
    """The metadata store cannot be opened."""


class StoreLockedError(StoreError):
    """Another process holds the store, or a newer watchkeeper migrated it."""


class EngineUnavailableError(UserError):
    """An optional engine (Postgres, Spark) was asked for but its extra is not installed."""
