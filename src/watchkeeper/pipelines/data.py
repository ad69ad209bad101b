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

from ..errors import ConfigError
from . import lineage
from .sources import reader
from .spec import PipelineSpec, Source

_PART = PARTITION = "__wk_partition"
_Y = "__wk_y"


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
    """The pipeline's tables, opened once per run: their partitions, gating, rows, lineage."""

    def __init__(self, spec: PipelineSpec, project, store) -> None:
        self.spec = spec
        self.readers = {s.table: reader(s.table, project, store) for s in spec.sources}

    def close(self) -> None:
        for r in self.readers.values():
            r.close()

    @property
    def grain(self):
        return self.readers[self.spec.features[0].table].grain

    def check_columns(self) -> None:
        """Every key, feature and label column exists (a spec mistake otherwise)."""
        grains = {r.grain for r in self.readers.values()}
        if len(grains) > 1:
            raise ConfigError(f"pipeline {self.spec.name!r} joins tables of different "
                              f"granularities ({', '.join(sorted(g.value for g in grains))}): "
                              "use tables of one granularity")
        for i, source in enumerate(self.spec.sources):
            names = self.readers[source.table].columns()
            is_label = i == len(self.spec.sources) - 1
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
            clash = {_PART, _Y} & set(names)
            if clash:
                raise ConfigError(f"table {source.table!r} has a column named {clash.pop()!r}, "
                                  "which watchkeeper reserves: rename it")

    def partitions(self) -> list[pd.Timestamp]:
        """The partitions every input table has (labels arrive late: no label, no row)."""
        common = None
        for r in self.readers.values():
            found = set(r.partitions())
            common = found if common is None else common & found
        return sorted(common or ())

    def gate(self, partitions: list[pd.Timestamp], for_: str = "train",
             tables: Sequence[str] | None = None) -> dict[pd.Timestamp, list[str]]:
        """The window planner's gate: every input table (or ``tables``); reasons prefixed
        by the table."""
        blocked: dict[pd.Timestamp, list[str]] = {}
        for name, r in self.readers.items():
            if tables is not None and name not in tables:
                continue
            for start, reasons in r.gate(partitions, for_).items():
                blocked.setdefault(pd.Timestamp(start), []).extend(f"{name}: {x}"
                                                                   for x in reasons)
        return blocked

    def reads(self, train, evaluation) -> list[lineage.Read]:
        """What identifies every partition read, per table, as lineage rows."""
        return [read for r in self.readers.values()
                for read in r.reads({"train": list(train), "eval": list(evaluation)})]

    def features(self, partitions: Sequence[pd.Timestamp]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The feature tables' rows of ``partitions``, joined: ``(keys, X)``; ``keys`` holds
        the entity and time keys and the partition start (column :data:`PARTITION`)."""
        frame = self._features(partitions)
        return self._split(frame, self.spec.features)

    def load(self, partitions: Sequence[pd.Timestamp]) -> Dataset:
        """The joined rows of ``partitions`` that have a label."""
        label = self.spec.label
        frame = self._features(partitions)
        target = self._read(label.source, partitions).rename(columns={label.column: _Y})
        frame = frame.merge(target, on=_keys(label.source), how="inner")
        frame = frame[frame[_Y].notna()].reset_index(drop=True)
        keys, X = self._split(frame.drop(columns=[_Y]), self.spec.sources)
        return Dataset(X, frame[_Y].to_numpy(), frame[_PART].to_numpy(dtype="datetime64[ns]"))

    def _features(self, partitions) -> pd.DataFrame:
        frames = [self._read(s, partitions) for s in self.spec.features]
        frame = frames[0]
        for other, source in zip(frames[1:], self.spec.features[1:]):
            frame = frame.merge(other, on=_keys(source), how="inner", suffixes=("", "_dup"))
        return frame

    @staticmethod
    def _split(frame: pd.DataFrame, sources) -> tuple[pd.DataFrame, pd.DataFrame]:
        keys = list(dict.fromkeys(k for s in sources for k in _keys(s)))
        X = frame.drop(columns=[c for c in frame.columns if c in keys or c.endswith("_dup")])
        key_frame = frame[[k for k in keys if k in frame.columns]]
        return key_frame.reset_index(drop=True), X.reset_index(drop=True)

    def _read(self, source: Source, partitions) -> pd.DataFrame:
        r = self.readers[source.table]
        keys = [*source.entity, *([source.time] if source.time else [])]
        if source.columns is not None:
            columns = [*keys, *source.columns]
        else:
            columns = [c for c in r.columns() if c != r.partition_column or c in keys]
        frame, starts = r.read(partitions, columns)
        frame[_PART] = starts
        return frame


def _keys(source: Source) -> list[str]:
    return [*source.entity, *([source.time] if source.time else []), _PART]


def partition_starts(values, grain, *, what: str = "time key") -> pd.DatetimeIndex:
    """The start of the partition each time value lies in (naive UTC)."""
    try:
        ts = pd.DatetimeIndex(pd.to_datetime(pd.Series(values), utc=True)).tz_localize(None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"the {what} holds values that are not dates ({exc}): write them "
                          "as ISO 8601, e.g. 2024-01-31") from None
    if grain.value == "hour":
        return ts.floor("h")
    if grain.value == "day":
        return ts.floor("D")
    return pd.DatetimeIndex(ts.to_period("W-SUN").start_time)
