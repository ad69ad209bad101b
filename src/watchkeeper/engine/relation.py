"""A table in some engine, and the few queries watchkeeper runs against it.

Everything here goes through Ibis, so identifiers are always quoted by the
engine's own compiler and never pasted into SQL text.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import sqlglot as sg

from ..errors import PartitionColumnError
from . import duck, row_hash
from .duck import is_interrupt
from .aggregates import (COUNTED_STRING_STATES, EXACT_ROWS, HISTOGRAM_RANGE, QUANTILE_SAMPLE,
                         SMALL_INTEGER_RANGE, StateContext, column_states, finish_states,
                         kind_of)
from .parquet_footers import file_integer_ranges, footer_counts, integer_ranges
from .types import ColumnInfo, Granularity, Kind

_TRUNCATE_UNIT = {Granularity.HOUR: "h", Granularity.DAY: "D", Granularity.WEEK: "W"}
_PARTITION = "wk_partition"
_SOURCE = "wk_source"  # the alias of a wide source's query inside each batch's (_narrowed)


def internal_name(base: str, taken: Sequence[str]) -> str:
    """The name of one of watchkeeper's own columns next to user columns ``taken``:
    ``wk_<base>``, or ``__wk_<base>_<i>`` when a user column already has that name."""
    taken = set(taken)
    name, i = f"wk_{base}", 0
    while name in taken:
        i += 1
        name = f"__wk_{base}_{i}"
    return name

_EXACT_DISTINCT_IS_CHEAP = {"duckdb": True, "postgres": True, "pyspark": False}
"""Engine capability: several COUNT(DISTINCT) in one GROUP BY. Spark plans them with an
Expand that copies every row once per distinct aggregate, so it keeps its HLL++ sketch."""

_FLOAT_MODULO = {"duckdb", "pyspark"}
"""Engines where ``double % 1`` is defined (and NaN for NaN and ±inf); PostgreSQL is not."""

_SAMPLED_QUANTILES = {"duckdb"}
"""Engines whose quantiles come from a reservoir sample (``aggregates._quantiles``)."""

_SKETCHED = {"duckdb", "pyspark"}
"""Engines that sketch quantiles or float distinct counts in partitions larger than
``EXACT_ROWS`` (PostgreSQL is exact everywhere)."""

_DUCKDB_BUILTINS = {"duckdb"}
"""Engines with DuckDB's ``bit_count``, ``bitstring_agg``, ``histogram``, ``count_if`` and
``trunc``: the fused scan summarizes small-range integers exactly, from a histogram or as
bits (``aggregates.HISTOGRAM_RANGE``, ``SMALL_INTEGER_RANGE``), counts conditions without a
cast, and tests integral floats without a modulo."""


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
                 parquet_files: Sequence[str] = (), owned_duckdb=None) -> None:
        self.table = table
        self.backend = backend
        self.label = label
        self._close = close
        self._duckdb = owned_duckdb  # a DuckDB backend watchkeeper opened: its settings are ours
        self.parquet_files = list(parquet_files)  # lets partition_counts read footers
        self._file_ranges: tuple[str, dict] | None = None  # (column, {file: (min, max)})
        self._subsets: dict[tuple[str, ...], ir.Table] = {}
        self._compiled_sources: dict = {}  # a wide source's SQL, parsed once (_narrowed)
        self._int_ranges: dict[str, tuple[int, int]] | None = None
        self._small_ranges: tuple[dict, dict] | None = None  # (of _int_ranges, the small)
        self._file_int_ranges: dict[str, dict] = {}  # by path: what its footer bounds
        # The partition key's alias, never a user column's name.
        self.key = internal_name("partition", table.columns)
        # Rows per partition start outside 1677-09-22..2262-04-11, which partition_counts
        # leaves out (a notice for the caller, never a crash).
        self.outside_range: dict[str, int] = {}

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None

    def borrowed(self, label: str | None = None) -> "Relation":
        """This relation (its connection, its caches) for a callee that closes what it is
        given: closing the copy leaves it open for its owner, who closes it."""
        import copy

        out = copy.copy(self)
        out._close = None
        if label is not None:
            out.label = label
        return out

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
        col = self._partition_column(column, grain, table)
        dtype = col.type()
        if grain is Granularity.DAY and (dtype.is_date() or (dtype.is_timestamp()
                                                             and dtype.timezone is None)):
            # The same day as truncating, but a DATE key groups faster than a timestamp
            # (DuckDB: 15% of the value-count query, whose every branch groups by it).
            # Not for zoned timestamps, whose day depends on the session's time zone.
            return col.cast("date").name(self.key)
        return col.truncate(_TRUNCATE_UNIT[grain]).name(self.key)

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
        if base is not self.table and self._files_inside(runs):
            # Every file left holds only rows of these partitions (or none): the range
            # filter would keep them all, and it costs each query a larger plan to compile.
            return base
        predicate = self._in_runs(column, grain, base, runs)
        return base if predicate is None else base.filter(predicate)

    def _narrowed(self, column: str, grain: Granularity,
                  partitions: Sequence[pd.Timestamp] | None,
                  columns: Sequence[ColumnInfo]) -> ir.Table:
        """``_restricted`` to the partition column and ``columns``: on a wide table, Ibis
        then resolves and compiles every later step against these columns, not all of
        the source's (quadratic in the columns otherwise)."""
        table = self._restricted(column, grain, partitions)
        names = [column, *(c.name for c in columns if c.name != column)]
        if len(names) == len(table.columns):
            return table
        if self.backend not in _COMPILED_PROJECTION or len(table.columns) <= _WIDE * len(names):
            return table.select(*names)
        # Ibis resolves a projection against every field of its parent, both to build it
        # and each time it compiles a query over it: on a wide source, work over all the
        # columns for each batch of them. Instead, the source (restricted) is compiled
        # once, and each batch is a table of its own over that query: its columns picked
        # by sqlglot (identifiers quoted), its schema taken from the source's.
        source = self._compiled_sources.get(table.op())
        if source is None:
            source = sg.parse_one(self.sql(table), read=self.backend)
            self._compiled_sources = {table.op(): source}  # the batch of partitions at hand
        query = sg.select(*(sg.column(name, quoted=True) for name in names)).from_(
            source.subquery(_SOURCE))
        schema = table.schema()
        return table._find_backend().sql(query.sql(dialect=self.backend),
                                         schema=ibis.schema({n: schema[n] for n in names}))

    def _in_runs(self, column: str, grain: Granularity, table: ir.Table,
                 runs: list[tuple[pd.Timestamp, pd.Timestamp]]) -> ir.BooleanValue | None:
        """Whether a row's partition column lies in one of ``runs``, as ranges on the
        raw column (None for no runs)."""
        col = self._partition_column(column, grain, table)
        as_date = table.schema()[column].is_date()
        predicate = None
        for lo, hi in runs:
            lo_lit = ibis.literal(lo.date() if as_date else lo.to_pydatetime())
            hi_lit = ibis.literal(hi.date() if as_date else hi.to_pydatetime())
            term = (col >= lo_lit) & (col < hi_lit)
            predicate = term if predicate is None else predicate | term
        return predicate

    def _small_rows(self, column: str, grain: Granularity, table: ir.Table,
                    row_counts: dict[pd.Timestamp, int] | None,
                    partitions: Sequence[pd.Timestamp] | None) -> bool | ir.BooleanValue:
        """``StateContext.small``: True when every partition summarized has at most
        ``EXACT_ROWS`` rows (or the engine is exact anyway), False when none has (or
        their sizes are unknown), else a predicate on the rows of the small ones."""
        if self.backend not in _SKETCHED:
            return True
        if row_counts is None:
            return False
        due = list(row_counts) if partitions is None else list(partitions)
        small = sorted(p for p in due if row_counts.get(p, 0) <= EXACT_ROWS)
        if len(small) == len(due):
            return True
        if not small:
            return False
        large = sorted(set(due) - set(small))
        # the shorter list of ranges; rows of no partition (NULL) match neither
        if len(small) <= len(large):
            return self._in_runs(column, grain, table,
                                 list(_contiguous_runs(small, grain.offset)))
        return ~self._in_runs(column, grain, table,
                              list(_contiguous_runs(large, grain.offset)))

    def _pruned(self, column: str, runs: list[tuple[pd.Timestamp, pd.Timestamp]]) -> ir.Table:
        """Only the Parquet files whose footer range meets the runs, when footers were read.

        A refresh of one day then opens the new day's file, not the whole landing
        zone. The range filter still applies on top, so results are unchanged.
        """
        if self._file_ranges is None or self._file_ranges[0] != column:
            return self.table
        keep = tuple(self._files_meeting(runs))
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

    def _files_meeting(self, runs: list[tuple[pd.Timestamp, pd.Timestamp]]) -> list[str]:
        """The files whose footer range of the partition column meets one of the runs."""
        ranges = self._file_ranges[1]
        return [f for f in self.parquet_files if f in ranges and any(
            lo <= ranges[f][1] and ranges[f][0] < hi for lo, hi in runs)]

    def _files_inside(self, runs: list[tuple[pd.Timestamp, pd.Timestamp]]) -> bool:
        """Whether every file ``_pruned`` keeps has its footer range inside one of the runs."""
        ranges = self._file_ranges[1]
        return all(any(lo <= ranges[f][0] and ranges[f][1] < hi for lo, hi in runs)
                   for f in self._files_meeting(runs))

    def partition_counts(self, column: str, grain: Granularity) -> pd.DataFrame:
        """Row count per partition: the cheap query that drives incremental refresh.

        On Parquet files, row groups that lie inside one partition are counted
        from their footers; only the partitions of the other row groups are scanned.
        """
        self.outside_range = {}
        footers = self._footer_counts(column, grain)
        if footers is None or not footers[0]:  # nothing to gain: scan it all
            return self._scan_counts(column, grain, None)
        clean, mixed = footers
        out = _counts_frame(list(clean), list(clean.values()), self.outside_range)
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
        found = footer_counts(self.parquet_files, column, grain, self._note_integer_ranges)
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
        frame = frame[frame[self.key].notna()]
        out = _counts_frame(frame[self.key], frame["row_count"], self.outside_range)
        return out.sort_values("partition", ignore_index=True)

    # -- the fused summary query -------------------------------------------
    def all_small(self, row_counts: dict[pd.Timestamp, int] | None,
                  partitions: Sequence[pd.Timestamp] | None) -> bool:
        """Whether every partition summarized (``partitions``, None for all of
        ``row_counts``) has at most ``EXACT_ROWS`` rows, so that the fused scan counts
        every column's distinct values exactly (``COUNT(DISTINCT)``) in bounded memory."""
        if row_counts is None:
            return False
        due = list(row_counts) if partitions is None else list(partitions)
        return all(row_counts.get(p, 0) <= EXACT_ROWS for p in due)

    def counted_states(self, info: ColumnInfo, small: bool = False) -> frozenset[str]:
        """The states of ``info`` that :meth:`value_counts` computes exactly.

        Every state of a string column, and the distinct count of an integer column
        (on every engine: a GROUP BY value is cheap where several COUNT(DISTINCT) in
        one scan are not, e.g. on Spark). Not an integer's distinct count when every
        partition is ``small`` (``all_small``) on an engine with cheap exact distinct
        counts: the fused scan counts it exactly, and a table of numbers needs no
        value-count query at all (on a wide table, half of the time).
        """
        if info.kind is Kind.STRING:
            return COUNTED_STRING_STATES
        if info.kind is Kind.NUMERIC and self.table.schema()[info.name].is_integer():
            if info.name in self.small_integer_ranges():
                return frozenset()  # few possible values: the fused scan counts them exactly
            if small and _EXACT_DISTINCT_IS_CHEAP.get(self.backend, False):
                return frozenset()
            return _COUNTED_DISTINCT
        return frozenset()

    def exact_distinct(self, info: ColumnInfo, value_counts_ran: bool,
                       small: bool = False) -> bool:
        """Whether the distinct count of ``info`` in this run is exact (and so can prove
        that no row repeats): small-range integers, which the fused scan counts as a
        histogram or bits; the columns :meth:`value_counts` counted, once it ran; and
        every counted column when every partition is ``small``, where distinct counts
        are exact on every engine."""
        if info.name in self.small_integer_ranges():
            return True
        if small and info.kind in (Kind.NUMERIC, Kind.FLOAT, Kind.STRING):
            return True
        return value_counts_ran and bool(self.counted_states(info, small))

    def small_integer_ranges(self) -> dict[str, tuple[int, int]]:
        """``{column: (min, max)}`` of integer columns whose Parquet footers bound them to
        at most ``SMALL_INTEGER_RANGE`` values, on engines with ``bit_count``.

        The fused scan counts their distinct values exactly, one bit per possible
        value, instead of a branch of the value-count query that reads the column
        again (codes, ages, counts, dense ids: 7 of the benchmark's 8 integer
        columns, 0.25 s of 2.4 s). Other sources and engines: empty, and nothing
        changes.
        """
        ranges = self.footer_integer_ranges()
        if self._small_ranges is None or self._small_ranges[0] is not ranges:
            # asked per column: on a wide table, rebuilding it each time was quadratic
            self._small_ranges = (ranges, {name: (low, high)
                                           for name, (low, high) in ranges.items()
                                           if high - low < SMALL_INTEGER_RANGE})
        return self._small_ranges[1]

    def footer_integer_ranges(self) -> dict[str, tuple[int, int]]:
        """``{column: (min, max)}`` of the integer columns, from the Parquet footers (read
        once), on engines with DuckDB's builtins (empty elsewhere, and once forgotten)."""
        if self._int_ranges is None:
            self._int_ranges = {}
            if self.parquet_files and self.backend in _DUCKDB_BUILTINS:
                self._int_ranges = integer_ranges(self.parquet_files, self._integer_columns,
                                                  self._file_int_ranges)
        return self._int_ranges

    def forget_integer_ranges(self) -> bool:
        """Stop relying on the footers' integer ranges (small-range integers counted as
        bits or histograms, int64 squares summed exactly); True if some were used (a
        query failed and the ranges may be wrong: a file rewritten since, or a writer's
        bug)."""
        had = bool(self._int_ranges)
        self._int_ranges = {}
        return had

    def _note_integer_ranges(self, path: str, meta) -> None:
        """Keep what a footer read for the row counts says of the integer columns."""
        self._file_int_ranges[path] = file_integer_ranges(meta, self._integer_columns)

    @functools.cached_property
    def _integer_columns(self) -> list[str]:
        return [name for name, dtype in self.table.schema().items() if dtype.is_integer()]

    def state_bytes_per_partition(self, columns: Sequence[ColumnInfo],
                                  rows: int | None = None) -> int | None:
        """What the fused query's aggregate states hold per partition of at most ``rows``
        rows (None: any size), on engines that run in this process (DuckDB), or None
        elsewhere (a server manages its own memory).

        The fused query runs once per ``COLUMN_BATCH`` columns, one after the other, and
        each holds the states of its own columns only: the largest of those batches
        counts, not all of ``columns`` (on a wide table, counting them all cut the
        partitions into batches that each ran every column's query again).

        Dominated by the quantile states: per numeric column, partition and DuckDB
        thread, a reservoir of ``QUANTILE_SAMPLE`` values, or every value of a
        partition small enough for exact quantiles, whichever is fewer, at about 16
        bytes a value (the 8-byte double and the reservoir's bookkeeping, as measured
        on the benchmark). A histogram column's map is smaller than that and counted
        as one.
        """
        if self.backend not in _SAMPLED_QUANTILES or self._duckdb is None:
            return None
        values = QUANTILE_SAMPLE if rows is None else min(rows, QUANTILE_SAMPLE)
        ranges = self.small_integer_ranges()

        def held(chunk: Sequence[ColumnInfo]) -> int:
            numeric = sum(1 for c in chunk if c.kind in (Kind.NUMERIC, Kind.FLOAT))
            names = {c.name for c in chunk}
            # plus the bit strings of integers too wide for a histogram
            # (aggregates._distinct_by_bits)
            bits = sum((high - low + 1) // 8 for name, (low, high) in ranges.items()
                       if high - low >= HISTOGRAM_RANGE and name in names)
            return numeric * values * 16 + bits

        threads = int(self._duckdb.con.execute(
            "SELECT current_setting('threads')").fetchone()[0])
        return max(held(chunk) for chunk in _chunks(columns)) * max(1, threads)

    def aggregate_states(self, column: str, grain: Granularity, columns: Sequence[ColumnInfo],
                         quantiles: Sequence[float],
                         partitions: Sequence[pd.Timestamp] | None = None,
                         states: StateSet = "all",
                         row_counts: dict[pd.Timestamp, int] | None = None) -> list[dict]:
        """One GROUP BY partition query computing every state of every column.

        ``row_counts`` (rows per partition, from :meth:`partition_counts`) lets
        partitions of at most ``EXACT_ROWS`` rows have exact quantiles and distinct
        counts on engines that otherwise sketch them; without it they are sketched.

        ``states="uncounted"`` leaves out the states that :meth:`value_counts` will
        compute exactly (``counted_states``): string columns drop out of this scan.
        ``states="counted"`` computes only those, when the value counts failed.

        Returns one record per partition: ``{"partition": ts, "row_count": n,
        "states": {column: {state: value}}}``.

        Wide tables run as one query per ``COLUMN_BATCH`` columns: the cost of
        building, compiling and planning one query grows faster than its number of
        aggregates, and on columnar sources each query reads only its own columns.
        """
        by_partition: dict[pd.Timestamp, dict] = {}
        for chunk in _chunks(columns):
            for record in self._aggregate_chunk(column, grain, chunk, quantiles, partitions,
                                                states, row_counts):
                known = by_partition.setdefault(record["partition"], record)
                if known is not record:
                    known["states"].update(record["states"])
        return sorted(by_partition.values(), key=lambda r: r["partition"])

    def _aggregate_chunk(self, column: str, grain: Granularity, columns: Sequence[ColumnInfo],
                         quantiles: Sequence[float], partitions: Sequence[pd.Timestamp] | None,
                         states: StateSet, row_counts: dict[pd.Timestamp, int] | None
                         ) -> list[dict]:
        table = self._narrowed(column, grain, partitions, columns)
        small = self.all_small(row_counts, partitions)
        ctx = StateContext(quantiles,
                           exact_distinct=_EXACT_DISTINCT_IS_CHEAP.get(self.backend, False),
                           sampled_quantiles=self.backend in _SAMPLED_QUANTILES,
                           float_modulo=self.backend in _FLOAT_MODULO,
                           duckdb_builtins=self.backend in _DUCKDB_BUILTINS,
                           integer_bounds=self.footer_integer_ranges(),
                           small=self._small_rows(column, grain, table, row_counts, partitions))
        slots: list[tuple[str, str, str]] = []
        wanted: list[tuple[int, ColumnInfo, dict, list[str]]] = []
        for i, info in enumerate(columns):
            counted = self.counted_states(info, small)
            builders = column_states(info.kind, table[info.name], ctx)
            names = [state for state in builders
                     if states == "all" or (state in counted) == (states == "counted")]
            slots += [(f"c{i}_{state}", info.name, state) for state in names]
            wanted.append((i, info, builders, names))
        key = self._partition_key(column, grain, table)
        query = self._fused_query(table, key, column, ctx, wanted)
        records = []
        for row in self._execute_rows(query):
            if row[self.key] is None or row[self.key] is pd.NaT:
                continue
            by_column: dict[str, dict[str, object]] = {info.name: {} for info in columns}
            for alias, name, state in slots:
                by_column[name][state] = row[alias]
            for found in by_column.values():
                finish_states(found, quantiles)
            records.append({"partition": to_utc_naive(row[self.key]),
                            "row_count": int(row["row_count"]), "states": by_column})
        return sorted(records, key=lambda r: r["partition"])

    def _fused_query(self, table: ir.Table, key: ir.Value, column: str, ctx: StateContext,
                     wanted: list[tuple[int, ColumnInfo, dict, list[str]]]) -> ir.Table:
        """The GROUP BY partition query of ``wanted`` states (``c{i}_{state}``), with Ibis.

        On DuckDB, columns alike (kind, type, footer bounds, states; as the floats of a
        wide table) share their SQL: Ibis builds and compiles the states of the first of
        each kind only, and sqlglot copies them for the others, with the column renamed
        (building and compiling with Ibis otherwise took two thirds of a wide table's
        time). Anything unexpected in the compiled query: Ibis builds all of it.
        """
        def metrics(items) -> dict[str, ir.Scalar]:
            out: dict[str, ir.Scalar] = {"row_count": ibis._.count()}
            for i, info, builders, names in items:
                x = table[info.name]
                out.update((f"c{i}_{state}", builders[state](x, ctx)) for state in names)
            return out

        first: dict[tuple, tuple] = {}
        alike: list[tuple[int, ColumnInfo, list[str], tuple]] = []
        for item in wanted:
            i, info, _, names = item
            bounds = ctx.integer_bounds.get(info.name)
            if bounds is not None and bounds[1] - bounds[0] >= SMALL_INTEGER_RANGE:
                # Only a small range's bounds are written into its SQL (aggregates: bits,
                # histogram); whether wider ones' squares fit shows in the states' names.
                bounds = None
            sig = (info.kind, info.dtype, bounds, tuple(names), info.name == column)
            alike.append((i, info, names, first.setdefault(sig, item)))
        full = None
        if self.backend in _SHARED_SQL and len(first) < len(wanted):
            sample = table.group_by(key).aggregate(**metrics(first.values()))
            compiled = table._find_backend().compiler.to_sqlglot(sample)
            full = _shared_sql(sample, compiled, self.backend, self.key, column, alike)
        if full is None:
            return table.group_by(key).aggregate(**metrics(wanted))
        sample_types = sample.schema()
        types = {self.key: sample_types[self.key], "row_count": sample_types["row_count"]}
        for i, _, names, (r, *_) in alike:
            types.update((f"c{i}_{state}", sample_types[f"c{r}_{state}"]) for state in names)
        return table._find_backend().sql(full, schema=ibis.schema(types))

    def value_counts(self, column: str, grain: Granularity, columns: Sequence[ColumnInfo],
                     k: int, partitions: Sequence[pd.Timestamp] | None = None) -> ValueCounts:
        """Count every value of ``columns`` per partition, in one UNION ALL query.

        From the counts come, exactly: the k most frequent values of each string
        column, and the ``counted_states`` of each column (distinct count; for
        strings also non-null and empty counts and length statistics). Columns
        with no counted state are ignored.

        On a DuckDB connection watchkeeper opened, the query runs under a memory
        budget (``duck.VALUE_COUNT_MEMORY``, or ``WK_MEMORY_BUDGET``): its hash
        tables hold one entry per distinct (column, partition, value), which grows
        with the data, so past the budget DuckDB spills them to a temporary
        directory instead (``_execute_budgeted``).
        """
        columns = [c for c in columns if self.counted_states(c)]
        if not columns:
            return ValueCounts.empty()
        found = [self._value_count_chunk(column, grain, chunk, k, partitions)
                 for chunk in _chunks(columns)]
        return found[0] if len(found) == 1 else ValueCounts.merged(found)

    def _value_count_chunk(self, column: str, grain: Granularity, columns: Sequence[ColumnInfo],
                           k: int, partitions: Sequence[pd.Timestamp] | None) -> ValueCounts:
        table = self._narrowed(column, grain, partitions, columns)
        key = self._partition_key(column, grain, table).name(_PARTITION)  # no user name below
        parts = []
        for i, info in enumerate(columns):
            x = table[info.name]
            # Narrowed to (partition, value) first: Ibis then binds each later step
            # against two columns, not every column of the source (a third of the
            # time spent building this query on a 30-column table).
            if info.kind is Kind.STRING:
                narrow = table.select(key, value=x.cast("string"))
            else:  # counted for its distinct values only; no top values
                narrow = table.select(key, value=x)
            grouped = (narrow.filter(narrow.value.notnull()).group_by([_PARTITION, "value"])
                       .aggregate(n=ibis._.count()))
            if info.kind is not Kind.STRING:
                grouped = grouped.select(_PARTITION, value=ibis.null("string"), n=grouped.n)
            parts.append((info, grouped.mutate(col=ibis.literal(i, type="int32"))))
        if self.backend in _KEEPS_TOP_K:
            expr = _top_k_by_aggregate(parts, max(k, 1))
        else:
            union = ibis.union(*(grouped for _, grouped in parts), distinct=False)
            group = [union.col, union[_PARTITION]]
            window = ibis.window(group_by=group)
            rank = ibis.row_number().over(group_by=group, order_by=[union.n.desc(), union.value])
            expr = (union.mutate(rank=rank, **{name: agg.over(window)
                                               for name, agg in _per_column(union).items()})
                    .filter(ibis._.rank < max(k, 1)))
        return _value_counts(self._execute_budgeted(expr), columns, k)

    def distinct_rows(self, column: str, grain: Granularity, columns: Sequence[ColumnInfo],
                      partitions: Sequence[pd.Timestamp] | None = None) -> dict[pd.Timestamp, int]:
        """Distinct rows per partition, comparing ``columns`` (NULLs equal), in one query.

        The distinct 64-bit row hashes (``row_hash``: each engine's own hash function)
        are counted per partition, exactly: the engine keeps one 16-byte entry per
        distinct row instead of the row itself, under DuckDB's memory budget (as the
        value counts) or the server's (PostgreSQL's ``work_mem``, Spark's executor
        memory), spilling past it. Two distinct rows of a partition of n rows share a
        hash with probability about n² / 2⁶⁵ (3 in a million at 10 million rows),
        which would count one row as a repeat. Engines without a row hash compare the
        rows themselves (``SELECT DISTINCT``). ``profile`` only asks for partitions
        where no column is unique.
        """
        table = self._narrowed(column, grain, partitions, columns)
        key = self._partition_key(column, grain, table).name(_PARTITION)
        values = [table[c.name] for c in columns]
        if self.backend in row_hash.ENGINES:
            rows = table.select(key, wk_row_hash=row_hash.row_hash(self.backend, values))
        else:  # positional aliases: the projection holds no user name, none can collide
            rows = table.select(key, **{f"c{i}": v for i, v in enumerate(values)})
        expr = rows.distinct().group_by(_PARTITION).aggregate(distinct_rows=ibis._.count())
        frame = self._execute_budgeted(expr)
        return {to_utc_naive(p): int(n) for p, n in zip(frame[_PARTITION], frame["distinct_rows"])
                if p is not None and p is not pd.NaT}

    def _execute_budgeted(self, expr: ir.Table) -> pd.DataFrame:
        """Run a query whose hash tables grow with the distinct values, under the budget.

        Only on a DuckDB connection watchkeeper opened (see ``duck.VALUE_COUNT_MEMORY``).
        Never again without it: a plan that cannot run within the budget even
        spilling fails (``QueryFailed``), and the caller falls back to what fits
        (sketched distinct counts, a notice) rather than to unbounded memory.
        """
        limit = duck.memory_budget_bytes(duck.VALUE_COUNT_MEMORY)
        with duck.memory_budget(self._duckdb, limit):
            return self._execute(expr)

    def _execute(self, expr: ir.Table) -> pd.DataFrame:
        return self._run(expr.execute)

    def _execute_rows(self, expr: ir.Table) -> list[dict]:
        """The result as Python rows, straight from Arrow: for the fused query, one row
        per partition but hundreds of columns on a wide table, where pandas converting
        each column cost half as much as compiling the query."""
        if self.backend not in _ARROW_ROWS:
            return self._run(expr.execute).to_dict("records")
        op = expr.op()
        if self.backend == "duckdb" and isinstance(op, ops.SQLQueryResult):
            # SQL watchkeeper wrote (``_fused_query``): DuckDB runs the text itself, and
            # Ibis converts the result as its own to_pyarrow does; Ibis compiling the
            # query would parse hundreds of aggregates only to print them again.
            from ibis.backends.duckdb.converter import DuckDBPyArrowData

            def fetch():
                found = op.source.con.sql(op.query).to_arrow_table()
                return expr.__pyarrow_result__(found, data_mapper=DuckDBPyArrowData)

            return _python_rows(self._run(fetch))
        return _python_rows(self._run(expr.to_pyarrow))

    @staticmethod
    def _run(fetch: Callable[[], object]):
        try:
            return fetch()
        except Exception as exc:  # engines raise many unrelated types
            if is_interrupt(exc):  # Ctrl-C inside the engine: stop the run, not one column
                raise KeyboardInterrupt from exc
            raise QueryFailed(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc

    def sql(self, expr: ir.Table) -> str:
        return str(ibis.to_sql(expr))


_ARROW_ROWS = {"duckdb", "pyspark"}
"""Engines whose results ``_execute_rows`` reads from Arrow (tested there); PostgreSQL's
go through pandas, whose types the state code was written for."""


_SHARED_SQL = {"duckdb"}
"""Engines whose fused query copies the SQL of alike columns (``Relation._fused_query``)."""


def _shared_sql(sample: ir.Table, tree, dialect: str, key: str, partition_column: str,
                alike: list[tuple[int, ColumnInfo, list[str], tuple]]) -> str | None:
    """The SQL of the fused query of every column in ``alike`` from ``tree``, the compiled
    (sqlglot) ``sample`` query of their first columns: each column's states are its
    first column's, the column renamed (quoted). None if ``tree`` is not the plain
    ``SELECT key, row_count, states FROM source [WHERE ...] GROUP BY key`` this relies
    on, or a first column's states name any column but itself and the partition
    column, or not as ``source.column``."""
    source = tree.args.get("from_") if isinstance(tree, sg.exp.Select) else None
    if (source is None or not tree.args.get("group")
            or any(tree.args.get(part) for part in ("with_", "joins", "having", "qualify",
                                                    "windows", "order", "limit"))
            or not all(isinstance(e, sg.exp.Alias) for e in tree.expressions)):
        return None
    qualifier = source.this.alias_or_name
    built = {e.alias: e for e in tree.expressions}
    if set(built) != {key, *sample.columns} or not qualifier:
        return None
    for i, info, names, (r, *_) in alike:
        if r == i:  # a first column: what its states read
            for state in names:
                for node in built[f"c{i}_{state}"].this.find_all(sg.exp.Column):
                    if (node.table != qualifier or node.args.get("db")
                            or node.name not in (info.name, partition_column)):
                        return None
    out = [built[key], built["row_count"]]
    for i, info, names, (r, first, *_) in alike:
        old = first.name

        def rename(node, old=old, new=info.name):
            if (isinstance(node, sg.exp.Column) and node.name == old
                    and node.table == qualifier and not node.args.get("db")):
                return sg.exp.column(new, table=qualifier, quoted=True)
            return node

        for state in names:
            body = built[f"c{r}_{state}"].this
            if r != i:
                body = body.transform(rename)
            out.append(sg.exp.alias_(body, f"c{i}_{state}", quoted=True, copy=False))
    tree.set("expressions", out)
    return tree.sql(dialect=dialect)


def _python_rows(table) -> list[dict]:
    """Rows of an Arrow table as dicts of Python values; maps as dicts (Arrow gives
    lists of pairs), as pandas results hold them."""
    rows = table.to_pylist()
    maps = [f.name for f in table.schema if str(f.type).startswith("map<")]
    for row in rows:
        for name in maps:
            if row[name] is not None:
                row[name] = dict(row[name])
    return rows


StateSet = Literal["all", "uncounted", "counted"]
"""Which states :meth:`Relation.aggregate_states` computes, by ``Relation.counted_states``."""

_KEEPS_TOP_K = {"duckdb"}  # engines with arg_min(arg, key, k): a bounded heap per group
_COUNTED_DISTINCT = frozenset({"distinct"})
_VALUE_COUNT = dt.Struct({"value": "string", "n": "int64"})
_RANK_KEY = dt.Struct({"neg_n": "int64", "value": "string"})


@ibis.udf.agg.builtin(name="arg_min")
def _arg_min_k(arg: _VALUE_COUNT, key: _RANK_KEY, k: int) -> dt.Array(_VALUE_COUNT):
    """DuckDB's ``arg_min(arg, key, k)``: the k args with the smallest keys."""


def _per_column(counts: ir.Table) -> dict[str, ir.Scalar]:
    """What the value counts ``(value, n)`` of one column and partition say about it."""
    length = counts.value.length()
    return {
        "distinct": counts.count(),
        "non_null": counts.n.sum(),
        "empty": ibis.ifelse(counts.value == "", counts.n, 0).sum(),
        "length_sum": (length.cast("int64") * counts.n).sum(),
        "length_min": length.min(),
        "length_max": length.max(),
    }


_TOP_LIST = dt.Array(_VALUE_COUNT)


def _top_k_by_aggregate(parts: list[tuple[ColumnInfo, ir.Table]], k: int) -> ir.Table:
    """The same k values as the ranked window (count descending, then value), in less time.

    The window sorts every distinct value of every partition (millions for an
    id column); ``arg_min`` keeps a heap of k per (column, partition) instead. Each
    column is reduced to one row per partition before the UNION ALL (cheaper than
    one aggregate over the union: integers skip the heap, 7% of the query).
    """
    reduced = []
    for info, counts in parts:
        if info.kind is Kind.STRING:
            key = ibis.struct({"neg_n": -counts.n, "value": counts.value})
            arg = ibis.struct({"value": counts.value, "n": counts.n})
            top = _arg_min_k(arg, key, k)
        else:
            top = ibis.null(_TOP_LIST)
        reduced.append(counts.group_by([counts.col, counts[_PARTITION]])
                       .aggregate(top=top, **_per_column(counts)))
    union = ibis.union(*reduced, distinct=False)
    flat = union.unnest("top", keep_empty=True)
    names = [name for name in reduced[0].columns if name not in ("col", _PARTITION, "top")]
    return flat.select("col", _PARTITION, *names, value=flat.top["value"], n=flat.top["n"])


@dataclass
class ValueCounts:
    """What :meth:`Relation.value_counts` found.

    ``top``: ``column, partition, value, count``, the k most frequent values of each
    string column per partition. ``states``: ``{(column, partition): {state: value}}``,
    the counted states (``Relation.counted_states``) of each column and partition
    that has a non-null value; :meth:`states_for` fills in the others.
    """

    top: pd.DataFrame
    states: dict[tuple[str, pd.Timestamp], dict[str, object]]

    @classmethod
    def merged(cls, parts: Sequence["ValueCounts"]) -> "ValueCounts":
        """The counts of disjoint sets of columns, together."""
        states: dict[tuple[str, pd.Timestamp], dict[str, object]] = {}
        for part in parts:
            states.update(part.states)
        return cls(pd.concat([p.top for p in parts], ignore_index=True), states)

    @classmethod
    def empty(cls) -> "ValueCounts":
        """No counts: what a query that did not run found."""
        return cls(pd.DataFrame({"column": pd.Series(dtype=object),
                                 "partition": pd.Series(dtype="datetime64[ns]"),
                                 "value": pd.Series(dtype=object),
                                 "count": pd.Series(dtype="int64")}), {})

    def states_for(self, info: ColumnInfo, partition: pd.Timestamp) -> dict[str, object]:
        found = self.states.get((info.name, partition))
        if found is not None:
            return found
        if info.kind is Kind.STRING:  # no non-null value in this partition
            return {"non_null": 0, "empty": 0, "distinct": 0, "length_mean": None,
                    "length_min": None, "length_max": None}
        return {"distinct": 0}


def _value_counts(frame: pd.DataFrame, columns: Sequence[ColumnInfo], k: int) -> ValueCounts:
    frame = frame[frame[_PARTITION].notna()]  # rows without a partition value belong to none
    names = [info.name for info in columns]
    strings = {i for i, info in enumerate(columns) if info.kind is Kind.STRING}
    col = frame["col"].astype("int64").to_numpy()
    partitions = [to_utc_naive(v) for v in frame[_PARTITION]]
    states: dict[tuple[str, pd.Timestamp], dict[str, object]] = {}
    for j, row in enumerate(frame.itertuples(index=False)):
        i = int(col[j])
        key = (names[i], partitions[j])
        if key in states:
            continue
        if i in strings:
            non_null = int(row.non_null)
            states[key] = {"non_null": non_null, "empty": int(row.empty),
                           "distinct": int(row.distinct),
                           "length_mean": float(row.length_sum) / non_null,
                           "length_min": int(row.length_min), "length_max": int(row.length_max)}
        else:
            states[key] = {"distinct": int(row.distinct)}
    keep = np.isin(col, sorted(strings)) & (k > 0)  # integers have no top values
    top = pd.DataFrame({
        "column": [names[i] for i in col[keep]],
        "partition": pd.Series(np.array(partitions, dtype=object)[keep], dtype="datetime64[ns]"),
        "value": frame["value"].astype(object).to_numpy()[keep],
        "count": frame["n"].to_numpy()[keep].astype("int64"),
    })
    return ValueCounts(top, states)


_NS_RANGE = (pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D"))


def _counts_frame(partitions, counts, outside: dict | None = None) -> pd.DataFrame:
    """Row counts per partition start. Starts outside the nanosecond range
    (1677-09-22 to 2262-04-11) are left out and counted in ``outside``: a row dated
    year 1 or 9999 is the data's problem, reported as a notice, never a crash."""
    keep_p, keep_n = [], []
    for value, n in zip(partitions, counts):
        start = _in_range(value)
        if start is None:
            if outside is not None:
                key = str(value)[:10]
                outside[key] = outside.get(key, 0) + int(n)
            continue
        keep_p.append(start)
        keep_n.append(int(n))
    return pd.DataFrame({"partition": pd.Series(keep_p, dtype="datetime64[ns]"),
                         "row_count": pd.Series(keep_n, dtype="int64")})


def _in_range(value) -> pd.Timestamp | None:
    try:
        ts = to_utc_naive(value)
    except (ValueError, OverflowError):
        return None
    if not _NS_RANGE[0] <= ts <= _NS_RANGE[1]:
        return None
    return ts.as_unit("ns")


COLUMN_BATCH = 64
"""Columns per fused or value-count query. On a 500-column table, one query per 25 to 100
columns took the same CPU time, one per 200 columns 1.5x, one per 500 columns 5x
(building, compiling and planning grow faster than the number of aggregates)."""


_WIDE = 4
"""A source with more than this many times the columns a query needs is wide: its
queries read a projection compiled once (``Relation._narrowed``)."""

_COMPILED_PROJECTION = {"duckdb"}
"""Engines whose wide sources are read through a compiled projection (measured there);
elsewhere the projection stays an Ibis expression over the source."""


def _chunks(columns: Sequence[ColumnInfo]) -> list[Sequence[ColumnInfo]]:
    return [columns[i:i + COLUMN_BATCH] for i in range(0, len(columns), COLUMN_BATCH)] or [[]]


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
