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
from .data import PARTITION, Inputs
from .registry import Registry
from .spec import PipelineSpec, load_pipeline

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
    from ..triggers.dispatch import _project

    project = _project(project)
    if project is None:
        raise ConfigError("no watchkeeper.yaml here or above: predictions need a project")
    spec = pipeline if isinstance(pipeline, PipelineSpec) else load_pipeline(project, pipeline)
    store = store if store is not None else project.store()
    registry = registry if registry is not None else Registry(project)
    version = registry.alias(spec.name, "champion")
    if version is None:
        raise ConfigError(f"model {spec.name!r} has no champion to predict with: promote a "
                          f"version first (wk model promote {spec.name})")
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
    finally:
        inputs.close()
    batch_id = uuid.uuid4().hex[:16]
    base = _frame(keys, column)
    champion = _scored(registry.load(spec.name, version), X, base)
    from ..triggers import guard

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
    ingest = _log(project, store, table_name, column, inputs.grain,
                  pd.concat(logged, ignore_index=True), start)
    lineage.record_batch(store, batch_id=batch_id, pipeline=spec.name, partition=start,
                         version=version, shadow_version=shadow, rows_in=len(champion),
                         rows_served=len(served), table=table_name,
                         ingest_id=ingest.ingest_id, inputs={t: key for t in feature_tables})
    return PredictResult(spec.name, key, "ok", batch_id, version, shadow, len(champion),
                         served, table_name)


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


def _log(project, store, name: str, column: str, grain, frame: pd.DataFrame, start):
    from ..managed import managed_table

    table = managed_table(name, project, partition_column=column, granularity=grain.value,
                          store=store)
    return table.ingest(frame, partition=start, source="predictions")
