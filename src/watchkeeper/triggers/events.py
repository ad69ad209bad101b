"""Events: what happened, to which table, partition, column or model.

An event is a frozen value. Its :attr:`Event.id` is a hash of its content, so the
same event fired twice (a retried pipeline run) has the same id, and the
dispatcher can deliver it at most once per trigger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from ..errors import ConfigError

EVENT_TYPES: tuple[str, ...] = (
    "partition.profiled", "slo.failed", "incident.opened", "incident.resolved",
    "ingest.quarantined", "train.before", "train.after", "serve.before", "predict.after",
    "model.promoted", "model.rolled_back",
)

#: Severities in increasing order; the same scale as SLO checks and incidents.
SEVERITIES: tuple[str, ...] = ("ok", "info", "warning", "critical")

#: Event fields a ``sql`` action may bind as parameters (besides ``context.KEY``).
FIELDS: tuple[str, ...] = ("event_id", "type", "table", "partition", "severity", "incident_id",
                           "column", "model", "tags")


def check_event_type(name: str) -> str:
    if name not in EVENT_TYPES:
        raise ConfigError(f"unknown event type {name!r}: use one of {', '.join(EVENT_TYPES)}")
    return name


def severity_rank(name: str) -> int:
    try:
        return SEVERITIES.index(name)
    except ValueError:
        raise ConfigError(f"unknown severity {name!r}: use one of {', '.join(SEVERITIES)}"
                          ) from None


def _partition_text(value: Any) -> str | None:
    """One spelling per partition, so that ids do not depend on how it was written."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Event:
    """Something that happened; triggers whose condition matches it run their actions."""

    type: str
    table: str | None = None
    partition: str | None = None
    severity: str = "info"
    incident_id: str | None = None
    column: str | None = None
    model: str | None = None
    tags: tuple[str, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        check_event_type(self.type)
        severity_rank(self.severity)
        object.__setattr__(self, "partition", _partition_text(self.partition))
        tags = (self.tags,) if isinstance(self.tags, str) else tuple(self.tags or ())
        object.__setattr__(self, "tags", tuple(sorted({str(t) for t in tags})))
        # A private copy: the caller mutating its dict must not change a fired event.
        object.__setattr__(self, "context", dict(self.context or {}))

    @property
    def id(self) -> str:
        """A stable hash of the event's content (context included)."""
        text = json.dumps(self.to_dict(with_id=False), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def to_dict(self, *, with_id: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "table": self.table,
                                "partition": self.partition, "severity": self.severity,
                                "incident_id": self.incident_id, "column": self.column,
                                "model": self.model, "tags": list(self.tags),
                                "context": dict(self.context)}
        if with_id:
            data = {"event_id": self.id, **data}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Event":
        known = {k: data.get(k) for k in ("type", "table", "partition", "incident_id", "column",
                                          "model")}
        return cls(severity=data.get("severity") or "info", tags=tuple(data.get("tags") or ()),
                   context=dict(data.get("context") or {}), **known)

    def field_value(self, name: str) -> Any:
        """The value bound for ``name`` in a ``sql`` action (``context.KEY`` reaches context)."""
        if name == "event_id":
            return self.id
        if name == "tags":
            return ",".join(self.tags)
        if name.startswith("context."):
            value = self.context.get(name[len("context."):])
            return value if value is None or isinstance(value, (str, int, float, bool)) \
                else json.dumps(value, default=str)
        return getattr(self, name)


def event(type: str, **fields: Any) -> Event:  # noqa: A002  (mirrors the YAML key)
    """Shorthand for :class:`Event`; unknown keyword arguments go into ``context``."""
    known = {"table", "partition", "severity", "incident_id", "column", "model", "tags",
             "context"}
    context = dict(fields.pop("context", None) or {})
    context.update({k: fields.pop(k) for k in list(fields) if k not in known})
    return Event(type, context=context, **fields)


def tags_of(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)) and all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        return tuple(str(v) for v in value)
    from ..errors import ConfigError

    raise ConfigError(f"{value!r} is not a name or a list of names: write e.g. [pii, finance]")
