"""Profile a partitioned table: one fused scan, incremental refresh, results stored.

The flow: count rows per partition (cheap) → compare with the store → run one
GROUP BY for the partitions that are new or changed → one UNION ALL query for
top values → derive statistics → save in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._util import first_line
from ..engine import ColumnInfo, Granularity, Kind, QueryFailed, Relation, open_source
from ..engine.relation import StateSet, ValueCounts
from ..engine.duck import memory_budget_bytes
from ..engine.types import PANDAS_RANGE
from ..errors import EmptySourceError, PartitionColumnError
from ..store import Store, TableRecord
from .statistics import long_frame, top_value_frame
from .vocabulary import COUNT_STATISTICS, QUANTILES, TOP_K_DEFAULT
from .._display import repr_html

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``; the CLI draws it with Rich."""


@dataclass(frozen=True)
class Notice:
    """Something the run skipped or could not compute; the rest of the run went on."""

    column: str
    message: str


@dataclass
class ProfileResult:
    table: str
    granularity: Granularity
    fingerprint: str
    partitions: list[pd.Timestamp]
    refreshed: list[pd.Timestamp]
    statistics: pd.DataFrame
    top_values: pd.DataFrame
    notices: list[Notice] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.partitions) - len(self.refreshed)

    _repr_html_ = repr_html  # Jupyter: tables and charts (watchkeeper.server.notebook)

    def records(self):
        """The refreshed statistics as JSON-ready dicts (the ``--format json`` lines)."""
        fmt = self.granularity.format
        stats = self.statistics
        # Plain Python lists, each partition formatted once: on a wide table, hundreds of
        # thousands of rows, where pandas' row tuples and a Timestamp per row cost more
        # than writing the JSON.
        starts, where = np.unique(stats["partition"].to_numpy(), return_inverse=True)
        texts = [fmt(pd.Timestamp(start)) for start in starts]
        for i, column, statistic, value in zip(
                where.tolist(), stats["column"].to_numpy(dtype=object).tolist(),
                stats["statistic"].to_numpy(dtype=object).tolist(), stats["value"].tolist()):
            if value is None:
                pass
            elif value != value if type(value) is float else pd.isna(value):
                value = None
            elif statistic in COUNT_STATISTICS:
                value = int(value)
            yield {"partition": texts[i], "column": column, "statistic": statistic,
                   "value": value}
        for partition in self.refreshed:
            yield {"partition": fmt(partition), "column": "*", "statistic": "schema_fingerprint",
                   "value": self.fingerprint}


def _noop(step: str, done: int, total: int) -> None:
    pass


def profile(source, *, partition_column: str, granularity: str | Granularity = "day",
            name: str | None = None, store: Store | None = None, top_k: int = TOP_K_DEFAULT,
            full_refresh: bool = False, progress: Progress | None = None) -> ProfileResult:
    """Summarize every partition of ``source`` that changed since the last run.

    ``source`` is a path, a source URL, a frame or an Ibis table (see
    :func:`watchkeeper.engine.open_source`). With a ``store``, results are saved
    under ``name`` and only new or changed partitions are recomputed.
    """
    grain = Granularity.parse(granularity)
    progress = progress or _noop
    label = name or (str(source) if isinstance(source, str) else None)
    relation = open_source(source, label=label)
    try:
        return _profile(relation, partition_column, grain, name or relation.label, store,
                        top_k, full_refresh, progress)
    finally:
        relation.close()


def _profile(relation: Relation, partition_column: str, grain: Granularity, name: str,
             store: Store | None, top_k: int, full_refresh: bool,
             progress: Progress) -> ProfileResult:
    record = TableRecord(name, relation.label, partition_column, grain.value)
    columns = relation.columns()
    notices = [Notice(c.name, f"type {c.dtype} cannot be summarized; skipped")
               for c in columns if c.kind is Kind.UNSUPPORTED]
    columns = [c for c in columns if c.kind is not Kind.UNSUPPORTED]
    fingerprint = relation.fingerprint()

    progress("counting rows per partition", 0, 1)
    try:
        counts = relation.partition_counts(partition_column, grain)
    except QueryFailed as exc:
        raise PartitionColumnError(
            f"cannot partition {relation.label} by {partition_column!r} ({exc}): "
            "check that it holds dates or timestamps"
        ) from None
    if relation.outside_range:
        rows = sum(relation.outside_range.values())
        shown = ", ".join(sorted(relation.outside_range)[:3])
        notices.append(Notice(partition_column, f"{rows} row(s) dated outside {PANDAS_RANGE} "
                                                f"(partitions {shown}) are not profiled: "
                                                "fix or filter those dates"))
    if counts.empty:
        raise EmptySourceError(f"{relation.label} has no rows with a {partition_column!r} value: "
                               "nothing to profile")
    progress("counting rows per partition", 1, 1)

    replace_all = full_refresh
    if store is not None and not full_refresh:
        previous = store.table(name)
        if previous and (previous.partition_column, previous.granularity) != (
                partition_column, grain.value):
            replace_all = True  # a new partitioning makes every old summary incomparable
    todo = _changed_partitions(counts, store, name, fingerprint, replace_all)
    all_partitions = list(counts["partition"])
    if not todo:
        return ProfileResult(name, grain, fingerprint, all_partitions, [], _empty_stats(),
                             top_value_frame(pd.DataFrame(), {}), notices)

    row_counts = {p: int(n) for p, n in counts.itertuples(index=False, name=None)}
    largest = max(row_counts[p] for p in todo)
    batches = _batches(todo, relation.state_bytes_per_partition(columns, largest))
    records: list[dict] = []
    tops: list[pd.DataFrame] = []
    failed: dict[tuple[str, str], Notice] = {}
    label = f"summarizing {len(todo)} partitions"
    for i, batch in enumerate(batches):
        progress(label, i, len(batches))
        # The whole table when every partition is due in one batch: no range filter.
        restrict = None if (len(batches) == 1 and len(todo) == len(counts)
                            and not relation.outside_range) else batch
        part, top, more = _summarize(relation, partition_column, grain, columns, restrict,
                                     top_k, row_counts)
        records += part
        tops.append(top)
        for notice in more:  # one notice per column, not one per batch
            failed.setdefault((notice.column, notice.message), notice)
    progress(label, len(batches), len(batches))
    notices += list(failed.values())
    # A column that failed in some batch keeps the partitions of the others.
    good = [c for c in columns if any(r["states"].get(c.name) for r in records)]
    top = pd.concat(tops, ignore_index=True) if len(tops) > 1 else tops[0]

    top_count = {key: int(n) for key, n in top.groupby(["column", "partition"])["count"].max()
                 .items()}
    stats = long_frame(records, good, grain, top_count)
    non_null = {(c.name, r["partition"]): r["states"][c.name].get("non_null")
                for r in records for c in good if r["states"].get(c.name)}
    tops = top_value_frame(top, non_null)
    refreshed = sorted(r["partition"] for r in records)

    if store is not None:
        progress("saving", 0, 1)
        part_frame = pd.DataFrame({"partition": refreshed, "row_count": [
            r["row_count"] for r in sorted(records, key=lambda r: r["partition"])]})
        store.save_profile(record, partitions=part_frame, fingerprint=fingerprint,
                           columns=[(c.name, c.kind.value, c.dtype) for c in good],
                           statistics=stats, top_values=tops, replace_all=replace_all)
        progress("saving", 1, 1)
    return ProfileResult(name, grain, fingerprint, all_partitions, refreshed, stats, tops, notices)


def _empty_stats() -> pd.DataFrame:
    return pd.DataFrame(columns=["partition", "column", "statistic", "value"])


def _changed_partitions(counts: pd.DataFrame, store: Store | None, name: str, fingerprint: str,
                        replace_all: bool) -> list[pd.Timestamp]:
    """New partitions, and those whose row count or schema fingerprint changed (late data)."""
    if store is None or replace_all:
        return list(counts["partition"])
    state = store.partition_state(name)
    known = {p: (int(n), f) for p, n, f in state.itertuples(index=False, name=None)}
    return [p for p, n in counts.itertuples(index=False, name=None)
            if known.get(p) != (int(n), fingerprint)]


def _aggregate_isolating(relation: Relation, partition_column: str, grain: Granularity,
                         columns: Sequence[ColumnInfo], partitions, states: StateSet,
                         row_counts: dict | None = None) -> tuple[list[dict], list[Notice]]:
    """Run the fused query; if the engine rejects it, bisect to find the guilty columns.

    The normal path is one query. Only when it fails do we split, so one bad
    column costs a few extra queries instead of aborting the whole run.
    """
    quantiles = list(QUANTILES.values())
    try:
        return relation.aggregate_states(partition_column, grain, columns, quantiles,
                                         partitions, states=states, row_counts=row_counts), []
    except QueryFailed as exc:
        if relation.forget_integer_ranges():
            # A value outside its footer's range (a file rewritten since the footers
            # were read, or a writer's wrong statistics) fails the bit counting or
            # overflows a square: summarize those integers the general way instead,
            # without blaming a column.
            return _aggregate_isolating(relation, partition_column, grain, columns, partitions,
                                        states, row_counts)
        if len(columns) <= 1:
            if not columns:
                raise
            return [], [Notice(columns[0].name, f"could not be summarized ({first_line(exc)})")]
    middle = len(columns) // 2
    left, left_notes = _aggregate_isolating(relation, partition_column, grain, columns[:middle],
                                            partitions, states, row_counts)
    right, right_notes = _aggregate_isolating(relation, partition_column, grain,
                                              columns[middle:], partitions, states, row_counts)
    return _merge(left, right), left_notes + right_notes


def _batches(todo: list[pd.Timestamp], state_bytes: int | None) -> list[list[pd.Timestamp]]:
    """The partitions to summarize, in batches whose aggregate states fit the budget.

    A fused query keeps its states (a 4,096-value quantile sample per numeric
    column of its batch of columns, per partition, per thread on DuckDB) until it
    ends: a first profile of years of daily partitions would hold them all at once.
    Batches of consecutive
    partitions bound that; each reads only its own files where Parquet footers
    allow, and engines that run elsewhere (``state_bytes`` None) take one batch.
    """
    limit = memory_budget_bytes(SUMMARY_STATE_MEMORY)
    if not state_bytes or state_bytes * len(todo) <= limit:
        return [list(todo)]
    size = max(1, limit // state_bytes)
    ordered = sorted(todo)
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


SUMMARY_STATE_MEMORY = 128 * 2**20
"""Bytes of fused-query aggregate states one batch of partitions may hold (``_batches``),
unless ``WK_MEMORY_BUDGET`` says otherwise."""


def _summarize(relation: Relation, partition_column: str, grain: Granularity,
               columns: Sequence[ColumnInfo], restrict, top_k: int,
               row_counts: dict[pd.Timestamp, int]
               ) -> tuple[list[dict], pd.DataFrame, list[Notice]]:
    """Records (states per column, duplicate_fraction) and top values of one batch."""
    # Strings (all their states) and integers (their exact distinct counts; but not
    # small-range integers, which the fused scan counts from a histogram or as bits)
    # are counted by the value-count query when it runs (Relation.counted_states).
    small = relation.all_small(row_counts, restrict)
    counted = [c for c in columns if relation.counted_states(c, small)] if top_k > 0 else []
    records, notices = _aggregate_isolating(relation, partition_column, grain, columns, restrict,
                                            "uncounted" if counted else "all", row_counts)
    failed_names = {n.column for n in notices}
    good = [c for c in columns if c.name not in failed_names]
    if counted:  # again: integers leave the fused counting if their footers proved wrong
        counted = [c for c in good if relation.counted_states(c, small)]
    top = ValueCounts.empty().top
    counts_ran = False
    if counted:
        try:
            found = relation.value_counts(partition_column, grain, counted, top_k, restrict)
        except QueryFailed as exc:
            notices.append(Notice("*", f"top values could not be computed ({first_line(exc)}); "
                                       "distinct counts of strings are approximate"))
            fallback, more = _aggregate_isolating(relation, partition_column, grain, counted,
                                                  restrict, "counted", row_counts)
            notices += more
            _add_states(records, fallback)
            lost = {n.column for n in more}
            good = [c for c in good if c.name not in lost]
        else:
            top, counts_ran = found.top, True
            for part in records:
                for info in counted:
                    part["states"][info.name].update(found.states_for(info, part["partition"]))
    exact = [c for c in good if relation.exact_distinct(c, counts_ran, small)]
    for part in records:
        # A column whose every row holds a value no other row holds: no row repeats.
        if any(part["states"].get(c.name, {}).get("distinct") == part["row_count"]
               for c in exact):
            part["duplicate_fraction"] = 0.0
    notices += _duplicate_rows(relation, partition_column, grain, good, records)
    return records, top, notices


def _duplicate_rows(relation: Relation, partition_column: str, grain: Granularity,
                    columns: Sequence[ColumnInfo], records: list[dict]) -> list[Notice]:
    """Set ``duplicate_fraction`` on the records that do not have it yet (one query)."""
    need = [r for r in records if "duplicate_fraction" not in r]
    if not need or not columns:
        return []
    try:
        distinct = relation.distinct_rows(partition_column, grain, columns,
                                          [r["partition"] for r in need])
    except QueryFailed as exc:
        return [Notice("*", f"duplicate rows could not be counted ({first_line(exc)})")]
    for record in need:  # a partition has at least one row, or it would not be one
        n = record["row_count"]
        record["duplicate_fraction"] = 1.0 - distinct.get(record["partition"], n) / n
    return []


def _add_states(records: list[dict], more: list[dict]) -> None:
    """Add the column states of ``more`` to the records of the same partitions."""
    by_partition = {r["partition"]: r for r in more}
    for record in records:
        extra = by_partition.get(record["partition"])
        if extra is not None:
            for name, states in extra["states"].items():
                record["states"].setdefault(name, {}).update(states)


def _merge(left: list[dict], right: list[dict]) -> list[dict]:
    by_partition = {r["partition"]: r for r in left}
    for r in right:
        if r["partition"] in by_partition:
            by_partition[r["partition"]]["states"].update(r["states"])
        else:
            by_partition[r["partition"]] = r
    return sorted(by_partition.values(), key=lambda r: r["partition"])
