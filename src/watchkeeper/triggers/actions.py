"""The non-HTTP actions: block, quarantine_partition, python, sql, retrain.

``quarantine_partition`` and ``retrain`` record a *request* through a small
interface (:class:`QuarantineSink`, :class:`RunQueue`). The metadata store's
trigger log implements both today; the managed-table quarantine and
the pipelines (later) will implement them, or consume the recorded requests,
without any change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError
from ._base import (Action, ActionContext, PermanentFailure, Retry, env_name, import_path,
                    read_spec, resolve_import)
from .events import FIELDS


class QuarantineSink(Protocol):
    def request_quarantine(self, *, request_id: str, table: str, partition: str | None,
                           reason: str, event_id: str, trigger: str) -> bool:
        """Record (idempotently, by ``request_id``) that a partition should be quarantined."""


class RunQueue(Protocol):
    def enqueue_run(self, *, request_id: str, model: str | None, pipeline: str | None,
                    table: str | None, partition: str | None, reason: str, event_id: str,
                    trigger: str) -> bool:
        """Record (idempotently, by ``request_id``) a pipeline run request."""


@dataclass(frozen=True)
class Block(Action):
    """The gate answers "no" for the event's partition (a decision, not a delivery)."""

    kind = "block"
    role = "decision"
    reason: str = ""

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "Block":
        spec = read_spec(spec, where, optional=("reason",))
        return cls(str(spec.get("reason") or ""))

    def reason_for(self, event, trigger: str) -> str:
        what = " ".join(x for x in (event.table, event.partition) if x) or event.type
        return f"{trigger}: {self.reason or event.type} ({what})"

    def run(self, event, ctx: ActionContext) -> str:
        return "blocked: " + self.reason_for(event, ctx.trigger)


@dataclass(frozen=True)
class QuarantinePartition(Action):
    """Ask for the event's partition to be quarantined (recorded; see the module doc)."""

    kind = "quarantine_partition"
    reason: str = ""
    retry: Retry = Retry()

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "QuarantinePartition":
        spec = read_spec(spec, where, optional=("reason", *Retry.KEYS))
        retry = Retry.parse(spec, where, cls.default_retry)
        return cls(str(spec.get("reason") or ""), retry)

    def run(self, event, ctx: ActionContext) -> str:
        if not event.table or not event.partition:
            raise PermanentFailure("the event names no table and partition to quarantine")
        request_id = f"{ctx.firing_key}:{ctx.action_index}"
        new = ctx.quarantine.request_quarantine(
            request_id=request_id, table=event.table, partition=event.partition,
            reason=self.reason or event.type, event_id=event.id, trigger=ctx.trigger)
        verb = "requested" if new else "already requested"
        return f"quarantine of {event.table} {event.partition} {verb} ({request_id})"


@dataclass(frozen=True)
class PythonAction(Action):
    """Call ``package.module:function(event)``; only the project file can name it."""

    kind = "python"
    function: str = ""
    retry: Retry = Retry()

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "PythonAction":
        if isinstance(spec, str):
            spec = {"function": spec}
        spec = read_spec(spec, where, required=("function",), optional=Retry.KEYS)
        retry = Retry.parse(spec, where, cls.default_retry)
        return cls(import_path(spec["function"], where), retry)

    def describe(self) -> str:
        return f"python {self.function}"

    def run(self, event, ctx: ActionContext) -> str:
        result = resolve_import(self.function)(event)
        return "called" if result is None else f"returned {str(result)[:200]}"


@dataclass(frozen=True)
class SqlAction(Action):
    """Run a statement with ``?`` placeholders bound to event fields, in order.

    The event's values travel as bound parameters, never inside the SQL text.
    """

    kind = "sql"
    statement: str = ""
    params: tuple[str, ...] = ()
    database: str | None = None
    database_env: str | None = None
    retry: Retry = Retry()

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "SqlAction":
        spec = read_spec(spec, where, required=("statement",),
                         optional=("params", "database", "database_env", *Retry.KEYS))
        retry = Retry.parse(spec, where, cls.default_retry)
        params = spec.get("params") or []
        if not isinstance(params, list):
            raise ConfigError(f"{where}: params must be a list of event fields")
        for name in params:
            if name not in FIELDS and not str(name).startswith("context."):
                raise ConfigError(f"{where}: unknown event field {name!r} in params: use "
                                  f"{', '.join(FIELDS)} or context.KEY")
        if bool(spec.get("database")) == bool(spec.get("database_env")):
            raise ConfigError(f"{where} needs exactly one of 'database' (a DuckDB file) or "
                              "'database_env' (an environment variable holding the URL)")
        env = env_name(spec["database_env"], where, "database_env") \
            if spec.get("database_env") else None
        return cls(str(spec["statement"]), tuple(str(p) for p in params),
                   str(spec["database"]) if spec.get("database") else None, env, retry)

    def describe(self) -> str:
        target = f"${self.database_env}" if self.database_env else self.database
        return f"sql on {target}"

    def _target(self, ctx: ActionContext) -> str:
        if self.database_env:
            value = ctx.environ.get(self.database_env)
            if not value:
                raise RuntimeError(f"environment variable {self.database_env} is not set")
            return value
        path = Path(self.database).expanduser()
        return str(path if path.is_absolute() else ctx.root / path)

    def run(self, event, ctx: ActionContext) -> str:
        from ..engine.statements import execute_statement

        values = [event.field_value(name) for name in self.params]
        count = execute_statement(self._target(ctx), self.statement, values)
        return f"statement ran ({count} row(s) affected)" if count >= 0 else "statement ran"

    def secrets(self, environ) -> list[str]:
        return [environ[self.database_env]] if self.database_env and environ.get(
            self.database_env) else []


@dataclass(frozen=True)
class Retrain(Action):
    """Enqueue a pipeline run request; pipelines will consume the queue once they exist."""

    kind = "retrain"
    model: str | None = None
    pipeline: str | None = None
    reason: str = ""
    retry: Retry = Retry()

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "Retrain":
        spec = read_spec(spec, where, optional=("model", "pipeline", "reason", *Retry.KEYS))
        retry = Retry.parse(spec, where, cls.default_retry)
        return cls(spec.get("model"), spec.get("pipeline"), str(spec.get("reason") or ""), retry)

    def run(self, event, ctx: ActionContext) -> str:
        model = self.model or event.model
        request_id = f"{ctx.firing_key}:{ctx.action_index}"
        new = ctx.run_queue.enqueue_run(
            request_id=request_id, model=model, pipeline=self.pipeline, table=event.table,
            partition=event.partition, reason=self.reason or event.type, event_id=event.id,
            trigger=ctx.trigger)
        verb = "enqueued" if new else "already enqueued"
        return f"run request for {model or self.pipeline or 'the default pipeline'} {verb}"
