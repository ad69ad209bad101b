"""The action base class, its registry, and helpers to read specs written as data.

An action class registers itself under its ``kind`` (the YAML key), and parses
and writes its own spec, so adding an action touches one class and no list.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import ConfigError

ACTIONS: dict[str, type["Action"]] = {}

_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PermanentFailure(Exception):
    """An action failed in a way that retrying cannot fix (HTTP 4xx, import error)."""


def read_spec(spec: Any, where: str, *, required: tuple[str, ...] = (),
              optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """``spec`` as a dict, after checking its keys; messages name ``where``."""
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where} must be a mapping of settings, not {spec!r}")
    allowed = (*required, *optional)
    unknown = sorted(str(k) for k in spec if k not in allowed)
    if unknown:
        raise ConfigError(f"{where} has unknown key(s) {', '.join(unknown)}: "
                          f"use {', '.join(allowed) or 'no settings'}")
    for key in required:
        if spec.get(key) in (None, "", []):
            raise ConfigError(f"{where} needs {key!r}")
    return dict(spec)


def env_name(value: Any, where: str, key: str) -> str:
    """An environment variable NAME; a value that looks like a URL or secret is refused."""
    text = str(value or "")
    if not _ENV_NAME.match(text):
        raise ConfigError(f"{where}: {key} must name an environment variable (like "
                          f"WK_SLACK_URL), never hold the value itself")
    return text


def import_path(value: Any, where: str) -> str:
    text = str(value or "")
    if not _IMPORT_PATH.match(text):
        raise ConfigError(f"{where}: {text!r} is not an import path: write package.module:function")
    return text


def resolve_import(path: str):
    """The object at ``package.module:attr``; raises PermanentFailure when it is not there."""
    import importlib

    module_name, _, attr = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise PermanentFailure(f"cannot import {path!r} ({exc})") from None
    if not callable(target):
        raise PermanentFailure(f"{path!r} is not callable")
    return target


def number(value: Any, where: str, key: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {key} must be a number, not {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: {key} must be at least {minimum}, not {value!r}")
    return float(value)


@dataclass(frozen=True)
class Retry:
    """How often a delivery is tried: ``retries`` at once, ``max_attempts`` in all."""

    retries: int = 0
    max_attempts: int = 6
    backoff_seconds: float = 1.0

    KEYS: ClassVar[tuple[str, ...]] = ("retries", "max_attempts", "backoff_seconds")

    @classmethod
    def parse(cls, spec: dict, where: str, default: "Retry") -> "Retry":
        values = {k: spec.pop(k) for k in cls.KEYS if k in spec}
        for key in ("retries", "max_attempts"):
            if key in values:
                values[key] = int(number(values[key], where, key, minimum=0 if key == "retries"
                                         else 1))
        if "backoff_seconds" in values:
            values["backoff_seconds"] = number(values["backoff_seconds"], where,
                                               "backoff_seconds", minimum=0)
        return dataclasses.replace(default, **values)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure: exponential, capped at an hour."""
        return min(self.backoff_seconds * 2 ** max(attempt - 1, 0), 3600.0)


@dataclass(frozen=True)
class ActionContext:
    """What a running action may use besides the event."""

    firing_key: str
    action_index: int
    trigger: str
    root: Path
    log: Any  # store.trigger_log.TriggerLog
    quarantine: Any  # anything with request_quarantine(...); see actions.QuarantineSink
    run_queue: Any  # anything with enqueue_run(...); see actions.RunQueue
    environ: Mapping[str, str] = dataclasses.field(default_factory=lambda: os.environ)


class Action:
    """One thing a trigger does. ``role`` is ``decision`` (block), ``delivery`` or ``guard``."""

    kind: ClassVar[str] = ""
    role: ClassVar[str] = "delivery"
    default_retry: ClassVar[Retry] = Retry()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Only a class that declares its own kind registers: a subclass that merely
        # specialises one (a test double, say) must not replace it in the registry.
        if "kind" in cls.__dict__ and cls.kind:
            ACTIONS.setdefault(cls.kind, cls)

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "Action":
        raise NotImplementedError

    def to_spec(self) -> dict[str, Any]:
        """The YAML form, without settings left at their defaults."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name == "retry":
                if value != self.default_retry:
                    out.update({k: getattr(value, k) for k in Retry.KEYS
                                if getattr(value, k) != getattr(self.default_retry, k)})
                continue
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
            if value != default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return {self.kind: out}

    def describe(self) -> str:
        """A short label for logs; never holds a secret."""
        return self.kind

    def run(self, event, ctx: ActionContext) -> str:
        """Do it; return a one-line result. Raise to fail (PermanentFailure: do not retry)."""
        raise NotImplementedError

    def secrets(self, environ: Mapping[str, str]) -> list[str]:
        """Values that must be scrubbed from any error text this action produces."""
        return []


def parse_action(raw: Any, where: str) -> Action:
    """``{kind: {settings}}`` or a bare ``kind`` string (for actions without settings)."""
    if isinstance(raw, str):
        kind, spec = raw, {}
    elif isinstance(raw, Mapping) and len(raw) == 1:
        kind, spec = next(iter(raw.items()))
    else:
        raise ConfigError(f"{where} must be one mapping like {{webhook: {{url_env: NAME}}}}, "
                          f"not {raw!r}")
    cls = ACTIONS.get(str(kind))
    if cls is None:
        raise ConfigError(f"{where}: unknown action {kind!r}: use one of "
                          f"{', '.join(sorted(ACTIONS))}")
    return cls.from_spec(spec, f"{where} ({kind})")
