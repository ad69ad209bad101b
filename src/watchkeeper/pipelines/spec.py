"""Pipelines declared as data, under ``pipelines:`` in ``watchkeeper.yaml``.

```yaml
pipelines:
  revenue:
    features:                       # one or more registered tables, joined on their keys
      - table: order_features
        entity: [order_id]          # entity keys; the time key is the partition column
        columns: [hour, pizzas]     # optional: default every column but the keys
    label:
      table: order_labels
      column: revenue
      entity: [order_id]
    model:
      import: sklearn.linear_model.Ridge   # an estimator class, from this file only
      params: {alpha: 1.0}
    task: regression                # optional: the model says it
    windows: {train: 28, eval: 7}   # partitions
    metrics: [rmse, mae]            # the first one selects and promotes
    search:
      kind: grid                    # grid | random (then n_iter, seed)
      params: {alpha: [0.1, 1.0, 10.0]}
    selection: newest               # newest (the default) | averaged
    promotion: {auto: true, margin: 0.02}
    schedule: "0 6 * * *"           # optional: a cron line, or "every 30m"
    performance:                    # optional: SLOs of the champion, judged on labels
      slos: ["rmse <= 12"]
      rollback_within: 7
```

Every mistake is a :class:`~watchkeeper.errors.ConfigError` of one line that names
the pipeline, the key and the fix. The Python builder :func:`pipeline` makes the
same object; :meth:`PipelineSpec.to_dict` gives the YAML form back.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .metrics import DEFAULT_METRICS, METRICS
from .models import build_estimator, check_keys, set_params, task_of
from .schedules import check_schedule
from .slos import Performance

SELECTIONS = ("newest", "averaged")
SEARCH_KINDS = ("grid", "random")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_KEYS = ("features", "label", "model", "task", "windows", "metrics", "search", "selection",
         "folds", "promotion", "schedule", "performance")


def _names(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a column name or a list of them")
    return tuple(value)


@dataclass(frozen=True)
class Source:
    """A registered table read by a pipeline: its entity keys and (for features) columns.

    The time key is ``time`` if given, else the table's partition column.
    """

    table: str
    entity: tuple[str, ...] = ()
    time: str | None = None
    columns: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, raw, where: str) -> "Source":
        if isinstance(raw, str):
            return cls(raw)
        raw = check_keys(where, raw, ("table", "entity", "time", "columns"), ("table",))
        columns = raw.get("columns")
        return cls(str(raw["table"]), _names(raw.get("entity"), f"{where}.entity"),
                   str(raw["time"]) if raw.get("time") else None,
                   None if columns is None else _names(columns, f"{where}.columns"))

    def to_dict(self) -> dict:
        out: dict = {"table": self.table}
        if self.entity:
            out["entity"] = list(self.entity)
        if self.time:
            out["time"] = self.time
        if self.columns is not None:
            out["columns"] = list(self.columns)
        return out


@dataclass(frozen=True)
class Label:
    """Where the target comes from: a column of a registered table, joined on the keys."""

    table: str
    column: str
    entity: tuple[str, ...] = ()
    time: str | None = None

    @classmethod
    def from_dict(cls, raw, where: str) -> "Label":
        raw = check_keys(where, raw, ("table", "column", "entity", "time"), ("table", "column"))
        return cls(str(raw["table"]), str(raw["column"]), _names(raw.get("entity"),
                   f"{where}.entity"), str(raw["time"]) if raw.get("time") else None)

    @property
    def source(self) -> Source:
        return Source(self.table, self.entity, self.time, (self.column,))

    def to_dict(self) -> dict:
        out: dict = {"table": self.table, "column": self.column}
        if self.entity:
            out["entity"] = list(self.entity)
        if self.time:
            out["time"] = self.time
        return out


@dataclass(frozen=True)
class Search:
    """Hyperparameter candidates: every grid point, or ``n_iter`` random draws (``seed``)."""

    kind: str = "grid"
    params: Mapping[str, Any] = field(default_factory=dict)
    n_iter: int = 10
    seed: int = 0

    def candidates(self) -> list[dict]:
        """The parameter settings to try, in a stable order (scikit-learn draws them)."""
        from sklearn.model_selection import ParameterGrid, ParameterSampler

        grid = {k: list(v) for k, v in self.params.items()}
        if not grid:
            return [{}]
        if self.kind == "grid":
            return [dict(p) for p in ParameterGrid(grid)]
        size = len(ParameterGrid(grid))
        return [dict(p) for p in ParameterSampler(grid, n_iter=min(self.n_iter, size),
                                                  random_state=self.seed)]

    def to_dict(self) -> dict:
        out: dict = {"kind": self.kind, "params": {k: list(v) for k, v in self.params.items()}}
        if self.kind == "random":
            out.update(n_iter=self.n_iter, seed=self.seed)
        return out


@dataclass(frozen=True)
class Promotion:
    """Whether a run promotes its version by itself, and by how much it must win."""

    auto: bool = False
    margin: float = 0.0

    def to_dict(self) -> dict:
        return {"auto": self.auto, "margin": self.margin}


@dataclass(frozen=True)
class PipelineSpec:
    """One pipeline; validated when built (model import path, task, metrics, search)."""

    name: str
    features: tuple[Source, ...]
    label: Label
    model: str
    params: Mapping[str, Any] = field(default_factory=dict)
    train_partitions: int = 28
    eval_partitions: int = 7
    metrics: tuple[str, ...] = ()
    search: Search = field(default_factory=Search)
    selection: str = "newest"
    folds: int = 3
    task: str | None = None
    promotion: Promotion = field(default_factory=Promotion)
    schedule: str | None = None
    performance: Performance = field(default_factory=Performance)

    def __post_init__(self) -> None:
        where = f"pipeline {self.name!r}"
        if not _NAME.match(self.name or ""):
            raise ConfigError(f"pipeline {self.name!r}: a pipeline name is letters, digits, "
                              "_ . - (it names the registered model): rename it")
        if not self.features:
            raise ConfigError(f"{where} needs at least one table under features")
        for key, n in (("train", self.train_partitions), ("eval", self.eval_partitions)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise ConfigError(f"{where}: windows.{key} must be a whole number of "
                                  f"partitions >= 1, not {n!r}")
        if self.selection not in SELECTIONS:
            raise ConfigError(f"{where}: selection {self.selection!r} is not one of "
                              f"{', '.join(SELECTIONS)}")
        if not isinstance(self.folds, int) or self.folds < 2:
            raise ConfigError(f"{where}: folds must be a whole number >= 2 (used by "
                              "selection: averaged)")
        if self.schedule is not None:
            check_schedule(self.schedule, where)
        if self.search.kind not in SEARCH_KINDS:
            raise ConfigError(f"{where}: search.kind {self.search.kind!r} is not one of "
                              f"{', '.join(SEARCH_KINDS)}")
        estimator = self.build()  # resolves the import path and checks params
        task = task_of(estimator, self.task, where, self.model)
        object.__setattr__(self, "task", task)
        metrics = tuple(self.metrics) or DEFAULT_METRICS[task]
        for name in metrics:
            metric = METRICS.get(name)
            if metric is None:
                raise ConfigError(f"{where}: unknown metric {name!r}: use one of "
                                  f"{', '.join(m for m, v in METRICS.items() if v.task == task)}")
            if metric.task != task:
                fits = ", ".join(m for m, v in METRICS.items() if v.task == task)
                raise ConfigError(f"{where}: metric {name!r} scores {metric.task}, but the "
                                  f"model does {task}: use one of {fits}")
        object.__setattr__(self, "metrics", metrics)
        self.performance.check(where, task)
        for params in self.search.candidates():
            set_params(estimator, params, where, "search.params")

    # -- the model -------------------------------------------------------------------
    def build(self, params: Mapping[str, Any] | None = None):
        """A fresh, unfitted estimator with the spec's params, then ``params`` on top."""
        where = f"pipeline {self.name!r}"
        estimator = build_estimator({"import": self.model, "params": dict(self.params)}, where)
        if params:
            set_params(estimator, params, where, "search.params")
        return estimator

    def predict(self, frame, *, partition=None, project=None):
        """Score ``frame`` with this pipeline's champion, through its guards, and log the
        batch (see :func:`watchkeeper.pipelines.predict_frame`)."""
        from .predict import predict_frame

        return predict_frame(self, frame, project, partition=partition)

    @property
    def metric(self):
        """The metric that selects hyperparameters and decides promotion."""
        return METRICS[self.metrics[0]]

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every table the pipeline reads: the feature tables, then the label's table."""
        return (*self.features, self.label.source)

    # -- YAML ---------------------------------------------------------------------
    @classmethod
    def from_dict(cls, name: str, raw: Any) -> "PipelineSpec":
        where = f"pipeline {name!r}"
        raw = check_keys(where, raw, _KEYS, ("features", "label", "model"))
        features = raw["features"]
        if isinstance(features, (str, Mapping)):
            features = [features]
        if not isinstance(features, list):
            raise ConfigError(f"{where}: features must list tables")
        sources = tuple(Source.from_dict(f, f"{where} features[{i}]")
                        for i, f in enumerate(features))
        model = raw["model"]
        if isinstance(model, str):
            model = {"import": model}
        model = check_keys(f"{where} model", model, ("import", "params"), ("import",))
        windows = check_keys(f"{where} windows", raw.get("windows") or {}, ("train", "eval"))
        search = check_keys(f"{where} search", raw.get("search") or {},
                       ("kind", "params", "n_iter", "seed"))
        params = search.get("params") or {}
        if not isinstance(params, Mapping) or not all(
                isinstance(v, list) and v for v in params.values()):
            raise ConfigError(f"{where}: search.params must map parameter names to non-empty "
                              "lists of values")
        promotion = check_keys(f"{where} promotion", raw.get("promotion") or {}, ("auto", "margin"))
        metrics = raw.get("metrics") or ()
        performance = raw.get("performance")
        spec = cls(
            str(name), sources, Label.from_dict(raw["label"], f"{where} label"),
            str(model["import"]), dict(model.get("params") or {}),
            windows.get("train", 28), windows.get("eval", 7),
            _names(metrics, f"{where} metrics"),
            Search(str(search.get("kind", "grid")), dict(params),
                   _int(search.get("n_iter", 10), f"{where} search.n_iter"),
                   _int(search.get("seed", 0), f"{where} search.seed")),
            str(raw.get("selection", "newest")), _int(raw.get("folds", 3), f"{where} folds"),
            str(raw["task"]) if raw.get("task") else None,
            Promotion(bool(promotion.get("auto", False)),
                      _float(promotion.get("margin", 0.0), f"{where} promotion.margin")),
            str(raw["schedule"]) if raw.get("schedule") else None)
        if performance is None:
            return spec
        return dataclasses.replace(spec, performance=Performance.from_dict(
            performance, where, spec.task))

    def to_dict(self) -> dict:
        out: dict = {"features": [f.to_dict() for f in self.features],
                     "label": self.label.to_dict(),
                     "model": {"import": self.model, "params": dict(self.params)},
                     "task": self.task,
                     "windows": {"train": self.train_partitions, "eval": self.eval_partitions},
                     "metrics": list(self.metrics), "search": self.search.to_dict(),
                     "selection": self.selection}
        if self.selection == "averaged":
            out["folds"] = self.folds
        out["promotion"] = self.promotion.to_dict()
        if self.schedule:
            out["schedule"] = self.schedule
        if self.performance.slos:
            out["performance"] = self.performance.to_dict()
        return out


def _int(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be a whole number, not {value!r}")
    return value


def _float(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{where} must be a number >= 0, not {value!r}")
    return float(value)


# -- the section and the builder ----------------------------------------------------
def load_pipelines(project) -> dict[str, PipelineSpec]:
    """The ``pipelines:`` section of a :class:`watchkeeper.Project` (empty if absent)."""
    raw = project.extra.get("pipelines") if project is not None else None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("pipelines: must map pipeline names to their settings")
    return {str(k): PipelineSpec.from_dict(str(k), v) for k, v in raw.items()}


def project_for(project, need: str):
    """The project ``project`` names (a Project, a folder, or None: the one here or above);
    ConfigError ``no watchkeeper.yaml here or above: <need>`` without one."""
    from ..triggers.dispatch import _project

    found = _project(project)
    if found is None:
        raise ConfigError(f"no watchkeeper.yaml here or above: {need}")
    return found


def load_pipeline(project, name: str) -> PipelineSpec:
    """One pipeline of the project file, by name."""
    raw = (project.extra.get("pipelines") or {}) if project is not None else {}
    if not isinstance(raw, Mapping) or name not in raw:
        known = ", ".join(sorted(raw)) if isinstance(raw, Mapping) and raw else "none"
        where = project.path if project is not None else "watchkeeper.yaml (none found)"
        raise ConfigError(f"no pipeline named {name!r} in {where} (declared: {known}): "
                          "declare it under pipelines:")
    return PipelineSpec.from_dict(name, raw[name])


def dump_pipelines(specs: Sequence[PipelineSpec]) -> dict:
    """The ``pipelines:`` section for ``specs`` (``project.extra["pipelines"] = ...``)."""
    return {s.name: s.to_dict() for s in specs}


def pipeline(name: str, *, features, label: Label, model: str, params: Mapping | None = None,
             train: int = 28, eval: int = 7, metrics: Sequence[str] = (),  # noqa: A002
             search: Search | None = None, selection: str = "newest", folds: int = 3,
             task: str | None = None, promotion: Promotion | None = None,
             schedule: str | None = None,
             performance: Performance | None = None) -> PipelineSpec:
    """The Python builder: the same :class:`PipelineSpec` as the YAML section makes.

    ``features`` is a table name, a :class:`Source`, or a list of them.
    """
    if isinstance(features, (str, Source)):
        features = [features]
    sources = tuple(f if isinstance(f, Source) else Source(str(f)) for f in features)
    return PipelineSpec(name, sources, label, model, dict(params or {}), train, eval,
                        tuple(metrics), search or Search(), selection, folds, task,
                        promotion or Promotion(), schedule, performance or Performance())
