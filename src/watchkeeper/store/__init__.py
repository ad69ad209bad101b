"""The metadata store (summaries now; SLO results, alerts and lineage later)."""

from .migrations import SCHEMA_VERSION
from .store import DEFAULT_STORE, Store, TableRecord

__all__ = ["DEFAULT_STORE", "SCHEMA_VERSION", "Store", "TableRecord"]
