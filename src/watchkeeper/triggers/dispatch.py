"""Delivery: find the triggers an event matches and run their actions, at least once.

- Each (trigger, event) pair has an idempotency key, sent with every attempt. An
  action that succeeded (or failed for good) under that key is not run again when
  the same event fires again.
- Delivery is at-least-once, not exactly-once: the intent to run each action is
  recorded (``pending``, due now) before it runs, like an outbox, so an action whose
  process died in flight, or whose result could not be recorded, is run again by
  :meth:`Dispatcher.retry_pending`. A receiver may then see an event twice, always
  with the same key: it deduplicates on it.
- An action that fails never raises into the caller: the failure is recorded and
  retried ``retries`` times at once, then later by :meth:`Dispatcher.retry_pending`
  (with exponential backoff) until ``max_attempts`` is reached.
- ``block`` actions are decisions: they are answered on every firing, so a gate
  asked twice says "no" twice.
- Secrets (the values of the environment variables an action names) are
  replaced by ``***`` in every error, whole and in part, and every URL is cut to
  its scheme and host, before the error is stored or shown.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from .._util import first_line
from .._util import scrub as scrub_text
from ..store.trigger_log import TriggerLog, utcnow
from ._base import Action, ActionContext, PermanentFailure
from .events import Event
from .spec import Trigger, load_triggers

_MAX_ERROR = 500


def idempotency_key(trigger: str, event: Event) -> str:
    return hashlib.sha256(f"{trigger}\x00{event.id}".encode()).hexdigest()[:24]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` without the secrets, in whole or in part, and without any URL's path or
    query (where webhook tokens live); at most 500 characters."""
    return scrub_text(text, secrets)[:_MAX_ERROR]


@dataclass(frozen=True)
class ActionResult:
    """What happened to one action of one firing.

    ``status``: ``ok``, ``pending`` (will be retried), ``failed`` (gave up),
    ``duplicate`` (already delivered for this event) or ``waiting`` (pending, not
    yet due).
    """

    trigger: str
    index: int
    kind: str
    label: str
    status: str
    attempts: int = 0
    detail: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class FireResult:
    """The outcome of :func:`fire`: matched triggers, action results, block reasons."""

    event: Event
    matched: tuple[str, ...] = ()
    results: tuple[ActionResult, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        """True when a matched trigger has a ``block`` action: the gate answers no."""
        return bool(self.reasons)


class Dispatcher:
    """Runs triggers against events, logging to a store's trigger log.

    ``quarantine`` and ``run_queue`` receive the requests of ``quarantine_partition``
    and ``retrain`` actions; by default the trigger log records them.
    """

    def __init__(self, triggers: Iterable[Trigger], store, *, root: Path | None = None,
                 quarantine=None, run_queue=None, environ: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.triggers = list(triggers)
        self.log = TriggerLog(store) if store is not None else None
        self.root = Path(root) if root is not None else Path.cwd()
        self.quarantine = quarantine if quarantine is not None else self.log
        self.run_queue = run_queue if run_queue is not None else self.log
        self.environ = environ if environ is not None else os.environ
        self.sleep = sleep
        self.clock = clock

    def matching(self, event: Event) -> list[Trigger]:
        return [t for t in self.triggers if t.condition.matches(event)]

    # -- firing -----------------------------------------------------------------
    def fire(self, event: Event) -> FireResult:
        """Run the actions of every trigger ``event`` matches; never raises for an action."""
        matched = self.matching(event)
        results: list[ActionResult] = []
        reasons: list[str] = []
        for trig in matched:
            reasons += [a.reason_for(event, trig.name) for _, a in trig.of_role("decision")]
            runnable = trig.of_role("decision", "delivery")
            if not runnable or self.log is None:
                continue
            key = idempotency_key(trig.name, event)
            states = self.log.action_states(key)
            intents = [(i, a.kind, a.describe()) for i, a in runnable if i not in states]
            self.log.record_firing(key, trig.name, event.to_dict(), intents)
            states = self.log.action_states(key)
            for index, action in runnable:
                results.append(self._maybe_run(trig, index, action, event, key,
                                               states.get(index)))
        return FireResult(event, tuple(t.name for t in matched), tuple(results), tuple(reasons))

    def _maybe_run(self, trig: Trigger, index: int, action: Action, event: Event, key: str,
                   state: dict | None) -> ActionResult:
        if state is None:
            return self._run(trig, index, action, event, key, 0)
        base = ActionResult(trig.name, index, action.kind, action.describe(), "duplicate",
                            state["attempts"])
        if state["status"] != "pending":
            return base
        if state["attempts"] == 0:  # the intent this firing just recorded: run it now
            return self._run(trig, index, action, event, key, 0)
        if state["next_attempt_at"] is not None and state["next_attempt_at"] > self.clock():
            return dataclasses.replace(base, status="waiting")
        return self._run(trig, index, action, event, key, state["attempts"])

    def retry_pending(self, now: datetime | None = None) -> list[ActionResult]:
        """Retry every pending action whose backoff has elapsed (for cron or the next run)."""
        if self.log is None:
            return []
        by_name = {t.name: t for t in self.triggers}
        results = []
        for row in self.log.due(now or self.clock()):
            trig = by_name.get(row["trigger"])
            action = trig.actions[row["index"]] if trig and row["index"] < len(
                trig.actions) else None
            event = Event.from_dict(row["event"])
            if action is None or action.role not in ("decision", "delivery"):
                results.append(self._give_up(row, "the trigger or action is no longer in the "
                                                  "project file"))
                continue
            results.append(self._run(trig, row["index"], action, event, row["key"],
                                     row["attempts"]))
        return results

    def _give_up(self, row: dict, why: str) -> ActionResult:
        self.log.save_action(row["key"], row["index"], kind="unknown", label="unknown",
                             status="failed", attempts=row["attempts"], detail=None, error=why,
                             next_attempt_at=None)
        return ActionResult(row["trigger"], row["index"], "unknown", "unknown", "failed",
                            row["attempts"], error=why)

    # -- running one action with retries ------------------------------------------
    def _run(self, trig: Trigger, index: int, action: Action, event: Event, key: str,
             prior: int) -> ActionResult:
        ctx = ActionContext(key, index, trig.name, self.root, self.log, self.quarantine,
                            self.run_queue, self.environ)
        retry = getattr(action, "retry", None)
        inline = 1 + (retry.retries if retry else 0)
        limit = retry.max_attempts if retry else 1
        attempt, tries = prior, []
        status, detail, error = "pending", None, None
        for i in range(inline):
            attempt += 1
            started, at = time.perf_counter(), self.clock()
            try:
                detail = str(action.run(event, ctx))
                status, error = "ok", None
            except Exception as exc:  # noqa: BLE001  (a failing action never reaches the caller)
                error = scrub(f"{type(exc).__name__}: {first_line(exc)}",
                              action.secrets(self.environ))
                if isinstance(exc, PermanentFailure) or attempt >= limit:
                    status = "failed"
            tries.append((attempt, at, status == "ok", error,
                          (time.perf_counter() - started) * 1000))
            if status != "pending":
                break
            if i + 1 < inline:
                self.sleep(retry.delay(attempt))
        next_at = None
        if status == "pending":
            next_at = self.clock() + timedelta(seconds=retry.delay(attempt))
        if self.log is not None:
            self.log.save_action(key, index, kind=action.kind, label=action.describe(),
                                 status=status, attempts=attempt, detail=detail, error=error,
                                 next_attempt_at=next_at, tries=tries)
        return ActionResult(trig.name, index, action.kind, action.describe(), status, attempt,
                            detail, error)


def _project(project):
    from ..config import FILENAME, Project

    if project is None or isinstance(project, Project):
        return project if project is not None else Project.find()
    path = Path(project)
    return Project.load(path if path.is_file() else path / FILENAME)


def dispatcher(project=None, **kwargs) -> Dispatcher:
    """A dispatcher over the project's triggers and store (the nearest project if None).

    ``project`` is a :class:`watchkeeper.Project`, its folder or its file.
    """
    from ..errors import ConfigError

    found = _project(project)
    if found is None:
        raise ConfigError("no watchkeeper.yaml here or above: run wk init, or pass project=")
    return Dispatcher(load_triggers(found), found.store(), root=found.root, **kwargs)


def fire(event: Event, project=None) -> FireResult:
    """Fire ``event`` at the project's triggers. Without a project file, nothing matches.

    The store is opened only when a trigger matches, so firing is cheap for
    pipelines that declare no triggers.
    """
    return fire_many([event], project)[0]


def fire_many(events: Iterable[Event], project=None) -> list[FireResult]:
    """:func:`fire` for many events (one result each, in order).

    The project file is read once, and the store opened once and only if some
    trigger matches one of the events: a first profile of a year of data fires
    365 ``partition.profiled`` events, which must cost nothing when no trigger
    listens to them.
    """
    events = list(events)
    found = _project(project) if events else None
    if found is None:
        return [FireResult(e) for e in events]
    triggers = load_triggers(found)
    hits = [any(t.condition.matches(e) for t in triggers) for e in events]
    if not any(hits):
        return [FireResult(e) for e in events]
    disp = Dispatcher(triggers, found.store(), root=found.root)
    return [disp.fire(e) if hit else FireResult(e) for e, hit in zip(events, hits)]


def retry_pending(project=None, now: datetime | None = None) -> list[ActionResult]:
    """Retry the project's pending deliveries whose backoff has elapsed."""
    return dispatcher(project).retry_pending(now)
