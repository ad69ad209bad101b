"""watchkeeper: constraints and triggers for ML pipeline health."""

from ._version import __version__
from .alerts import Incident, UnknownIncidentError, check
from .config import Project, TableSpec
from .engine import Granularity, Kind, open_source
from .errors import (
    ConfigError,
    EmptySourceError,
    EngineUnavailableError,
    PartitionColumnError,
    SourceError,
    StoreError,
    StoreLockedError,
    UnknownTableError,
    UserError,
    WatchkeeperError,
)
from .managed import (IngestResult, InvalidPartitionError, InvalidPartitionWarning, ManagedTable,
                      SnapshotId, managed_table)
from .pipelines import RunResult, log, run
from .store import Store
from .summaries import STATISTIC_NAMES, Notice, ProfileResult, profile
from .triggers import BatchRejected, Event, FireResult, Trigger, fire, guard
from .triggers.gate import GateDecision, gate

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
