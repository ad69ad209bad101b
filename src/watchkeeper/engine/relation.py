"""A table in some engine, and the few queries watchkeeper runs against it.

Everything here goes through Ibis, so identifiers are always quoted by the
engine's own compiler and never pasted into SQL text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from ..errors import PartitionColumnError
from .aggregates import STATES, StateContext, kind_of
from .parquet_footers import footer_counts
from .types import ColumnInfo, Granularity, Kind

_TRUNCATE_UNIT = {Granularity.HOUR: "h", Granularity.DAY: "D", Granularity.WEEK: "W"}
_PARTITION = "wk_partition"

_EXACT_DISTINCT_IS_CHEAP = {"duckdb": True, "postgres": True, "pyspark": False}
"""Engine capability: several COUNT(DISTINCT) in one GROUP BY. Spark plans them with an
Expand that copies every row once per distinct aggregate, so it keeps its HLL++ sketch."""

_FLOAT_MODULO = {"duckdb", "pyspark"}
"""Engines where ``double % 1`` is defined (and NaN for NaN and ±inf); PostgreSQL is not."""

_SAMPLED_QUANTILES = {"duckdb"}
"""Engines whose quantiles come from a reservoir sample (``aggregates._quantiles``)."""


class QueryFailed(Exception):
    """The engine rejected or failed a query (not a user error by itself)."""


def to_utc_naive(value) -> pd.Timestamp:
    """Engines return dates, naive or aware timestamps; we store naive UTC."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


class Relation:
    """An Ibis table plus the name of its engine, e.g. ``duckdb`` or ``pyspark``."""

    def __init__(self, table: ir.Table, *, backend: str, label: str,
                 close: Callable[[], None] | None = None,
                 parquet_files: Sequence[str] = ()) -> None:
        self.table = table
        self.backend = backend
        self.label = label
        self._close = close
        self.parquet_files = list(parquet_files)  # lets partition_counts read footers
        self._file_ranges: tuple[str, dict] | None = None  # (column, {file: (min, max)})
        self._subsets: dict[tuple[str, ...], ir.Table] = {}

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> "Relation":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema -------------------------------------------------------------
    def columns(self) -> list[ColumnInfo]:
        schema = self.table.schema()
        return [ColumnInfo(name, kind_of(dtype), str(dtype)) for name, dtype in schema.items()]

    def fingerprint(self) -> str:
        """A short hash of column names and types, in order."""
        text = "\n".join(f"{c.name}\t{c.dtype}" for c in self.columns())
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- partitions ---------------------------------------------------------
    def _partition_column(self, column: str, grain: Granularity,
                          table: ir.Table | None = None) -> ir.Column:
        table = self.table if table is None else table
        schema = table.schema()
        if column not in schema:
            shown = ", ".join(list(schema)[:12])
            raise PartitionColumnError(
                f"partition column {column!r} is not in {self.label}; its columns are: {shown}"
            )
        dtype = schema[column]
        col = table[column]
        if dtype.is_string():
            col = col.cast("timestamp")
        elif dtype.is_date():
            if grain is Granularity.HOUR:
                raise PartitionColumnError(
                    f"partition column {column!r} is a date, so it has no hours: "
                    "use --granularity day or week"
                )
        elif not dtype.is_timestamp():
            raise PartitionColumnError(
                f"partition column {column!r} has type {dtype}; it must be a date, a timestamp "
                "or an ISO 8601 string"
            )
        return col

    def _partition_key(self, column: str, grain: Granularity,
                       table: ir.Table | None = None) -> ir.Value:
        key = self._partition_column(column, grain, table).truncate(_TRUNCATE_UNIT[grain])
        return key.name(_PARTITION)

    def _restricted(self, column: str, grain: Granularity,
                    partitions: Sequence[pd.Timestamp] | None) -> ir.Table:
        """The table filtered to the given partitions, as ranges on the raw column.

        Ranges (not ``IN`` over the truncated key) let Parquet readers and
        databases prune row groups and use indexes.
        """
        if partitions is None:
            return self.table
        runs = list(_contiguous_runs(sorted(partitions), grain.offset))
        base = self._pruned(column, runs)
        col = self._partition_column(column, grain, base)
        as_date = base.schema()[column].is_date()
        predicate = None
        for lo, hi in runs:
            lo_lit = ibis.literal(lo.date() if as_date else lo.to_pydatetime())
            hi_lit = ibis.literal(hi.date() if as_date else hi.to_pydatetime())
            term = (col >= lo_lit) & (col < hi_lit)
            predicate = term if predicate is None else predicate | term
        return base if predicate is None else base.filter(predicate)

    def _pruned(self, column: str, runs: list[tuple[pd.Timestamp, pd.Timestamp]]) -> ir.Table:
        """Only the Parquet files whose footer range meets the runs, when footers were read.

        A refresh of one day then opens the new day's file, not the whole landing
        zone. The range filter still applies on top, so results are unchanged.
        """
        if self._file_ranges is None or self._file_ranges[0] != column:
            return self.table
        ranges = self._file_ranges[1]
        keep = tuple(f for f in self.parquet_files if f in ranges and any(
            lo <= ranges[f][1] and ranges[f][0] < hi for lo, hi in runs))
        if not keep or len(keep) == len(self.parquet_files):
            return self.table
        if keep not in self._subsets:
            try:
                subset = self.table._find_backend().read_parquet(list(keep))
                same = subset.schema() == self.table.schema()
            except Exception:  # an optimisation only
                subset, same = None, False
            self._subsets[keep] = subset if same else self.table
        return self._subsets[keep]

    def partition_counts(self, column: str, grain: Granularity) -> pd.DataFrame:
        """Row count per partition: the cheap query that drives incremental refresh.

        On Parquet files, row groups that lie inside one partition are counted
        from their footers; only the partitions of the other row groups are scanned.
        """
        footers = self._footer_counts(column, grain)
        if footers is None or not footers[0]:  # nothing to gain: scan it all
            return self._scan_counts(column, grain, None)
        clean, mixed = footers
        out = _counts_frame(list(clean), list(clean.values()))
        if mixed:
            out = pd.concat([out, self._scan_counts(column, grain, sorted(mixed))],
                            ignore_index=True)
        return out.sort_values("partition", ignore_index=True)

    def _footer_counts(self, column: str, grain: Granularity):
        if not self.parquet_files:
            return None
        dtype = self._partition_column(column, grain).type()
        if not (dtype.is_date() or (dtype.is_timestamp() and dtype.timezone is None)):
            return None
        found = footer_counts(self.parquet_files, column, grain)
        if found is None:
            return None
        clean, mixed, ranges = found
        self._file_ranges = (column, ranges)
        return clean, mixed

    def _scan_counts(self, column: str, grain: Granularity,
                     partitions: Sequence[pd.Timestamp] | None) -> pd.DataFrame:
        table = self._restricted(column, grain, partitions)
        key = self._partition_key(column, grain, table)
        frame = self._execute(table.group_by(key).aggregate(row_count=ibis._.count()))
        frame = frame[frame[_PARTITION].notna()]
        out = _counts_frame(frame[_PARTITION], frame["row_count"])
        return out.sort_values("partition", ignore_index=True)

    # -- the fused summary query -------------------------------------------
    def aggregate_states(self, column: str, grain: Granularity, columns: Sequence[ColumnInfo],
                         quantiles: Sequence[float],
                         partitions: Sequence[pd.Timestamp] | None = None,
                         string_distinct: bool = True) -> list[dict]:
        """One GROUP BY partition query computing every state of every column.

        ``string_distinct=False`` leaves out the strings' distinct counts when the
        top-values query will count them exactly anyway.

        Returns one record per partition: ``{"partition": ts, "row_count": n,
        "states": {column: {state: value}}}``.
        """
        table = self._restricted(column, grain, partitions)
        ctx = StateContext(quantiles,
                           exact_distinct=_EXACT_DISTINCT_IS_CHEAP.get(self.backend, False),
                           sampled_quantiles=self.backend in _SAMPLED_QUANTILES,
                           float_modulo=self.backend in _FLOAT_MODULO,
                           string_distinct=string_distinct)
        metrics: dict[str, ir.Scalar] = {"row_count": ibis._.count()}
        slots: list[tuple[str, str, str]] = []
        for i, info in enumerate(columns):
            x = table[info.name]
            for state, build in STATES[info.kind].items():
                expr = build(x, ctx)
                if expr is None:  # this engine gets the state elsewhere
                    continue
                alias = f"c{i}_{state}"
                metrics[alias] = expr
                slots.append((alias, info.name, state))
        key = self._partition_key(column, grain, table)
        frame = self._execute(table.group_by(key).aggregate(**metrics))
        records = []
        for row in frame.to_dict("records"):
            if row[_PARTITION] is None or row[_PARTITION] is pd.NaT:
                continue
            states: dict[str, dict[str, object]] = {info.name: {} for info in columns}
            for alias, name, state in slots:
                states[name][state] = row[alias]
            records.append({"partition": to_utc_naive(row[_PARTITION]),
                            "row_count": int(row["row_count"]), "states": states})
        return sorted(records, key=lambda r: r["partition"])

    def top_values(self, column: str, grain: Granularity, columns: Sequence[ColumnInfo], k: int,
                   partitions: Sequence[pd.Timestamp] | None = None) -> pd.DataFrame:
        """The k most frequent values per (column, partition), in one UNION ALL query.

        The query groups by every distinct value anyway, so it also returns the exact
        number of distinct values per (column, partition) in ``distinct``, for free.
        """
        if not columns:
            return pd.DataFrame(columns=["column", "partition", "value", "count", "distinct"])
        table = self._restricted(column, grain, partitions)
        key = self._partition_key(column, grain, table)
        parts = []
        for i, info in enumerate(columns):
            x = table[info.name]
            parts.append(
                table.filter(x.notnull())
                .group_by([key, x.cast("string").name("value")])
                .aggregate(n=ibis._.count())
                .mutate(col=ibis.literal(i, type="int32"))
            )
        union = ibis.union(*parts, distinct=False)
        if self.backend in _KEEPS_TOP_K:
            frame = self._execute(_top_k_by_aggregate(union, k))
        else:
            group = [union.col, union[_PARTITION]]
            rank = ibis.row_number().over(group_by=group, order_by=[union.n.desc(), union.value])
            distinct = union.n.count().over(group_by=group)
            frame = self._execute(union.mutate(rank=rank, distinct=distinct)
                                  .filter(ibis._.rank < k))
        names = [info.name for info in columns]
        return pd.DataFrame({
            "column": [names[int(i)] for i in frame["col"]],
            "partition": [to_utc_naive(v) for v in frame[_PARTITION]],
            "value": frame["value"].astype(object).to_numpy(),
            "count": frame["n"].astype("int64").to_numpy(),
            "distinct": frame["distinct"].astype("int64").to_numpy(),
        })

    def _execute(self, expr: ir.Table) -> pd.DataFrame:
        try:
            return expr.execute()
        except Exception as exc:  # engines raise many unrelated types
            raise QueryFailed(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc

    def sql(self, expr: ir.Table) -> str:
        return str(ibis.to_sql(expr))


_KEEPS_TOP_K = {"duckdb"}  # engines with arg_min(arg, key, k): a bounded heap per group
_VALUE_COUNT = dt.Struct({"value": "string", "n": "int64"})
_RANK_KEY = dt.Struct({"neg_n": "int64", "value": "string"})


@ibis.udf.agg.builtin(name="arg_min")
def _arg_min_k(arg: _VALUE_COUNT, key: _RANK_KEY, k: int) -> dt.Array(_VALUE_COUNT):
    """DuckDB's ``arg_min(arg, key, k)``: the k args with the smallest keys."""


def _top_k_by_aggregate(union: ir.Table, k: int) -> ir.Table:
    """The same k values as the ranked window (count descending, then value), in less time.

    The window sorts every distinct value of every partition (millions for an
    id column); ``arg_min`` keeps a heap of k per (column, partition) instead.
    """
    key = ibis.struct({"neg_n": -union.n, "value": union.value})
    arg = ibis.struct({"value": union.value, "n": union.n})
    top = union.group_by([union.col, union[_PARTITION]]).aggregate(
        top=_arg_min_k(arg, key, k), distinct=union.count())
    flat = top.unnest("top")
    return flat.select("col", _PARTITION, "distinct", value=flat.top["value"], n=flat.top["n"])


def _counts_frame(partitions, counts) -> pd.DataFrame:
    return pd.DataFrame({"partition": pd.Series([to_utc_naive(v) for v in partitions],
                                                dtype="datetime64[ns]"),
                         "row_count": pd.Series(list(counts), dtype="int64")})


def _contiguous_runs(starts: Sequence[pd.Timestamp], step: pd.Timedelta):
    run_lo = run_hi = None
    for start in starts:
        if run_hi is not None and start <= run_hi:
            run_hi = max(run_hi, start + step)
            continue
        if run_lo is not None:
            yield run_lo, run_hi
        run_lo, run_hi = start, start + step
    if run_lo is not None:
        yield run_lo, run_hi


def supported(columns: Sequence[ColumnInfo]) -> list[ColumnInfo]:
    return [c for c in columns if c.kind is not Kind.UNSUPPORTED]
