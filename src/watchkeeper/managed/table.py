"""``ManagedTable``: a table watchkeeper stores, versions and guards.

    orders = watchkeeper.managed_table("orders")          # from watchkeeper.yaml
    result = orders.ingest(frame, partition="2015-03-01")  # quarantine on write
    df = orders.read(since="2015-03-01", format="pandas")  # raises on failed SLOs
    train = orders.read(since="2015-03-01", for_="train", exclude_invalid=True)  # gated
    snap = orders.snapshot(since="2015-01-01", exclude_invalid=True)
    same = orders.read(snapshot=snap)                      # exactly those rows, later too

Files live under ``<project>/.watchkeeper/managed/<name>/``: ``data/`` is a Delta
table, ``quarantine/`` one Parquet file per ingest; the store is the catalog.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from ..engine import delta
from ..errors import ConfigError, UnknownTableError
from ..slo import TableSLO
from ..store import Store
from ..store import managed as catalog
from . import guard as guards
from .ingest import IngestResult, run_ingest
from .snapshot import SnapshotId
from .spec import ManagedSpec, load_managed, parse_partition

MANAGED_DIR = Path(".watchkeeper") / "managed"


class ManagedTable:
    """One managed table. Build it with :func:`managed_table`."""

    def __init__(self, spec: ManagedSpec, *, slo: TableSLO, root: Path, store: Store,
                 project=None, others=None) -> None:
        self.spec = spec
        self.slo = slo
        self.root = Path(root)
        self.store = store
        self.project = project
        self.others = dict(others or {})

    def __repr__(self) -> str:
        return f"ManagedTable({self.spec.name!r}, {len(self.slo.checks)} checks)"

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def path(self) -> Path:
        return self.root / MANAGED_DIR / self.spec.name

    @property
    def data_path(self) -> Path:
        return self.path / "data"

    def others_spec(self, name: str):
        if name not in self.others:
            raise ConfigError(f"a check of {self.name!r} names table {name!r}, which is not "
                              "registered: register it with wk table add")
        return self.others[name]

    # -- writing ------------------------------------------------------------------
    def ingest(self, data, *, partition, source: str | None = None,
               allow_empty: bool = False) -> IngestResult:
        """Load ``data`` (a path, or a pandas/Polars/Arrow frame) as ``partition``.

        Rows failing a critical row-level check go to quarantine; the rest replace
        the partition in one atomic commit. Re-ingesting a partition replaces it, but
        never a partition with rows by zero valid rows unless ``allow_empty=True``.
        A batch none of whose rows lie in ``partition`` is a :class:`ConfigError`.
        """
        label = source if source is not None else (str(data) if isinstance(data, (str, Path))
                                                   else type(data).__name__)
        return run_ingest(self, data, partition, source=label, allow_empty=allow_empty)

    # -- versions -----------------------------------------------------------------
    def versions(self) -> pd.DataFrame:
        """Every ingest, oldest first: ``version`` is None for a rejected one."""
        frame = catalog.ingests(self.store, self.name)
        frame = frame.rename(columns={"data_version": "version", "partition_start": "partition"})
        return frame.drop(columns=["table_name"])

    def _version(self, version: int | None = None, as_of=None) -> int:
        if version is not None and as_of is not None:
            raise ConfigError("pass version= or as_of=, not both")
        frame = catalog.ingests(self.store, self.name)
        done = frame[frame["status"] == "committed"]
        if done.empty:
            raise ConfigError(f"managed table {self.name!r} has no committed ingest yet: run "
                              f"wk ingest {self.name} FILE --partition P")
        committed = sorted(int(v) for v in done["data_version"])
        if version is not None:
            if int(version) not in committed:
                shown = ", ".join(map(str, committed[-10:]))
                raise ConfigError(f"version {version} is not a committed version of "
                                  f"{self.name!r} (newest: {shown}): pick one of those")
            return int(version)
        if as_of is not None:
            when = _utc(as_of)
            before = done[done["committed_at"] <= when]
            if before.empty:
                first = done["committed_at"].min()
                raise ConfigError(f"managed table {self.name!r} had no version at {when} (UTC); "
                                  f"the first was committed at {first}")
            return int(before["data_version"].max())
        return committed[-1]

    def partitions(self, *, version: int | None = None, as_of=None) -> pd.DataFrame:
        """The partitions a version holds, with row counts and why any is invalid."""
        states = self._states(self._version(version, as_of))
        return pd.DataFrame([{"partition": s.key, "version": s.version, "ingest_id": s.ingest_id,
                              "rows": s.rows, "quarantined": s.quarantined, "valid": s.valid,
                              "failed": list(s.failed)} for s in states],
                            columns=["partition", "version", "ingest_id", "rows", "quarantined",
                                     "valid", "failed"])

    def _states(self, version: int) -> list[guards.PartitionState]:
        return guards.partition_states(catalog.ingests(self.store, self.name),
                                       catalog.quarantine_requests(self.store, self.name),
                                       version, self.spec.grain)

    # -- reading ------------------------------------------------------------------
    def _chosen(self, *, partitions, since, version, as_of, snapshot, allow_invalid,
                exclude_invalid, on_invalid, for_) -> tuple[int, list[guards.PartitionState]]:
        if snapshot is not None:
            if any(x is not None for x in (partitions, since, version, as_of)):
                raise ConfigError("snapshot= names its own partitions and version: pass it alone")
            version, keys = self._snapshot(snapshot)
            states = guards.select(self._states(version), self.spec.grain, table=self.name,
                                   partitions=keys)
        else:
            version = self._version(version, as_of)
            states = guards.select(self._states(version), self.spec.grain, table=self.name,
                                   partitions=partitions, since=since)
        if for_ is not None and not allow_invalid:
            states = self._gated(states, version, for_)
        chosen = guards.guard(states, table=self.name, allow_invalid=allow_invalid,
                              exclude_invalid=exclude_invalid,
                              on_invalid=on_invalid or self.spec.on_invalid, for_=for_)
        return version, chosen

    def _gated(self, states: list[guards.PartitionState], version: int,
               for_: str) -> list[guards.PartitionState]:
        """The states with the gate's reasons (``watchkeeper.gate``) added to ``failed``.

        The gate sees the whole version (each partition is judged against the ones
        before it) through the rows a read would return, never the quarantined ones.
        """
        from ..triggers.gate import gate_many

        if for_ not in guards.PURPOSES:  # before any work: the guard would say it too late
            raise ConfigError(f"for_={for_!r} is not one of {', '.join(guards.PURPOSES)} "
                              "(or None)")
        if not states:
            return states
        every = [s.key for s in self._states(version)]
        source = delta.read_rows(self.data_path, version, every, "ibis")
        decisions = gate_many(self.name, [s.partition for s in states], for_=for_,
                              project=self.project, store=self.store, source=source,
                              slo=self.slo, partition_column=self.spec.partition_column,
                              granularity=self.spec.granularity)
        by_key = {d.partition: d for d in decisions}
        out = []
        for s in states:
            # A check the ingest already failed is named once, as the ingest named it.
            extra = tuple(str(r) for r in by_key[s.key].reasons
                          if not (r.kind == "slo" and r.check in s.failed))
            out.append(dataclasses.replace(s, failed=s.failed + extra))
        return out

    def read(self, *, partitions=None, since=None, version: int | None = None, as_of=None,
             snapshot=None, format: str = "arrow", allow_invalid: bool = False,  # noqa: A002
             exclude_invalid: bool = False, on_invalid: str | None = None,
             for_: str | None = None):
        """Rows of the chosen partitions (all by default) as Arrow, pandas, Polars or Ibis.

        Raises :class:`InvalidPartitionError` if a chosen partition failed a critical
        SLO (warns instead with ``on_invalid="warn"``); ``allow_invalid=True`` reads
        them anyway, ``exclude_invalid=True`` skips them. With ``for_`` ("train",
        "serve"), the gate (``watchkeeper.gate``) judges each chosen partition too:
        its reasons (critical incidents, SLO checks failing on the stored rows,
        ``block`` triggers of ``train.before`` / ``serve.before``) make it invalid
        for this read; ``allow_invalid=True`` skips the gate.
        """
        version, chosen = self._chosen(partitions=partitions, since=since, version=version,
                                       as_of=as_of, snapshot=snapshot, allow_invalid=allow_invalid,
                                       exclude_invalid=exclude_invalid, on_invalid=on_invalid,
                                       for_=for_)
        return delta.read_rows(self.data_path, version, [s.key for s in chosen], format,
                               schema_hint=delta.schema_of(self.data_path, version))

    def snapshot(self, *, partitions=None, since=None, version: int | None = None, as_of=None,
                 allow_invalid: bool = False, exclude_invalid: bool = False,
                 for_: str | None = None) -> SnapshotId:
        """Name the chosen partitions at their exact versions; store it; return the id."""
        version, chosen = self._chosen(partitions=partitions, since=since, version=version,
                                       as_of=as_of, snapshot=None, allow_invalid=allow_invalid,
                                       exclude_invalid=exclude_invalid, on_invalid="raise",
                                       for_=for_)
        snap = SnapshotId.of(self.name, version, [(s.key, s.ingest_id) for s in chosen])
        catalog.save_snapshot(self.store, snap.id, self.name, version, snap.partitions)
        return snap

    def _snapshot(self, snapshot) -> tuple[int, list[str]]:
        ident = snapshot.id if isinstance(snapshot, SnapshotId) else str(snapshot)
        found = catalog.load_snapshot(self.store, ident)
        if found is None or found["table"] != self.name:
            raise ConfigError(f"no snapshot {ident!r} of managed table {self.name!r} in the "
                              "store: check the id (table.snapshot() prints it)")
        return found["version"], [p for p, _ in found["partitions"]]

    def quarantine(self, *, partitions=None, include_superseded: bool = False,
                   format: str = "arrow"):  # noqa: A002
        """Quarantined rows with ``_wk_row`` (position in the batch), ``_wk_failed_checks``
        and ``_wk_ingest_id``; by default only those of each partition's current ingest
        (and of rejected batches since)."""
        frame = catalog.quarantine_batches(self.store, self.name,
                                           current_only=not include_superseded)
        if partitions is not None:
            if isinstance(partitions, (str, pd.Timestamp)):
                partitions = [partitions]
            wanted = {parse_partition(p, self.spec.grain) for p in partitions}
            frame = frame[frame["partition_start"].isin(wanted)]
        rows = delta.read_quarantine([self.path / f for f in frame["file"]])
        if format not in ("arrow", "pandas", "polars"):
            raise ConfigError(f"format {format!r} is not one of arrow, pandas, polars")
        return delta.as_format(rows, format)


def _utc(value) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(f"as_of {value!r} is not a time: write e.g. 2024-01-31T12:00:00") \
            from None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def managed_table(name: str, project=None, *, slo: TableSLO | None = None,
                  partition_column: str | None = None, granularity: str | None = None,
                  on_invalid: str | None = None, on_partition_failure: str | None = None,
                  on_type_change: str | None = None, root=None, store: Store | None = None) -> ManagedTable:
    """The managed table ``name`` of ``project`` (a Project, its folder or file; default:
    the nearest ``watchkeeper.yaml``), with keyword overrides.

    Without a project file, pass ``partition_column=`` (and ``slo=``): files go
    under ``root`` (default: the current folder).
    """
    from ..slo import load_spec
    from ..triggers.dispatch import _project

    found = _project(project) if project is not None else _find()
    declared = load_managed(found).get(name)
    if declared is None and partition_column is None:
        known = ", ".join(sorted(load_managed(found))) or "none"
        raise UnknownTableError(f"no managed table named {name!r} (declared: {known}): declare "
                                "it under managed: in watchkeeper.yaml, or pass partition_column=")
    base = declared or ManagedSpec(name, str(partition_column))
    spec = ManagedSpec(name, partition_column or base.partition_column,
                       granularity or base.granularity, on_invalid or base.on_invalid,
                       on_partition_failure or base.on_partition_failure,
                       on_type_change or base.on_type_change)
    if slo is None:
        slo = load_spec(found).for_table(name) if found is not None else TableSLO(name)
    folder = Path(root) if root is not None else (found.root if found else Path.cwd())
    if store is None:
        store = found.store() if found is not None else Store.open(root=folder)
    return ManagedTable(spec, slo=slo, root=folder, store=store, project=found,
                        others=found.tables if found is not None else {})


def _find():
    from ..config import Project

    return Project.find()
