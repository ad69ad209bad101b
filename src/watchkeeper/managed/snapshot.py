"""Dataset snapshot ids: an exact set of partitions at exact versions, named by a hash.

A training run records ``str(snapshot)``; ``table.read(snapshot=that)`` returns
the same rows later, however many ingests happened since (Delta versions are
immutable until vacuumed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SnapshotId:
    """``id`` (``snap-`` + 24 hex digits), the table, its version, and
    ``(partition, ingest_id)`` pairs in partition order."""

    id: str
    table: str
    version: int
    partitions: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        return self.id

    @classmethod
    def of(cls, table: str, version: int, partitions: Sequence[tuple[str, str]]) -> "SnapshotId":
        parts = tuple(sorted((str(p), str(i)) for p, i in partitions))
        text = json.dumps([table, int(version), [list(p) for p in parts]])
        digest = hashlib.sha256(text.encode()).hexdigest()[:24]
        return cls(f"snap-{digest}", table, int(version), parts)
