"""Staged rollout: challenger → shadow → champion, and back.

A run registers its version as ``challenger``. ``shadow`` marks the version that
scores beside the champion without being served; ``champion`` is served. A version
becomes champion by a person (``wk model promote``) or by its run (``promotion:
{auto: true, margin: M}``) when it beats the champion on the newest eval window by
``M`` (a share of the champion's score) and no critical incident is open on the
partitions it read. Promotions fire ``model.promoted``, rollbacks
``model.rolled_back``, so triggers can notify. Every alias change is recorded in
the store with who made it and the version it replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..alerts.tolerance import current_user
from ..errors import ConfigError
from . import lineage
from .registry import ALIASES, Registry


@dataclass(frozen=True)
class StageChange:
    """What a stage command did: ``done`` False means it was refused, with ``reasons``."""

    model: str
    alias: str
    version: str | None
    previous: str | None
    done: bool
    reasons: list[str] = field(default_factory=list)
    scores: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"model": self.model, "alias": self.alias, "version": self.version,
                "previous": self.previous, "done": self.done, "reasons": list(self.reasons),
                "scores": dict(self.scores)}

    def describe(self) -> str:
        if self.done:
            was = f" (was {self.previous})" if self.previous else ""
            return f"{self.model}: {self.alias} is now version {self.version}{was}"
        head = f"{self.model}: version {self.version} not made {self.alias}"
        return "\n".join([head, *(f"  - {r}" for r in self.reasons)])


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``MODEL`` or ``MODEL@VERSION`` or ``MODEL@ALIAS``."""
    name, _, version = str(ref).partition("@")
    if not name:
        raise ConfigError(f"{ref!r} is not MODEL or MODEL@VERSION: name a pipeline's model")
    return name, version or None


def resolve_version(registry: Registry, name: str, version: str | None,
                    default: str = "challenger") -> str:
    """A version number from a number, an alias, or (None) the ``default`` alias."""
    wanted = version or default
    if wanted in ALIASES:
        found = registry.alias(name, wanted)
        if found is None:
            raise ConfigError(f"model {name!r} has no {wanted} version: run wk run {name} "
                              "first, or name a version as MODEL@VERSION")
        return found
    if not str(wanted).isdigit() or not registry.has_version(name, wanted):
        known = ", ".join(v["version"] for v in registry.versions(name)[:10]) or "none"
        raise ConfigError(f"model {name!r} has no version {wanted!r} (versions: {known}): "
                          "pick one of those")
    return str(wanted)


def open_incidents(project, store, name: str, version: str) -> list[str]:
    """Critical incidents, still open, with an anomaly in a partition this version read."""
    from ..alerts import incidents

    reads = lineage.reads(store, name, version)
    out = []
    for table, group in reads.groupby("table_name"):
        parts = set(pd.to_datetime(group["partition_start"]))
        for incident in incidents(project, table=table, min_severity="critical", store=store):
            touched = sorted(p for p in incident.partitions if pd.Timestamp(p) in parts)
            if touched:
                out.append(f"critical incident {incident.id} is open on {table} "
                           f"{pd.Timestamp(touched[0]).date()}: close it (wk alerts resolve "
                           f"{incident.id}) before promoting")
    return out


def set_stage(registry: Registry, store, project, name: str, alias: str, version: str, *,
              action: str, reason: str | None = None, event: str | None = None,
              scores: dict | None = None) -> StageChange:
    """Move ``alias`` to ``version``, record it, and fire ``event`` (if any)."""
    previous = registry.alias(name, alias)
    registry.set_alias(name, alias, version)
    try:
        lineage.record_stage(store, model=name, alias=alias, version=version,
                             previous=previous, action=action, reason=reason,
                             user=current_user())
    except BaseException:
        registry.set_alias(name, alias, previous)  # the alias and its history move together
        raise
    if event is not None:
        from ..triggers import Event, fire

        fire(Event(event, model=name, severity="info",
                   context={"version": version, "previous": previous, "alias": alias,
                            "reason": reason, **({"scores": scores} if scores else {})}),
             project)
    return StageChange(name, alias, version, previous, True, [], dict(scores or {}))


def shadow(registry: Registry, store, project, name: str, version: str | None = None
           ) -> StageChange:
    """Put a version (default: the challenger) in shadow."""
    version = resolve_version(registry, name, version)
    return set_stage(registry, store, project, name, "shadow", version, action="shadow")


def promote(registry: Registry, store, project, name: str, version: str | None = None, *,
            reason: str | None = None, scores: dict | None = None) -> StageChange:
    """Make a version (default: the challenger) champion, unless a critical incident is
    open on what it read (refused with the reasons: resolve the incident first)."""
    version = resolve_version(registry, name, version)
    blocked = open_incidents(project, store, name, version)
    if blocked:
        return StageChange(name, "champion", version, registry.alias(name, "champion"), False,
                           blocked, dict(scores or {}))
    return set_stage(registry, store, project, name, "champion", version, action="promote",
                     reason=reason or "promoted by " + current_user(), event="model.promoted",
                     scores=scores)


def rollback(registry: Registry, store, project, name: str, to: str | None = None, *,
             reason: str | None = None) -> StageChange:
    """Give ``champion`` back to the version it replaced (or to version ``to``)."""
    current = registry.alias(name, "champion")
    if current is None:
        raise ConfigError(f"model {name!r} has no champion to roll back")
    if to is None:
        history = lineage.stages(store, name)
        promoted = history[(history["alias"] == "champion") &
                           (history["model_version"] == current) &
                           (history["action"] == "promote")]
        earlier = promoted["previous_version"].dropna()
        if earlier.empty:
            raise ConfigError(f"model {name!r}: champion version {current} replaced no earlier "
                              "champion: name one with --to VERSION")
        to = str(earlier.iloc[-1])
    to = resolve_version(registry, name, to)
    return set_stage(registry, store, project, name, "champion", to, action="rollback",
                     reason=reason or "rolled back by " + current_user(),
                     event="model.rolled_back")


def auto_promote(registry: Registry, store, project, spec, version: str, challenger: float,
                 evaluation) -> StageChange:
    """Promote ``version`` if it beats the champion on the newest eval window by the
    pipeline's margin (the champion is scored on the same rows now)."""
    metric = spec.metric
    champion = registry.alias(spec.name, "champion")
    scores = {"challenger": challenger}
    if champion is not None and champion != version:
        model = registry.load(spec.name, champion)
        scores["champion"] = metric.score(model, evaluation.X, evaluation.y)
        if not metric.beats(challenger, scores["champion"], spec.promotion.margin):
            return StageChange(spec.name, "champion", version, champion, False, [
                f"{metric.name} {challenger:.4g} does not beat champion version {champion} "
                f"({scores['champion']:.4g}) by the margin {spec.promotion.margin:g}"], scores)
    return promote(registry, store, project, spec.name, version,
                   reason=f"beat the champion on the newest window ({metric.name})",
                   scores=scores)
