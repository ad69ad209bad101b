"""The rows a run trains and evaluates on: feature tables joined with the label source.

Tables are joined on their entity keys and their partition (plus the ``time``
column where one is named), so a label joins the features of its own partition.
Rows without a label are dropped: they cannot be trained or scored on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine import Granularity, open_source, parse_source
from ..engine.rows import column_names, partition_starts, read_partitions
from ..errors import ConfigError
from .spec import PipelineSpec, Source

_PART = "__wk_partition"


@dataclass(frozen=True)
class Dataset:
    """Features ``X``, target ``y``, and each row's partition start."""

    X: pd.DataFrame
    y: np.ndarray
    partition: np.ndarray

    def subset(self, partitions: Sequence[pd.Timestamp]) -> "Dataset":
        mask = np.isin(self.partition, np.array(list(partitions), dtype="datetime64[ns]"))
        return Dataset(self.X[mask].reset_index(drop=True), self.y[mask], self.partition[mask])

    def __len__(self) -> int:
        return len(self.y)


class Inputs:
    """The pipeline's tables, opened once per run: their partitions, gating, and rows."""

    def __init__(self, spec: PipelineSpec, project) -> None:
        self.spec = spec
        self.project = project
        self.tables = {}
        for source in spec.sources:
            if source.table not in project.tables:
                known = ", ".join(sorted(project.tables)) or "none"
                raise ConfigError(f"pipeline {spec.name!r} reads table {source.table!r}, which "
                                  f"is not registered (registered: {known}): register it with "
                                  "wk table add")
            self.tables[source.table] = project.tables[source.table]
        self._relations = {}

    def relation(self, table: str):
        if table not in self._relations:
            spec = self.tables[table]
            self._relations[table] = open_source(parse_source(spec.source, self.project.root),
                                                 label=f"table {table!r}")
        return self._relations[table]

    def grain(self, table: str) -> Granularity:
        return Granularity.parse(self.tables[table].granularity)

    def close(self) -> None:
        for relation in self._relations.values():
            relation.close()
        self._relations.clear()

    def check_columns(self) -> None:
        """Every key, feature and label column exists (a spec mistake otherwise)."""
        grains = {self.grain(t) for t in self.tables}
        if len(grains) > 1:
            raise ConfigError(f"pipeline {self.spec.name!r} joins tables of different "
                              f"granularities ({', '.join(sorted(g.value for g in grains))}): "
                              "use tables of one granularity")
        for source in self.spec.sources:
            names = column_names(self.relation(source.table))
            is_label = source is self.spec.sources[-1]
            for kind, cols in (("entity key", source.entity),
                               ("time key", (source.time,) if source.time else ()),
                               ("label column" if is_label else "feature column",
                                source.columns or ())):
                missing = [c for c in cols if c not in names]
                if missing:
                    raise ConfigError(
                        f"pipeline {self.spec.name!r}: {kind} {missing[0]!r} is not a column "
                        f"of table {source.table!r} (columns: {', '.join(names[:15])}): fix "
                        f"the pipeline's {'label' if is_label else 'features'} section")
            if _PART in names:
                raise ConfigError(f"table {source.table!r} has a column named {_PART!r}, "
                                  "which watchkeeper reserves: rename it")

    def partitions(self) -> list[pd.Timestamp]:
        """The partitions every input table has (labels arrive late: no label, no row)."""
        common = None
        for table, spec in self.tables.items():
            found = set(partition_starts(self.relation(table), spec.partition_column,
                                         self.grain(table)))
            common = found if common is None else common & found
        return sorted(common or ())

    def load(self, partitions: Sequence[pd.Timestamp]) -> Dataset:
        """The joined rows of ``partitions``."""
        frames = [self._read(s, partitions) for s in self.spec.features]
        label = self.spec.label
        frame = frames[0]
        for other, source in zip(frames[1:], self.spec.features[1:]):
            frame = frame.merge(other, on=_keys(source), how="inner", suffixes=("", "_dup"))
        target = self._read(label.source, partitions).rename(columns={label.column: "__wk_y"})
        frame = frame.merge(target, on=_keys(label.source), how="inner")
        frame = frame[frame["__wk_y"].notna()].reset_index(drop=True)
        keys = {k for s in self.spec.sources for k in _keys(s)}
        X = frame.drop(columns=[c for c in frame.columns if c in keys or c == "__wk_y"
                                or c.endswith("_dup")])
        return Dataset(X, frame["__wk_y"].to_numpy(),
                       frame[_PART].to_numpy(dtype="datetime64[ns]"))

    def _read(self, source: Source, partitions) -> pd.DataFrame:
        table = self.tables[source.table]
        relation = self.relation(source.table)
        keys = [*source.entity, *([source.time] if source.time else [])]
        if source.columns is not None:
            columns = [*keys, *source.columns]
        else:
            columns = [c for c in column_names(relation) if c != table.partition_column
                       or c in keys]
        frame, starts = read_partitions(relation, table.partition_column,
                                        self.grain(source.table), partitions, columns)
        frame[_PART] = starts
        return frame


def _keys(source: Source) -> list[str]:
    return [*source.entity, *([source.time] if source.time else []), _PART]
