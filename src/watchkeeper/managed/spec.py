"""Managed tables declared as data, under ``managed:`` in ``watchkeeper.yaml``.

```yaml
managed:
  orders:
    partition_column: date        # a date or timestamp column of every batch
    granularity: day              # hour | day | week (default day)
    on_invalid: raise             # guarded reads: raise | warn (default raise)
    on_partition_failure: commit  # commit | reject (default commit)
    on_type_change: reject        # reject | cast (default reject)
```

The checks are the table's SLOs (``slos: tables: orders:``). With
``on_partition_failure: reject``, a failed critical partition-level check (a
schema break, a row count far out of bounds) sends the whole batch to
quarantine and keeps the partition's previous version. ``on_type_change`` says what
a batch column of another type than the table's becomes (``engine/conform.py``):
``reject`` converts only lossless widenings, ``cast`` also values that fit exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..engine import Granularity
from ..engine.conform import POLICIES as ON_TYPE_CHANGE
from ..errors import ConfigError

ON_INVALID = ("raise", "warn")
ON_PARTITION_FAILURE = ("commit", "reject")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_KEYS = ("partition_column", "granularity", "on_invalid", "on_partition_failure",
         "on_type_change")


@dataclass(frozen=True)
class ManagedSpec:
    """How one managed table is partitioned and how its SLOs are enforced."""

    name: str
    partition_column: str
    granularity: str = "day"
    on_invalid: str = "raise"
    on_partition_failure: str = "commit"
    on_type_change: str = "reject"

    def __post_init__(self) -> None:
        where = f"managed table {self.name!r}"
        if not _NAME.match(self.name or ""):
            raise ConfigError(f"{where}: a managed table name is letters, digits, _ . - "
                              "(it names a folder): rename it")
        if not self.partition_column:
            raise ConfigError(f"{where} needs a partition_column")
        Granularity.parse(self.granularity)
        if self.on_invalid not in ON_INVALID:
            raise ConfigError(f"{where}: on_invalid {self.on_invalid!r} is not one of "
                              f"{', '.join(ON_INVALID)}")
        if self.on_partition_failure not in ON_PARTITION_FAILURE:
            raise ConfigError(f"{where}: on_partition_failure {self.on_partition_failure!r} is "
                              f"not one of {', '.join(ON_PARTITION_FAILURE)}")
        if self.on_type_change not in ON_TYPE_CHANGE:
            raise ConfigError(f"{where}: on_type_change {self.on_type_change!r} is not one of "
                              f"{', '.join(ON_TYPE_CHANGE)}")

    @property
    def grain(self) -> Granularity:
        return Granularity.parse(self.granularity)

    @classmethod
    def from_dict(cls, name: str, raw: Any) -> "ManagedSpec":
        if not isinstance(raw, Mapping):
            raise ConfigError(f"managed: {name!r} must map to {{partition_column: COL, ...}}")
        unknown = set(raw) - set(_KEYS)
        if unknown:
            raise ConfigError(f"managed: {name!r} has unknown keys {sorted(unknown)}: use "
                              f"{', '.join(_KEYS)}")
        return cls(str(name), str(raw.get("partition_column") or ""),
                   str(raw.get("granularity", "day")), str(raw.get("on_invalid", "raise")),
                   str(raw.get("on_partition_failure", "commit")),
                   str(raw.get("on_type_change", "reject")))


def load_managed(project) -> dict[str, ManagedSpec]:
    """The ``managed:`` section of a :class:`watchkeeper.Project` (empty if absent)."""
    raw = project.extra.get("managed") if project is not None else None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("managed: must map table names to their settings")
    return {str(k): ManagedSpec.from_dict(str(k), v) for k, v in raw.items()}


def parse_partition(value, grain: Granularity) -> pd.Timestamp:
    """A partition's start from a date, timestamp or ISO text; it must start a partition."""
    return grain.start_of(value)
