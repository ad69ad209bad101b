"""A batch on its way into a managed table: loaded once, violating rows found in one query.

The batch is read into one Arrow table (a file through DuckDB, a frame as it is),
so every later step (the SLO evaluation, the flags, the split, the write) reads
memory instead of re-decoding the file. Violating rows come back as row numbers
with the names of the checks they fail; usually a handful, never the whole batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import duck
from ..errors import ConfigError, SourceError
from .checks import Probe, not_null, open_beside, violation_flags
from .read_only import read_only
from .relation import Relation, internal_name
from .sources import SourceSpec, open_source
from .types import ColumnInfo, Granularity

ROW = "_wk_row"
FAILED = "_wk_failed_checks"
INGEST = "_wk_ingest_id"
PARTITION_CHECK = "partition_key"  # built in: the row's partition column lies in the partition


def load_batch(data, *, root=None) -> pa.Table:
    """A Parquet/CSV path, a frame (pandas, Polars, Arrow) or any source, as one Arrow table."""
    if isinstance(data, pa.Table):
        batch = data
    elif type(data).__module__.split(".")[0] == "pandas":
        batch = pa.Table.from_pandas(data, preserve_index=False)
    elif type(data).__module__.split(".")[0] == "polars":
        batch = data.to_arrow()
    else:
        relation = open_source(data, root=root)
        try:
            batch = relation.table.to_pyarrow()
        except Exception as exc:  # a corrupt file surfaces here, not at open
            raise SourceError(f"cannot read {relation.label}: {str(exc).splitlines()[0]}") \
                from None
        finally:
            relation.close()
    reserved = [c for c in batch.column_names if c.startswith("_wk_")]
    if reserved:
        raise ConfigError(f"the batch has column(s) {', '.join(reserved)}: names starting with "
                          "_wk_ are reserved for watchkeeper's bookkeeping; rename them")
    return batch


def partitions_of(batch: pa.Table, column: str, grain: Granularity) -> list[str]:
    """The partitions the batch's rows lie in (formatted, oldest first; NULLs in none)."""
    values = pd.Series(pc.unique(batch[column]).to_pandas())
    stamps = pd.to_datetime(values, errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    stamps = stamps.dropna()
    if grain is Granularity.WEEK:
        starts = stamps.dt.to_period("W-SUN").dt.start_time
    else:
        starts = stamps.dt.floor("h" if grain is Granularity.HOUR else "D")
    return [grain.format(s) for s in sorted(set(starts))]


def batch_columns(batch: pa.Table) -> list[ColumnInfo]:
    """The batch's columns as the engine sees them (kinds and types, for binding checks)."""
    with open_source(batch.slice(0, 0), label="batch") as relation:
        return relation.columns()


@dataclass(frozen=True)
class Violations:
    """Rows of the batch that fail a check: positions (ascending) and check names per row."""

    rows: np.ndarray
    failed: pa.Array  # list<string>, one entry per row in ``rows``


def find_violations(batch: pa.Table, probes: Sequence[Probe], names: Mapping[str, str], *,
                    partition_column: str, grain: Granularity, partition: pd.Timestamp,
                    references: Mapping[str, SourceSpec] | None = None) -> Violations:
    """One query over the in-memory batch: the rows violating any probe, or lying outside
    ``partition`` (the built-in ``partition_key`` check), with the failed check names.

    ``names`` maps probe keys to check names; ``references`` maps a referential
    probe's key to the other table's source.
    """
    if not probes:
        outside = _outside_partition(batch, partition_column, grain, partition)
        if outside is not None:
            return Violations(outside, pa.array([[PARTITION_CHECK]] * len(outside),
                                                 type=pa.list_(pa.string())))
    indexed = batch.append_column(ROW, pa.array(np.arange(batch.num_rows, dtype=np.int64)))
    con = duck.connect()
    try:
        table = con.create_view(f"wk_batch_{uuid.uuid4().hex[:12]}", ibis.memtable(indexed))
        relation = Relation(table, backend="duckdb", label="batch")
        plain = [p for p in probes if p.kind != "referential"]
        found_in = {}
        for probe in probes:
            if probe.kind == "referential":
                table, found_in[probe.key] = _join_reference(relation, table, probe,
                                                             (references or {})[probe.key])
        table, flags = violation_flags(table, plain, "duckdb", order_by=ROW)
        for probe_key, hit in found_in.items():
            x = table[next(p for p in probes if p.key == probe_key).columns[0]]
            flags[probe_key] = (not_null(x) & table[hit].isnull()).fill_null(False)
        key = relation._partition_key(partition_column, grain, table)
        literal = ibis.literal(partition.to_pydatetime())
        flags[PARTITION_CHECK] = (key.isnull() | (key != literal)).fill_null(True)
        labels = {**names, PARTITION_CHECK: PARTITION_CHECK}
        named = [ibis.ifelse(flag, ibis.literal(labels[k]), ibis.null("string"))
                 for k, flag in flags.items()]
        bad, names_column = (internal_name(n, table.columns) for n in ("bad", "names"))
        marked = table.mutate(**{bad: ibis.or_(*flags.values()),
                                 names_column: ibis.array(named)})
        out = (marked.filter(marked[bad])
               .select(marked[ROW], failed=marked[names_column].filter(lambda s: s.notnull()))
               .order_by(ROW))
        with read_only(relation):  # custom SQL reads the batch, never writes
            found = con.to_pyarrow(out)
    finally:
        con.disconnect()
    return Violations(found[ROW].to_numpy(), found["failed"].combine_chunks())


def _outside_partition(batch: pa.Table, column: str, grain: Granularity,
                       partition: pd.Timestamp) -> np.ndarray | None:
    """Positions of the rows outside a day ``partition`` (NULL included), computed in
    Arrow for a DATE or zoneless TIMESTAMP column: the built-in check alone needs no query.
    None for other columns and grains (their key is the engine's to compute)."""
    if grain is not Granularity.DAY or column not in batch.column_names:
        return None
    values = batch[column]
    kind = values.type
    if pa.types.is_date32(kind):
        inside = pc.equal(values, pa.scalar(partition.date(), type=kind))
    elif pa.types.is_timestamp(kind) and kind.tz is None:
        start = partition.to_pydatetime()
        end = (partition + pd.Timedelta(days=1)).to_pydatetime()
        inside = pc.and_(pc.greater_equal(values, pa.scalar(start, type=kind)),
                         pc.less(values, pa.scalar(end, type=kind)))
    else:
        return None
    outside = pc.invert(pc.fill_null(inside, False))
    return np.flatnonzero(outside.to_numpy(zero_copy_only=False)).astype(np.int64)


def _join_reference(relation: Relation, table, probe: Probe, other: SourceSpec):
    """``table`` with one more column, non-NULL where the row's value is in the other table's
    column (a LEFT JOIN on its distinct values, so the rows stay as they are)."""
    other_table = open_beside(relation, other)
    column = probe.params["other_column"]
    if other_table is None or column not in other_table.columns:
        raise ConfigError(f"referential check on {probe.columns[0]!r}: cannot read column "
                          f"{column!r} of {other.location} beside the batch; a managed table "
                          "can quarantine by reference only against a Parquet/CSV table")
    ref, hit = (internal_name(f"{n}_{probe.key}", table.columns) for n in ("ref", "hit"))
    known = other_table.select(**{ref: other_table[column]}).distinct()
    known = known.mutate(**{hit: ibis.literal(True)})
    joined = table.left_join(known, table[probe.columns[0]] == known[ref])
    return joined.select(*table.columns, hit), hit


def split(batch: pa.Table, violations: Violations, ingest_id: str
          ) -> tuple[pa.Table, pa.Table]:
    """(valid rows, quarantined rows); quarantined rows carry their row number, the
    failed check names and the ingest id."""
    rows = violations.rows
    if rows.size == 0:
        return batch, quarantine_rows(batch.slice(0, 0), rows, violations.failed, ingest_id)
    keep = np.ones(batch.num_rows, dtype=bool)
    keep[rows] = False
    valid = batch.filter(pa.array(keep))
    return valid, quarantine_rows(batch.take(pa.array(rows)), rows, violations.failed, ingest_id)


def reject_all(batch: pa.Table, violations: Violations, checks: Sequence[str],
               ingest_id: str) -> pa.Table:
    """Every row to quarantine: its own row-level failures plus the partition-level ones."""
    n = batch.num_rows
    per_row: list[list[str]] = [list(checks) for _ in range(n)]
    for row, names in zip(violations.rows.tolist(), violations.failed.to_pylist()):
        per_row[row] = list(dict.fromkeys([*names, *checks]))
    failed = pa.array(per_row, type=pa.list_(pa.string()))
    return quarantine_rows(batch, np.arange(n, dtype=np.int64), failed, ingest_id)


def quarantine_rows(rows: pa.Table, positions: np.ndarray, failed: pa.Array,
                    ingest_id: str) -> pa.Table:
    out = rows.append_column(ROW, pa.array(positions, type=pa.int64()))
    out = out.append_column(FAILED, failed.cast(pa.list_(pa.string())))
    return out.append_column(INGEST, pa.repeat(pa.scalar(ingest_id), rows.num_rows))


__all__ = ["FAILED", "INGEST", "PARTITION_CHECK", "ROW", "Violations", "batch_columns",
           "find_violations", "load_batch", "partitions_of", "quarantine_rows", "reject_all",
           "split"]
