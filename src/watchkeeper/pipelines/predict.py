"""Scoring a partition with the champion, the shadow beside it, and logging both.

``predict(pipeline, partition)``:

1. gates the feature tables' partition for serving (``serve.before``); a blocked
   partition is not scored;
2. scores it with the ``champion`` version from the project's registry; the batch
   goes through the model's guards (``watchkeeper.guard``: ``serve.before`` rules);
3. scores the same rows with the ``shadow`` version, if there is one: logged, never
   served;
4. writes both into the managed table ``<pipeline>_predictions`` (one ingest per
   partition: quarantine on write, versions, snapshots), columns: the entity and
   time keys, the partition column, ``prediction`` (and ``score``, the positive
   class's probability, for a binary classifier), ``model_version``, ``stage``
   (champion or shadow) and ``batch_id``;
5. records which version produced the batch from which partitions
   (``wk trace BATCH``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConfigError, EmptySourceError
from . import lineage
from .data import PARTITION, Inputs, partition_starts
from .registry import Registry
from .spec import PipelineSpec, load_pipeline, project_for

OUTPUT_COLUMNS = ("prediction", "score", "model_version", "stage", "batch_id")


@dataclass(frozen=True)
class PredictResult:
    """A scored batch: ``status`` ``ok`` or ``blocked`` (the gate's ``reasons``)."""

    pipeline: str
    partition: str
    status: str
    batch_id: str | None = None
    version: str | None = None
    shadow_version: str | None = None
    rows: int = 0
    served: pd.DataFrame | None = field(default=None, repr=False)
    table: str | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return {"pipeline": self.pipeline, "partition": self.partition, "status": self.status,
                "batch_id": self.batch_id, "version": self.version,
                "shadow_version": self.shadow_version, "rows": self.rows,
                "served": 0 if self.served is None else len(self.served), "table": self.table,
                "reasons": self.reasons}


def predictions_table(spec: PipelineSpec) -> str:
    return f"{spec.name}_predictions"


def predict(pipeline, partition, project=None, *, store=None,
            registry: Registry | None = None) -> PredictResult:
    """Score ``partition`` of the pipeline's feature tables with its champion."""
    project, spec, store, registry, version = _context(pipeline, project, store, registry)
    inputs = Inputs(spec, project, store)
    try:
        start = inputs.grain.start_of(partition)
        key = inputs.grain.format(start)
        feature_tables = [s.table for s in spec.features]
        for name in feature_tables:
            if start not in set(inputs.readers[name].partitions()):
                raise EmptySourceError(f"table {name!r} has no rows in partition {key}: check "
                                       "the date")
        blocked = inputs.gate([start], for_="serve", tables=feature_tables)
        if blocked:
            return PredictResult(spec.name, key, "blocked", version=version,
                                 reasons=blocked[start])
        keys, X = inputs.features([start])
        column = inputs.readers[feature_tables[0]].partition_column
        grain = inputs.grain
    finally:
        inputs.close()
    return _score_and_log(project, spec, store, registry, version, keys, X, start, grain,
                          column, {t: key for t in feature_tables})


def predict_frame(pipeline, frame, project=None, *, partition=None, store=None,
                  registry: Registry | None = None) -> PredictResult:
    """Score the rows of ``frame`` (pandas, or anything with ``to_pandas``) with the
    champion, through its guards, and log them as :func:`predict` does.

    ``frame`` holds the feature tables' entity keys, their feature columns and (unless
    ``partition`` is given) the partition column, with rows of one partition.
    """
    project, spec, store, registry, version = _context(pipeline, project, store, registry)
    frame = _pandas(frame)
    inputs = Inputs(spec, project, store)
    try:
        grain = inputs.grain
        column = inputs.readers[spec.features[0].table].partition_column
    finally:
        inputs.close()
    start = _partition_of(spec, frame, column, grain, partition)
    keys = _key_columns(spec)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ConfigError(f"pipeline {spec.name!r}: the frame has no column {missing[0]!r} "
                          "(an entity or time key of its features): add it")
    model = registry.load(spec.name, version)
    wanted = [str(c) for c in getattr(model, "feature_names_in_", [])] or [
        c for c in frame.columns if c not in keys and c != column]
    absent = [c for c in wanted if c not in frame.columns]
    if absent:
        raise ConfigError(f"pipeline {spec.name!r}: the frame has no feature column "
                          f"{absent[0]!r}, which version {version} was trained on: add it")
    key_frame = frame[keys].reset_index(drop=True)
    key_frame[PARTITION] = np.full(len(frame), np.datetime64(start, "ns"))
    return _score_and_log(project, spec, store, registry, version, key_frame,
                          frame[wanted].reset_index(drop=True), start, grain, column,
                          {"frame": grain.format(start)}, champion_model=model,
                          append_on=keys)


def _context(pipeline, project, store, registry):
    project = project_for(project, "predictions need a project")
    spec = pipeline if isinstance(pipeline, PipelineSpec) else load_pipeline(project, pipeline)
    store = store if store is not None else project.store()
    registry = registry if registry is not None else Registry(project)
    version = registry.alias(spec.name, "champion")
    if version is None:
        raise ConfigError(f"model {spec.name!r} has no champion to predict with: promote a "
                          f"version first (wk model promote {spec.name})")
    return project, spec, store, registry, version


def _pandas(frame) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "to_pandas"):
        return frame.to_pandas()
    raise ConfigError(f"predict takes a pandas (or Polars, Arrow) frame, not "
                      f"{type(frame).__name__}")


def _key_columns(spec: PipelineSpec) -> list[str]:
    return list(dict.fromkeys(k for s in spec.features
                              for k in (*s.entity, *([s.time] if s.time else []))))


def _partition_of(spec: PipelineSpec, frame: pd.DataFrame, column: str, grain, partition):
    if partition is not None:
        return grain.start_of(partition)
    if column not in frame.columns:
        raise ConfigError(f"pipeline {spec.name!r}: the frame has no partition column "
                          f"{column!r}: add it, or pass partition=")
    starts = set(partition_starts(frame[column].dropna(), grain, what=f"column {column!r}"))
    if len(starts) != 1:
        raise ConfigError(f"pipeline {spec.name!r}: the frame holds rows of {len(starts)} "
                          f"partitions of {column!r}: pass one partition at a time")
    return starts.pop()


def _score_and_log(project, spec, store, registry, version, keys, X, start, grain, column,
                   inputs: dict, champion_model=None, append_on=None) -> PredictResult:
    """Score with the champion (guarded, served) and the shadow (logged only), log both,
    record the batch and the estimated performance."""
    from ..triggers import guard

    batch_id = uuid.uuid4().hex[:16]
    base = _frame(keys, column)
    model = champion_model if champion_model is not None else registry.load(spec.name, version)
    champion = _scored(model, X, base)
    table_name = predictions_table(spec)
    served = guard(champion, model=spec.name, project=project, table=table_name,
                   batch_id=batch_id)
    logged = [served.assign(model_version=version, stage="champion", batch_id=batch_id)]
    shadow = registry.alias(spec.name, "shadow")
    if shadow is not None and shadow != version:
        scored = _scored(registry.load(spec.name, shadow), X, base)
        logged.append(scored.assign(model_version=shadow, stage="shadow", batch_id=batch_id))
    else:
        shadow = None
    frame = pd.concat(logged, ignore_index=True)
    ingest, frame = _log(project, store, table_name, column, grain, frame, start, append_on)
    classes = getattr(model, "classes_", None)
    lineage.record_batch(store, batch_id=batch_id, pipeline=spec.name, partition=start,
                         version=version, shadow_version=shadow, rows_in=len(champion),
                         rows_served=len(served), table=table_name,
                         ingest_id=ingest.ingest_id, inputs=inputs,
                         classes=None if classes is None else list(classes))
    _estimate(spec, store, frame, start, classes)
    return PredictResult(spec.name, grain.format(start), "ok", batch_id, version, shadow,
                         len(champion), served, table_name)


def _estimate(spec, store, frame: pd.DataFrame, start, classes) -> None:
    """CBPE estimates of each stage's rows, for a binary classifier with a calibration."""
    from . import estimate
    from .performance import as_labels, rows_of, save

    if classes is None or len(classes) != 2 or "score" not in frame.columns:
        return
    rows = []
    for (version, stage), group in frame.groupby(["model_version", "stage"]):
        calibration = estimate.load(store, spec.name, version)
        if calibration is None:
            continue
        positive = as_labels(group["prediction"]) == calibration.positive
        values = estimate.expected(group["score"].to_numpy(), positive, calibration)
        rows += rows_of(spec.name, version, stage, start, "estimated", values,
                                    len(group))
    save(store, rows)
def _frame(keys: pd.DataFrame, column: str) -> pd.DataFrame:
    """The keys of each scored row, and the partition column the predictions table needs."""
    clash = [c for c in OUTPUT_COLUMNS if c in keys.columns]
    if clash:
        raise ConfigError(f"a key column is named {clash[0]!r}, which the predictions table "
                          "uses: rename it")
    out = keys.drop(columns=[PARTITION])
    if column not in out.columns:
        out[column] = keys[PARTITION].to_numpy()
    return out


def _scored(model, X: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    out = base.copy()
    out["prediction"] = model.predict(X)
    classes = getattr(model, "classes_", None)
    if classes is not None and len(classes) == 2 and hasattr(model, "predict_proba"):
        out["score"] = np.asarray(model.predict_proba(X))[:, 1]
    return out


def _log(project, store, name: str, column: str, grain, frame: pd.DataFrame, start,
         append_on: list[str] | None = None):
    """One ingest of the partition: the whole partition, or (``append_on``, the keys of a
    row) the partition's rows with these added, a row scored again replaced."""
    from ..managed import managed_table
    from .log import append

    table = managed_table(name, project, partition_column=column, granularity=grain.value,
                          store=store)
    if append_on is not None:
        frame = append(table, frame, start, replace_on=[*append_on, "stage"])
    return table.ingest(frame, partition=start, source="predictions"), frame
