"""What a guarded read says when a partition broke its critical SLOs."""

from __future__ import annotations

from ..errors import UserError


class InvalidPartitionError(UserError):
    """A read touched partitions whose ingest failed a critical SLO check (or that a trigger
    quarantined). ``partitions`` maps each partition to the checks it failed."""

    def __init__(self, message: str, partitions: dict[str, tuple[str, ...]] | None = None):
        super().__init__(message)
        self.partitions = dict(partitions or {})


class InvalidPartitionWarning(UserWarning):
    """The warning form of :class:`InvalidPartitionError` (``on_invalid: warn``)."""
