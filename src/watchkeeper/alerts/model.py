"""What the alerting layer talks about: anomalies, incidents, and their status.

An :class:`Anomaly` is one (column, statistic) of one partition that looked wrong,
from the detector or from a failed SLO check. An :class:`Incident` groups the
anomalies that point at one cause: every anomaly of a partition, and the same
columns going wrong in consecutive partitions. One incident is one page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum

import pandas as pd

from ..detect import Severity
from ..engine.types import Granularity
from ..errors import UserError


class UnknownIncidentError(UserError):
    """An incident id that the store does not hold."""


class Status(str, Enum):
    """Where an incident is in its life; only ``open`` and ``acknowledged`` are listed."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    FALSE_POSITIVE = "false_positive"

    @property
    def active(self) -> bool:
        return self in (Status.OPEN, Status.ACKNOWLEDGED)


@dataclass(frozen=True)
class Anomaly:
    """One (column, statistic) of one partition outside its expected band.

    ``source`` is ``detector`` (learned band) or ``slo`` (a failed check, named in
    ``check``). ``tolerance`` is the band multiplier earned by false-positive
    feedback, and ``note`` says where it came from. ``history`` holds the recent
    ``(partition, value)`` pairs of the same series, oldest first.
    """

    table: str
    partition: pd.Timestamp
    column: str
    statistic: str
    observed: float
    expected_low: float = math.nan
    expected_high: float = math.nan
    score: float = 0.0
    source: str = "detector"
    severity: Severity = Severity.INFO
    check: str | None = None
    tolerance: float = 1.0
    note: str | None = None
    history: tuple[tuple[str, float], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.column, self.statistic)

    def to_record(self, granularity: Granularity = Granularity.DAY) -> dict:
        return {"partition": granularity.format(pd.Timestamp(self.partition)),
                "column": self.column, "statistic": self.statistic, "source": self.source,
                "check": self.check, "severity": self.severity.value,
                "observed": json_float(self.observed),
                "expected_low": json_float(self.expected_low),
                "expected_high": json_float(self.expected_high),
                "score": json_float(round(self.score, 3)), "tolerance": self.tolerance,
                "note": self.note,
                "history": [{"partition": p, "value": json_float(v)} for p, v in self.history]}


@dataclass(frozen=True)
class Incident:
    """Anomalies with one cause: one partition, or consecutive partitions, of one table."""

    table: str
    partitions: tuple[pd.Timestamp, ...]
    anomalies: tuple[Anomaly, ...]
    severity: Severity = Severity.INFO
    score: float = 0.0
    id: int | None = None
    status: Status = Status.OPEN
    cause: str = ""
    consumers: int = 0
    impact: float = 0.0
    confirmed: bool = False
    opened_at: pd.Timestamp | None = None
    updated_at: pd.Timestamp | None = None
    resolved_at: pd.Timestamp | None = None
    granularity: Granularity = Granularity.DAY
    # Set by the processor chain, never stored: what this run did to the incident.
    change: str = field(default="", compare=False)

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns that matter: those at warning or worse, else every anomalous one."""
        loud = [a.column for a in self.anomalies if a.severity >= Severity.WARNING]
        return tuple(sorted(set(loud or [a.column for a in self.anomalies])))

    @property
    def first_partition(self) -> pd.Timestamp:
        return min(self.partitions)

    @property
    def last_partition(self) -> pd.Timestamp:
        return max(self.partitions)

    @property
    def notifies(self) -> bool:
        """``info`` incidents are recorded only; warning and critical ones notify."""
        return self.severity >= Severity.WARNING

    def with_(self, **changes) -> "Incident":
        return replace(self, **changes)

    def ranked_anomalies(self) -> list[Anomaly]:
        return sorted(self.anomalies, key=lambda a: (-a.severity.rank, -a.score, a.column,
                                                     str(a.partition)))

    def to_record(self, *, anomalies: bool = True) -> dict:
        fmt = self.granularity.format
        out = {"id": self.id, "table": self.table, "severity": self.severity.value,
               "status": self.status.value, "score": json_float(round(self.score, 3)),
               "impact": json_float(round(self.impact, 3)), "consumers": self.consumers,
               "cause": self.cause, "columns": list(self.columns),
               "partitions": [fmt(pd.Timestamp(p)) for p in sorted(self.partitions)],
               "confirmed": self.confirmed,
               "opened_at": _iso(self.opened_at), "updated_at": _iso(self.updated_at),
               "resolved_at": _iso(self.resolved_at)}
        if anomalies:
            out["anomalies"] = [a.to_record(self.granularity) for a in self.ranked_anomalies()]
        return out


def json_float(value) -> float | None:
    """JSON has no NaN or infinity: an unknown number is null."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _iso(ts) -> str | None:
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).isoformat()
