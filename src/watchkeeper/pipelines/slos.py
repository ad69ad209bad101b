"""Performance SLOs of a pipeline's champion, judged when labels land.

```yaml
pipelines:
  big-orders:
    ...
    performance:
      slos: ["roc_auc >= 0.8", "log_loss <= 0.5"]   # METRIC OP THRESHOLD (auc = roc_auc)
      severity: critical        # of the incident a failure opens (warning | critical)
      rollback_within: 7        # a champion's first N served partitions are probation
```

Each SLO is judged per labelled partition on the champion's realised performance.
A failure opens an incident on the predictions table (``incident.opened`` fires)
and, when the champion is still on probation (the partition is among the first
``rollback_within`` partitions it served as champion) and it replaced an earlier
champion, gives champion back to that version (``model.rolled_back`` fires).
"""

from __future__ import annotations

import dataclasses
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from ..errors import ConfigError

PERFORMANCE_METRICS = {"classification": ("roc_auc", "log_loss", "accuracy"),
                       "regression": ("rmse", "mae")}
"""What labels give per partition, by task (computed from the logged predictions)."""

GREATER_IS_BETTER = {"roc_auc": True, "accuracy": True, "log_loss": False, "rmse": False,
                     "mae": False}
_ALIASES = {"auc": "roc_auc", "logloss": "log_loss"}
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_SLO = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=|>|<)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class PerformanceSLO:
    """``metric op threshold``, e.g. ``roc_auc >= 0.8``."""

    metric: str
    op: str
    threshold: float

    @classmethod
    def parse(cls, text, where: str) -> "PerformanceSLO":
        found = _SLO.match(str(text)) if isinstance(text, str) else None
        if found is None:
            raise ConfigError(f"{where}: {text!r} is not an SLO like 'roc_auc >= 0.8' "
                              "(METRIC OP NUMBER, OP one of >= > <= <)")
        name, op, number = found.groups()
        return cls(_ALIASES.get(name.lower(), name.lower()), op, float(number))

    @property
    def name(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"

    def passed(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the SLO; None when there is no value to judge."""
        if value is None or value != value:
            return None
        return bool(_OPS[self.op](value, self.threshold))


@dataclass(frozen=True)
class Performance:
    """The ``performance:`` section: SLOs, the incident severity, the probation length."""

    slos: tuple[PerformanceSLO, ...] = ()
    severity: str = "critical"
    rollback_within: int = 0
    min_rows: int = 1

    def __post_init__(self) -> None:
        # The Python builder may pass the SLOs as text, as the YAML does.
        slos = (self.slos,) if isinstance(self.slos, (str, PerformanceSLO)) else self.slos
        object.__setattr__(self, "slos", tuple(
            s if isinstance(s, PerformanceSLO) else PerformanceSLO.parse(s, "performance")
            for s in slos))

    @classmethod
    def from_dict(cls, raw, where: str, task: str) -> "Performance":
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: performance must be a mapping with keys slos, "
                              "severity, rollback_within, min_rows")
        unknown = sorted(set(map(str, raw)) - {"slos", "severity", "rollback_within",
                                               "min_rows"})
        if unknown:
            raise ConfigError(f"{where} performance has unknown keys {unknown}: use slos, "
                              "severity, rollback_within, min_rows")
        slos = raw.get("slos") or []
        if isinstance(slos, str):
            slos = [slos]
        if not isinstance(slos, list):
            raise ConfigError(f"{where}: performance.slos must list SLOs like 'roc_auc >= 0.8'")
        parsed = tuple(PerformanceSLO.parse(s, f"{where} performance.slos") for s in slos)
        out = cls(parsed, str(raw.get("severity", "critical")),
                  _whole(raw.get("rollback_within", 0), f"{where} performance.rollback_within"),
                  _whole(raw.get("min_rows", 1), f"{where} performance.min_rows"))
        out.check(where, task)
        return out

    def check(self, where: str, task: str) -> None:
        fits = PERFORMANCE_METRICS[task]
        for slo in self.slos:
            if slo.metric not in fits:
                raise ConfigError(f"{where}: performance SLO {slo.name!r} names a metric labels "
                                  f"do not give for {task}: use one of {', '.join(fits)}")
        if self.severity not in ("warning", "critical"):
            raise ConfigError(f"{where}: performance.severity {self.severity!r} is not "
                              "warning or critical")

    def to_dict(self) -> dict:
        return {"slos": [s.name for s in self.slos], "severity": self.severity,
                "rollback_within": self.rollback_within, "min_rows": self.min_rows}


def _whole(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where} must be a whole number >= 0, not {value!r}")
    return value


@dataclass(frozen=True)
class SLOFailure:
    """A performance SLO the champion failed on a labelled partition, and what followed."""

    slo: str
    partition: str
    version: str
    value: float
    incident_id: int | None = None
    rolled_back: bool = False
    rollback_to: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"slo": self.slo, "partition": self.partition, "version": self.version,
                "value": self.value, "incident_id": self.incident_id,
                "rolled_back": self.rolled_back, "rollback_to": self.rollback_to,
                "notes": list(self.notes)}


# -- judging -----------------------------------------------------------------------------
def judge(spec, project, store, registry, realised: pd.DataFrame, grain) -> list[SLOFailure]:
    """Judge the champion's realised rows (``partition, model_version, stage, metric,
    value, row_count``) of the partitions just labelled; open incidents; roll back a
    champion on probation."""
    perf: Performance = spec.performance
    if not perf.slos or realised.empty:
        return []
    champion = realised[realised["stage"] == "champion"]
    failures = []
    for (partition, version), rows in champion.groupby(["partition", "model_version"],
                                                       sort=True):
        values = dict(zip(rows["metric"], rows["value"]))
        count = int(rows["row_count"].max())
        if count < perf.min_rows:
            continue
        for slo in perf.slos:
            value = values.get(slo.metric)
            if slo.passed(value) is False:
                failures.append(_fail(spec, project, store, registry, slo,
                                      pd.Timestamp(partition), str(version), float(value),
                                      grain))
    return failures


def _fail(spec, project, store, registry, slo: PerformanceSLO, partition: pd.Timestamp,
          version: str, value: float, grain) -> SLOFailure:
    from .predict import predictions_table

    key = grain.format(partition)
    incident = _open_incident(project, store, predictions_table(spec), slo, partition, value,
                              spec.performance.severity, spec.name, grain)
    failure = SLOFailure(slo.name, key, version, value, incident)
    within = spec.performance.rollback_within
    if not within or registry.alias(spec.name, "champion") != version:
        return failure
    served = _served_as_champion(store, spec.name, version)
    if partition not in served[:within]:
        return dataclasses.replace(failure, notes=[
            f"version {version} served {len(served)} partitions as champion, more than the "
            f"{within} of its probation: not rolled back"])
    from .rollout import rollback

    try:
        change = rollback(registry, store, project, spec.name, reason=(
            f"performance SLO {slo.name} failed on {key} ({value:.4g}) within {within} "
            f"partitions of its promotion"))
    except ConfigError as exc:  # replaced no earlier champion: nothing to roll back to
        return dataclasses.replace(failure, notes=[str(exc)])
    return dataclasses.replace(failure, rolled_back=True, rollback_to=change.version)


def _served_as_champion(store, pipeline: str, version: str) -> list[pd.Timestamp]:
    """The partitions ``version`` scored as champion since it last became champion, oldest
    first."""
    from . import lineage

    history = lineage.stages(store, pipeline)
    became = history[(history["alias"] == "champion") &
                     (history["model_version"] == version)]
    since = became["changed_at"].max() if len(became) else None
    with store._connect() as db:
        frame = db.fetch_frame("SELECT partition_start, created_at FROM wk_prediction_batches"
                               " WHERE pipeline = ? AND model_version = ?"
                               " ORDER BY partition_start", [pipeline, version])
    if since is not None:
        frame = frame[pd.to_datetime(frame["created_at"]) >= since]
    return sorted({pd.Timestamp(p) for p in frame["partition_start"]})


def _open_incident(project, store, table: str, slo: PerformanceSLO, partition: pd.Timestamp,
                   value: float, severity: str, model: str, grain) -> int:
    """An incident on the predictions table for the failed SLO (one per SLO and
    partition: a second failure of the same one updates nothing), ``incident.opened``."""
    from ..alerts import records
    from ..alerts.model import Anomaly, Incident
    from ..detect import Severity

    check = f"performance: {slo.name}"
    for known in records.load_all(store, table=table, partitions=[partition]):
        if any(a.check == check for a in known.anomalies):
            return int(known.id)
    low, high = ((slo.threshold, float("nan")) if slo.op in (">=", ">")
                 else (float("nan"), slo.threshold))
    level = Severity(severity)
    anomaly = Anomaly(table, partition, "prediction", slo.metric, value, low, high,
                      score=abs(value - slo.threshold), source="slo", severity=level,
                      check=check, note=f"labelled performance of model {model}")
    saved = records.save(store, Incident(table, (partition,), (anomaly,), level,
                                         abs(value - slo.threshold), cause="performance",
                                         granularity=grain))
    from ..triggers import Event, fire

    fire(Event("incident.opened", table=table, partition=partition, severity=severity,
               incident_id=str(saved.id), column="prediction", model=model,
               context={"cause": "performance", "slo": slo.name, "observed": value,
                        "partitions": [grain.format(partition)]}), project)
    return int(saved.id)
