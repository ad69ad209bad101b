"""One run of a pipeline: gate, build the windows, select, train, evaluate, register.

1. every partition the run would read is gated (``watchkeeper.gate``), newest first;
   invalid ones are skipped and listed; too few valid ones block the run;
2. the train and eval windows are built anew from the data;
3. hyperparameters are chosen on the newest eval window (or, asked for, averaged
   over old time splits);
4. the model is trained on the train window, evaluated per eval partition, and
   registered in MLflow as ``challenger``;
5. the partitions read (row counts, profile fingerprints) are stored as lineage, and
   ``train.after`` fires.

A run that fails after registering undoes it: no half-registered version, no alias
change. A blocked run registers nothing and is recorded with its reasons.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field

import pandas as pd

from ..errors import ConfigError
from . import lineage
from .data import Dataset, Inputs
from .registry import Registry
from .rollout import StageChange, auto_promote
from .metrics import Outputs
from .selection import Selection, per_partition, select
from .spec import PipelineSpec, load_pipeline, project_for
from .windows import plan_windows


@dataclass(frozen=True)
class RunResult:
    """What a run did. ``status`` is ``ok`` or ``blocked`` (then ``reasons`` say why)."""

    pipeline: str
    run_id: str
    status: str
    train: list[str] = field(default_factory=list)
    eval: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    selection: Selection | None = None
    metrics: dict = field(default_factory=dict)
    per_partition: list[dict] = field(default_factory=list)
    version: str | None = None
    mlflow_run_id: str | None = None
    promotion: StageChange | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return {"pipeline": self.pipeline, "run_id": self.run_id, "status": self.status,
                "version": self.version, "mlflow_run_id": self.mlflow_run_id,
                "train": self.train, "eval": self.eval, "skipped": self.skipped,
                "reasons": self.reasons, "metrics": self.metrics,
                "per_partition": self.per_partition,
                "selection": self.selection.to_dict() if self.selection else None,
                "promotion": self.promotion.to_dict() if self.promotion else None}


def run(pipeline, project=None, *, selection: str | None = None, store=None,
        registry: Registry | None = None) -> RunResult:
    """Run ``pipeline`` (a name in the project file, or a :class:`PipelineSpec`).

    ``selection`` overrides the spec's rule (``"newest"`` or ``"averaged"``).
    Returns a :class:`RunResult`; bad input raises a
    :class:`~watchkeeper.errors.ConfigError`.
    """
    project = project_for(project, "run wk init, declare the pipeline under pipelines:, "
                                   "then wk run NAME")
    spec = pipeline if isinstance(pipeline, PipelineSpec) else load_pipeline(project, pipeline)
    if selection is not None:
        spec = dataclasses.replace(spec, selection=selection)
    # Connected by the run's first session (one DuckDB open less).
    store = store if store is not None else project.store(lazy=True)
    registry = registry if registry is not None else Registry(project)
    started = pd.Timestamp.utcnow().tz_localize(None).to_pydatetime()
    run_id = uuid.uuid4().hex[:16]
    # One store connection for the gating and reading (dozens of reads and writes; opening
    # DuckDB costs milliseconds each), released before the fit so others can use the store.
    with store.session():
        gated = _gate_and_load(spec, project, store, run_id, started)
    if isinstance(gated, RunResult):
        return gated
    grain, base, skipped, train, evaluation, reads = gated
    chosen = select(spec.selection, spec.build, spec.search.candidates(), spec.metric, train,
                    evaluation, folds=spec.folds, eval_size=spec.eval_partitions,
                    report=[m for _, m in _metrics(spec)])
    model = (chosen.model if chosen.model is not None
             else spec.build(chosen.params).fit(train.X, train.y))
    # The eval window is predicted once: pooled and per-partition metrics and the
    # calibration all score the same predictions.
    outputs = (chosen.outputs if chosen.outputs is not None
               else Outputs.of(model, evaluation.X, [m for _, m in _metrics(spec)]))
    metrics = {m: _plain(spec_metric.score_outputs(outputs, evaluation.y))
               for m, spec_metric in _metrics(spec)}
    parts = per_partition(model, [m for _, m in _metrics(spec)], evaluation, grain.format,
                          outputs)
    from .estimate import fit_calibration

    calibration = fit_calibration(model, evaluation.X, evaluation.y, proba=outputs.proba)
    with store.session():
        version, mlflow_run = _register(spec, registry, store, model, chosen, metrics, reads,
                                        run_id, started, skipped, calibration)
    chosen = dataclasses.replace(chosen, model=None, outputs=None)  # the result keeps no model
    result = RunResult(status="ok", selection=chosen, metrics=metrics, per_partition=parts,
                       version=version, mlflow_run_id=mlflow_run, **base)
    _announce_trained(spec, project, result)
    if spec.promotion.auto:
        change = auto_promote(registry, store, project, spec, version,
                              metrics[spec.metric.name] if metrics[spec.metric.name] is not None
                              else float("nan"), evaluation)
        result = dataclasses.replace(result, promotion=change)
    return result


def _gate_and_load(spec: PipelineSpec, project, store, run_id: str, started):
    """Steps 1 and 2: gate, plan the windows, read them; a blocked run is recorded and
    returned as its :class:`RunResult`."""
    inputs = Inputs(spec, project, store)
    try:
        inputs.check_columns()
        grain = inputs.grain
        plan = plan_windows(inputs.partitions(), spec.train_partitions, spec.eval_partitions,
                            inputs.gate, where=f"pipeline {spec.name!r}")
        skipped = {grain.format(p): r for p, r in plan.skipped.items()}
        base = dict(pipeline=spec.name, run_id=run_id, train=[grain.format(p) for p in plan.train],
                    eval=[grain.format(p) for p in plan.eval], skipped=skipped)
        if not plan.complete:
            reasons = [f"only {len(plan.train) + len(plan.eval)} valid partitions of the "
                       f"{spec.train_partitions + spec.eval_partitions} the windows need "
                       f"({len(plan.skipped)} skipped by the gate)"]
            lineage.record_run(store, run_id=run_id, pipeline=spec.name, status="blocked",
                               model_version=None, mlflow_run_id=None, selection={},
                               params={}, metrics={}, skipped=skipped, reasons=reasons,
                               started_at=started)
            return RunResult(status="blocked", reasons=reasons, **base)
        train, evaluation = inputs.load(plan.train), inputs.load(plan.eval)
        _check_rows(spec, train, evaluation)
        reads = inputs.reads(plan.train, plan.eval)
    finally:
        inputs.close()
    return grain, base, skipped, train, evaluation, reads


def _announce_trained(spec: PipelineSpec, project, result: RunResult) -> None:
    """``train.after``, once per run, on the first feature table's newest eval partition."""
    from ..triggers import Event, fire

    fire(Event("train.after", table=spec.features[0].table, partition=result.eval[-1],
               model=spec.name, severity="info",
               context={"version": result.version, "run_id": result.run_id,
                        "metrics": result.metrics, "params": result.selection.params}),
         project)


def _check_rows(spec: PipelineSpec, train: Dataset, evaluation: Dataset) -> None:
    for name, data in (("train", train), ("eval", evaluation)):
        if len(data) == 0:
            raise ConfigError(f"pipeline {spec.name!r}: no {name} rows join the label "
                              f"{spec.label.table}.{spec.label.column} on "
                              f"{', '.join(spec.label.entity) or 'the partition alone'}: check "
                              "the entity keys")


def _metrics(spec: PipelineSpec):
    from .metrics import METRICS

    return [(name, METRICS[name]) for name in spec.metrics]


def _plain(value: float) -> float | None:
    return None if value != value else float(value)


def _register(spec: PipelineSpec, registry: Registry, store, model, chosen: Selection,
              metrics: dict, reads: list, run_id: str, started, skipped: dict,
              calibration=None) -> tuple[str, str]:
    """Register, record lineage, move ``challenger``: all of it, or none of it."""
    params = {**dict(spec.params), **chosen.params}
    previous = registry.alias(spec.name, "challenger")  # also tells the registry the model exists
    version, mlflow_run = registry.log_and_register(
        spec.name, model, model_import=spec.model, params=params,
        metrics={k: v for k, v in metrics.items() if v is not None},
        tags={"watchkeeper.run_id": run_id, "watchkeeper.selection": spec.selection})
    try:
        lineage.record_run(store, run_id=run_id, pipeline=spec.name, status="ok",
                           model_version=version, mlflow_run_id=mlflow_run,
                           selection=chosen.to_dict(), params=params, metrics=metrics,
                           skipped=skipped, reasons=[], started_at=started, reads=reads,
                           calibration=calibration)
        registry.set_alias(spec.name, "challenger", version)
        lineage.record_stage(store, model=spec.name, alias="challenger", version=version,
                             previous=previous, action="register", reason=f"run {run_id}",
                             user=_user())
    except BaseException:
        _undo(registry, store, spec.name, version, previous)
        raise
    return version, mlflow_run


def _undo(registry: Registry, store, name: str, version: str, previous: str | None) -> None:
    for step in (lambda: registry.set_alias(name, "challenger", previous),
                 lambda: lineage.forget_version(store, name, version),
                 lambda: registry.delete_version(name, version)):
        try:
            step()
        except Exception:  # noqa: BLE001  (undo as much as possible; the cause is re-raised)
            pass


def _user() -> str:
    from ..alerts.tolerance import current_user

    return current_user()
