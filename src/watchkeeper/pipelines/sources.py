"""The tables a pipeline reads, one reader each: a registered table or a managed table.

A reader lists its partitions, gates them for training, reads the rows of chosen
ones, and says what identifies the data it read (the lineage):

- a **registered** table (``tables:``) is gated with ``watchkeeper.gate``; its
  lineage is each partition's row count and schema fingerprint from the profile;
- a **managed** table (``managed:``) is read at one version, pinned when the run
  starts, through the same gated path as ``table.read(for_="train")``; its lineage
  is a snapshot id (``table.read(snapshot=ID)`` gives the same rows back later).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..engine import Granularity, open_source, parse_source
from ..engine.rows import column_names, partition_starts, read_partitions
from . import lineage


class RegisteredReader:
    def __init__(self, spec, project, store) -> None:
        self.name = spec.name
        self.spec = spec
        self.project = project
        self.store = store
        self.grain = Granularity.parse(spec.granularity)
        self.partition_column = spec.partition_column
        self._relation = None

    @property
    def relation(self):
        if self._relation is None:
            self._relation = open_source(parse_source(self.spec.source, self.project.root),
                                         label=f"table {self.name!r}")
        return self._relation

    def close(self) -> None:
        if self._relation is not None:
            self._relation.close()
            self._relation = None

    def columns(self) -> list[str]:
        return column_names(self.relation)

    def partitions(self) -> list[pd.Timestamp]:
        return partition_starts(self.relation, self.partition_column, self.grain)

    def gate(self, partitions: Sequence[pd.Timestamp], for_: str = "train"
             ) -> dict[pd.Timestamp, list[str]]:
        from ..triggers.gate import gate_many

        # The gate profiles and validates the source this reader has open already.
        decisions = gate_many(self.name, list(partitions), for_=for_, project=self.project,
                              store=self.store, source=self.relation.borrowed(self.name))
        return {pd.Timestamp(d.partition): [str(r) for r in d.reasons]
                for d in decisions if not d.allowed}

    def read(self, partitions, columns) -> tuple[pd.DataFrame, np.ndarray]:
        return read_partitions(self.relation, self.partition_column, self.grain, partitions,
                               columns)

    def reads(self, roles: dict[str, Sequence[pd.Timestamp]]) -> list[lineage.Read]:
        every = [p for parts in roles.values() for p in parts]
        known = lineage.fingerprints(self.store, self.name, every)
        return [lineage.Read(self.name, p, role, *known.get(pd.Timestamp(p), (None, None)))
                for role, parts in roles.items() for p in parts]


class ManagedReader:
    def __init__(self, name: str, project, store) -> None:
        from ..managed import managed_table

        self.name = name
        self.table = managed_table(name, project, store=store)
        self.grain = self.table.spec.grain
        self.partition_column = self.table.spec.partition_column
        # The version is pinned once: every step of the run sees the same rows.
        self.version = self.table._version()
        self._states = {s.partition: s for s in self.table._states(self.version)}

    def close(self) -> None:
        pass

    def columns(self) -> list[str]:
        from ..engine import delta

        schema = delta.schema_of(self.table.data_path, self.version)
        return list(schema.names) if schema is not None else []

    def partitions(self) -> list[pd.Timestamp]:
        return sorted(self._states)

    def gate(self, partitions: Sequence[pd.Timestamp], for_: str = "train"
             ) -> dict[pd.Timestamp, list[str]]:
        # What table.read(for_=...) does: failed ingest checks, trigger quarantine
        # requests, and the gate's reasons, per partition.
        states = [self._states[pd.Timestamp(p)] for p in partitions]
        gated = self.table._gated(states, self.version, for_)
        return {s.partition: list(s.failed) for s in gated if s.failed}

    def read(self, partitions, columns) -> tuple[pd.DataFrame, np.ndarray]:
        from ..engine import delta

        frames, starts = [], []
        for p in sorted(pd.Timestamp(x) for x in partitions):
            rows = delta.read_rows(self.table.data_path, self.version,
                                   [self._states[p].key], "pandas")
            frames.append(rows[list(dict.fromkeys(columns))])
            starts.append(np.full(len(rows), np.datetime64(p, "ns")))
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        return frame, (np.concatenate(starts) if starts else np.array([], "datetime64[ns]"))

    def reads(self, roles: dict[str, Sequence[pd.Timestamp]]) -> list[lineage.Read]:
        every = sorted({pd.Timestamp(p) for parts in roles.values() for p in parts})
        snap = self.table.snapshot(partitions=[self._states[p].key for p in every],
                                   version=self.version, allow_invalid=True)
        return [lineage.Read(self.name, p, role, self._states[pd.Timestamp(p)].rows, None,
                             snap.id)
                for role, parts in roles.items() for p in parts]


def reader(name: str, project, store):
    """The reader of table ``name``: managed if declared under ``managed:``, else registered."""
    from ..errors import ConfigError
    from ..managed.spec import load_managed

    if name in load_managed(project):
        return ManagedReader(name, project, store)
    if name in project.tables:
        return RegisteredReader(project.tables[name], project, store)
    known = sorted({*project.tables, *load_managed(project)})
    raise ConfigError(f"a pipeline reads table {name!r}, which is neither registered nor "
                      f"managed (known: {', '.join(known) or 'none'}): register it with "
                      "wk table add, or declare it under managed:")
