"""Triggers as data: a condition on events, and the actions to run when it matches.

```yaml
triggers:
  page-on-critical:
    event: slo.failed          # required; one of the event types
    table: [orders, "pay*"]    # optional filters: a name, a glob, or a list of them
    column: amount
    model: churn
    severity: warning          # minimum severity
    tags: [pii]                # every tag listed must be on the event
    actions:
      - webhook: {url_env: WK_SLACK_URL, secret_env: WK_WEBHOOK_SECRET}
      - block: {reason: critical SLO failed}
```

(The key is ``event``, not ``on``: YAML 1.1 reads a bare ``on`` as ``true``.)
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from . import actions as _actions  # noqa: F401  (registers the action kinds)
from . import guard_rules as _guard_rules  # noqa: F401
from . import webhook as _webhook  # noqa: F401
from ._base import Action, parse_action, read_spec
from .events import Event, check_event_type, severity_rank, tags_of

_FILTERS = ("table", "column", "model", "severity", "tags")


def _names(value: Any) -> tuple[str, ...]:
    return tags_of(value)


def _match(patterns: tuple[str, ...], value: str | None) -> bool:
    if not patterns:
        return True
    if value is None:
        return False
    return any(value == p or (any(c in p for c in "*?[") and fnmatch.fnmatchcase(value, p))
               for p in patterns)


@dataclass(frozen=True)
class Condition:
    """Which events a trigger listens to. Empty filters match everything."""

    event: str
    table: tuple[str, ...] = ()
    column: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    severity: str | None = None
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_event_type(self.event)
        if self.severity is not None:
            severity_rank(self.severity)
        for name in ("table", "column", "model", "tags"):
            object.__setattr__(self, name, _names(getattr(self, name)))

    def matches(self, event: Event) -> bool:
        return (event.type == self.event
                and _match(self.table, event.table)
                and _match(self.column, event.column)
                and _match(self.model, event.model)
                and (self.severity is None
                     or severity_rank(event.severity) >= severity_rank(self.severity))
                and set(self.tags) <= set(event.tags))

    def to_spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.event}
        for name in ("table", "column", "model", "tags"):
            value = getattr(self, name)
            if value:
                out[name] = value[0] if len(value) == 1 and name != "tags" else list(value)
        if self.severity:
            out["severity"] = self.severity
        return out


@dataclass(frozen=True)
class Trigger:
    """A named condition and its actions, in the order they run."""

    name: str
    condition: Condition
    actions: tuple[Action, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", tuple(self.actions))
        where = f"trigger {self.name!r}"
        if not self.name or not str(self.name).strip():
            raise ConfigError("a trigger needs a non-empty name")
        if not self.actions:
            raise ConfigError(f"{where} has no actions: list at least one under 'actions:'")
        for i, action in enumerate(self.actions, 1):
            if not isinstance(action, Action):
                raise ConfigError(f"{where} action {i} is a {type(action).__name__}, not an "
                                  "action (use Webhook(...), Block(...), Clip(...), ...)")
            if action.role == "guard" and self.condition.event != "serve.before":
                raise ConfigError(f"{where} action {i} ({action.kind}) guards predictions, so "
                                  "the trigger's event must be serve.before")

    def of_role(self, *roles: str) -> list[tuple[int, Action]]:
        return [(i, a) for i, a in enumerate(self.actions) if a.role in roles]

    def to_spec(self) -> dict[str, Any]:
        return {**self.condition.to_spec(), "actions": [a.to_spec() for a in self.actions]}

    @classmethod
    def from_spec(cls, name: str, spec: Any) -> "Trigger":
        where = f"trigger {name!r}"
        if isinstance(spec, Mapping) and True in spec and "event" not in spec:
            raise ConfigError(f"{where}: write 'event:' instead of 'on:' (YAML reads on as true)")
        spec = read_spec(spec, where, required=("event", "actions"), optional=_FILTERS)
        if not isinstance(spec["actions"], list):
            raise ConfigError(f"{where}: actions must be a list, e.g. - block: {{}}")
        condition = Condition(str(spec["event"]), spec.get("table"), spec.get("column"),
                              spec.get("model"), spec.get("severity"), spec.get("tags"))
        actions = [parse_action(raw, f"{where} action {i}")
                   for i, raw in enumerate(spec["actions"], 1)]
        return cls(str(name), condition, tuple(actions))


def trigger(name: str, event: str, actions: Iterable[Action], *, table=None, column=None,
            model=None, severity: str | None = None, tags=None) -> Trigger:
    """The Python builder; ``trigger(...).to_spec()`` is the equivalent YAML."""
    return Trigger(name, Condition(event, table, column, model, severity, tags), tuple(actions))


def parse_triggers(raw: Any, where: str = "watchkeeper.yaml") -> list[Trigger]:
    """The ``triggers:`` section (a mapping of name to trigger) as :class:`Trigger` objects."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: 'triggers' must map trigger names to their settings")
    return [Trigger.from_spec(str(name), spec) for name, spec in raw.items()]


def load_triggers(project) -> list[Trigger]:
    """The triggers declared in a :class:`watchkeeper.Project`'s file (none if absent)."""
    return parse_triggers(project.extra.get("triggers"), str(project.path))


def dump_triggers(triggers: Iterable[Trigger]) -> dict[str, Any]:
    """The ``triggers:`` section for ``triggers``, ready for ``project.extra["triggers"]``."""
    out: dict[str, Any] = {}
    for t in triggers:
        if t.name in out:
            raise ConfigError(f"two triggers are named {t.name!r}: names must be unique")
        out[t.name] = t.to_spec()
    return out
