"""Managed tables: SLOs enforced in the data layer.

Quarantine on write (:meth:`ManagedTable.ingest`), versioned snapshots through
Delta Lake (:meth:`ManagedTable.snapshot`, ``read(version=|as_of=|snapshot=)``)
and guarded reads (:meth:`ManagedTable.read` raises on failed critical SLOs).
"""

from .errors import InvalidPartitionError, InvalidPartitionWarning
from .guard import PURPOSES, PartitionState
from .ingest import IngestResult
from .snapshot import SnapshotId
from .spec import ManagedSpec, load_managed
from .table import ManagedTable, managed_table

__all__ = ["IngestResult", "InvalidPartitionError", "InvalidPartitionWarning", "ManagedSpec",
           "ManagedTable", "PURPOSES", "PartitionState", "SnapshotId", "load_managed",
           "managed_table"]
