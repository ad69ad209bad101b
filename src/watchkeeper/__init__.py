"""watchkeeper: constraints and triggers for ML pipeline health.

The names below are imported on first use (PEP 562), so ``import watchkeeper`` (and the
``wk`` command's start-up) does not pay for Ibis, pandas or MLflow until they are needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

_WHERE = {
    ".alerts": ("Incident", "UnknownIncidentError", "check"),
    ".config": ("Project", "TableSpec"),
    ".engine": ("Granularity", "Kind", "open_source"),
    ".errors": ("ConfigError", "EmptySourceError", "EngineUnavailableError",
                "PartitionColumnError", "SourceError", "StoreError", "StoreLockedError",
                "UnknownTableError", "UserError", "WatchkeeperError"),
    ".managed": ("IngestResult", "InvalidPartitionError", "InvalidPartitionWarning",
                 "ManagedTable", "SnapshotId", "managed_table"),
    ".pipelines": ("RunResult", "log", "run"),
    ".store": ("Store",),
    ".summaries": ("STATISTIC_NAMES", "Notice", "ProfileResult", "profile"),
    ".triggers": ("BatchRejected", "Event", "FireResult", "Trigger", "fire", "guard"),
    ".triggers.gate": ("GateDecision", "gate"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports
    from .alerts import Incident, UnknownIncidentError, check
    from .config import Project, TableSpec
    from .engine import Granularity, Kind, open_source
    from .errors import (ConfigError, EmptySourceError, EngineUnavailableError,
                         PartitionColumnError, SourceError, StoreError, StoreLockedError,
                         UnknownTableError, UserError, WatchkeeperError)
    from .managed import (IngestResult, InvalidPartitionError, InvalidPartitionWarning,
                          ManagedTable, SnapshotId, managed_table)
    from .pipelines import RunResult, run
    from .store import Store
    from .summaries import STATISTIC_NAMES, Notice, ProfileResult, profile
    from .triggers import BatchRejected, Event, FireResult, Trigger, fire, guard
    from .triggers.gate import GateDecision, gate


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    # managed tables
    "IngestResult",
    "InvalidPartitionError",
    "InvalidPartitionWarning",
    "ManagedTable",
    "SnapshotId",
    "managed_table",
    "BatchRejected",
    "ConfigError",
    "EmptySourceError",
    "EngineUnavailableError",
    "Event",
    "FireResult",
    "GateDecision",
    "Granularity",
    "Incident",
    "Kind",
    "Notice",
    "PartitionColumnError",
    "ProfileResult",
    "RunResult",
    "Project",
    "STATISTIC_NAMES",
    "SourceError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "TableSpec",
    "Trigger",
    "UnknownIncidentError",
    "UnknownTableError",
    "UserError",
    "WatchkeeperError",
    "__version__",
    "fire",
    "gate",
    "check",
    "guard",
    "log",
    "open_source",
    "profile",
    "run",
]
