"""Delayed labels: joined to the logged predictions, they give realised performance.

``ingest_labels(pipeline, files)`` (``wk labels ingest PIPELINE FILE...``):

1. reads each file (CSV or Parquet) or frame; it must hold the label's entity keys,
   its time key (``label.time``, else the label table's partition column) and the
   label column; rows without a label value are left out (not landed yet);
2. logs them into the managed table ``<pipeline>_labels`` (one ingest per partition,
   added to the labels already there; a label sent again replaces the old one), so
   labels are validated and monitored like any table;
3. joins each touched partition's labels to the predictions logged for it
   (``<pipeline>_predictions``) on the entity keys, and computes the performance of
   every model version and stage that scored it (:mod:`.performance`), replacing
   the estimate as the value shown;
4. judges the champion's performance SLOs (:mod:`.slos`): incidents, and a rollback
   of a champion on probation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from .performance import realised, rows_of, save
from .data import partition_starts
from .registry import Registry
from .spec import PipelineSpec, load_pipeline, project_for


@dataclass(frozen=True)
class LabelsResult:
    """What an ingest of labels did."""

    pipeline: str
    table: str
    rows: int
    partitions: list[str]
    matched: int
    unmatched: int
    realised: list[dict] = field(default_factory=list)
    failures: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when the champion failed a performance SLO on these labels."""
        return not self.failures

    def to_dict(self) -> dict:
        return {"pipeline": self.pipeline, "table": self.table, "rows": self.rows,
                "partitions": self.partitions, "matched": self.matched,
                "unmatched": self.unmatched, "realised": self.realised,
                "failures": [f.to_dict() for f in self.failures]}


def labels_table(spec: PipelineSpec) -> str:
    return f"{spec.name}_labels"


def ingest_labels(pipeline, sources, project=None, *, store=None,
                  registry: Registry | None = None) -> LabelsResult:
    """Ingest labels (paths or frames) for ``pipeline`` and compute realised performance."""
    from .sources import reader

    project = project_for(project, "labels need a project")
    spec = pipeline if isinstance(pipeline, PipelineSpec) else load_pipeline(project, pipeline)
    store = store if store is not None else project.store()
    registry = registry if registry is not None else Registry(project)
    label = spec.label
    if not label.entity:
        raise ConfigError(f"pipeline {spec.name!r}: the label has no entity keys, so labels "
                          "cannot be joined to predictions row by row: declare label.entity")
    feature = reader(spec.features[0].table, project, store)
    labelled = reader(label.table, project, store)
    try:
        grain, column = feature.grain, feature.partition_column
        time_key = label.time or labelled.partition_column
    finally:
        feature.close()
        labelled.close()
    if isinstance(sources, (str, Path, pd.DataFrame)) or hasattr(sources, "to_pandas"):
        sources = [sources]
    frames = [_read(s, spec, time_key) for s in sources]
    if not frames:
        raise ConfigError("no labels given: pass one or more CSV or Parquet files")
    wanted = [*label.entity, time_key, label.column]
    rows = pd.concat([f[wanted] for f in frames], ignore_index=True)
    rows = rows[rows[label.column].notna()].reset_index(drop=True)
    if rows.empty:
        raise ConfigError(f"the labels hold no value of {label.column!r}: nothing to ingest")
    starts = partition_starts(rows[time_key], grain, what=f"labels column {time_key!r}")
    result = {"matched": 0, "unmatched": 0, "realised": []}
    saved_rows = []
    for start in sorted(set(starts)):
        part = rows[starts == start].reset_index(drop=True)
        every = _store_labels(project, store, spec, part, start, time_key, grain)
        matched, unmatched, values = _join(project, store, spec, every, start, column, grain)
        result["matched"] += matched
        result["unmatched"] += unmatched
        saved_rows += values
    save(store, saved_rows)
    computed = pd.DataFrame(saved_rows, columns=["pipeline", "model_version", "stage",
                                                 "partition", "kind", "metric", "value",
                                                 "row_count"])
    from .slos import judge

    failures = judge(spec, project, store, registry, computed, grain)
    return LabelsResult(spec.name, labels_table(spec), len(rows),
                        [grain.format(pd.Timestamp(s)) for s in sorted(set(starts))],
                        result["matched"], result["unmatched"],
                        _summary(computed, grain), failures)


def _read(source, spec: PipelineSpec, time_key: str) -> pd.DataFrame:
    label = spec.label
    if isinstance(source, pd.DataFrame) or hasattr(source, "to_pandas"):
        frame, name = (source if isinstance(source, pd.DataFrame) else source.to_pandas(),
                       "the labels frame")
    else:
        path = Path(source)
        name = f"labels file {str(source)!r}"
        if not path.is_file():
            raise ConfigError(f"{name} does not exist: check the path")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise ConfigError(f"{name} is neither .csv nor .parquet: convert it")
    for kind, names in (("entity key", label.entity), ("time key", (time_key,)),
                        ("label column", (label.column,))):
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise ConfigError(f"{name} has no column {missing[0]!r} (the {kind} of pipeline "
                              f"{spec.name!r}'s label): add it, or fix the pipeline's label "
                              "section")
    frame = frame.copy()
    try:
        frame[time_key] = pd.to_datetime(frame[time_key])
    except (ValueError, TypeError):
        raise ConfigError(f"{name}: column {time_key!r} (the time key) holds values that are "
                          "not dates: write them as ISO 8601, e.g. 2024-01-31") from None
    return frame


def _store_labels(project, store, spec: PipelineSpec, part: pd.DataFrame, start, time_key: str,
                  grain) -> pd.DataFrame:
    """Add ``part`` to the partition's labels in ``<pipeline>_labels``; return them all."""
    from ..managed import managed_table
    from .log import append

    table = managed_table(labels_table(spec), project, partition_column=time_key,
                          granularity=grain.value, store=store)
    every = append(table, part, start, replace_on=list(spec.label.entity))
    table.ingest(every, partition=start, source="labels")
    return every


def _join(project, store, spec: PipelineSpec, labels: pd.DataFrame, start, column: str,
          grain) -> tuple[int, int, list[dict]]:
    """Labels joined to the partition's logged predictions: (matched, unmatched, the
    realised performance rows of every version and stage)."""
    from ..managed import managed_table
    from .log import existing
    from .predict import predictions_table

    entity = list(spec.label.entity)
    try:
        table = managed_table(predictions_table(spec), project, partition_column=column,
                              granularity=grain.value, store=store)
        logged = existing(table, start)
    except ConfigError:
        logged = None
    if logged is None or logged.empty:
        return 0, len(labels), []
    absent = [k for k in entity if k not in logged.columns]
    if absent:
        raise ConfigError(f"pipeline {spec.name!r}: the label's entity key {absent[0]!r} is not "
                          "a key of the logged predictions: make it an entity key of the "
                          "features")
    y = "__wk_label"
    right = labels[entity].astype(str).assign(**{y: labels[spec.label.column].to_numpy()})
    left = logged.assign(**{k: logged[k].astype(str) for k in entity})
    joined = left.merge(right.drop_duplicates(entity, keep="last"), on=entity, how="inner")
    champion = joined[joined["stage"] == "champion"]
    matched = len(champion)
    positive = _positive(store, spec.name, start)
    rows = []
    for (version, stage), group in joined.groupby(["model_version", "stage"]):
        values = realised(spec.task, group[y].to_numpy(), group["prediction"].to_numpy(),
                               group["score"].to_numpy() if "score" in group else None,
                               positive)
        rows += rows_of(spec.name, version, stage, start, "realised", values, len(group))
    return matched, len(labels) - matched, rows


def _positive(store, pipeline: str, start) -> str | None:
    """The class the logged ``score`` is the probability of (the newest batch's model)."""
    with store._connect() as db:
        found = db.execute("SELECT classes FROM wk_prediction_batches WHERE pipeline = ? AND"
                           " partition_start = ? ORDER BY created_at DESC",
                           [pipeline, pd.Timestamp(start).to_pydatetime()])
    import json

    for (classes,) in found:
        if classes:
            names = json.loads(classes)
            return str(names[1]) if len(names) == 2 else None
    return None


def _summary(realised: pd.DataFrame, grain) -> list[dict]:
    out = []
    for (partition, version, stage), group in realised.groupby(
            ["partition", "model_version", "stage"], sort=True):
        out.append({"partition": grain.format(pd.Timestamp(partition)),
                    "model_version": str(version), "stage": stage,
                    "rows": int(group["row_count"].max()),
                    "metrics": dict(zip(group["metric"], group["value"]))})
    return out


__all__: Sequence[str] = ("LabelsResult", "ingest_labels", "labels_table")
