"""Rows per partition from Parquet footers, without reading the partition column.

Incremental refresh starts by counting rows per partition over the whole table
(the late-data check). On a landing zone of daily Parquet files that count was
a rescan of the partition column of the entire history, on every refresh. Most
row groups lie inside one partition: their footer's min and max of the
partition column truncate to the same partition and they hold no NULL there,
so all their rows belong to it and the footer's row count is exact. Only the
partitions touched by the other row groups ("mixed": straddling a boundary,
with NULLs) are counted by a query, restricted to them. The counts are exact,
identical to a full ``GROUP BY``; when footers lack statistics we return None
and the caller scans as before.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence

import pandas as pd
import pyarrow.parquet as pq

from .types import Granularity

_MAX_MIXED_PARTITIONS = 10_000  # past this, a full scan is cheaper than a long predicate


def truncate(value, grain: Granularity) -> pd.Timestamp:
    """The partition a value falls in, as the engines' ``date_trunc`` computes it."""
    ts = pd.Timestamp(value)
    if grain is Granularity.HOUR:
        return ts.floor("h")
    day = ts.normalize()
    if grain is Granularity.WEEK:  # ISO weeks start on Monday, as in date_trunc('week')
        return day - pd.Timedelta(days=day.weekday())
    return day


def footer_counts(files: Sequence[str], column: str, grain: Granularity,
                  on_footer: Callable[[str, pq.FileMetaData], None] | None = None
                  ) -> tuple[Counter, set[pd.Timestamp], dict[str, tuple]] | None:
    """``(exact counts of clean partitions, partitions that need a scan, file ranges)``.

    The file ranges map each file holding rows to the ``(min, max)`` of its
    partition column, so later queries can skip files outside their partitions.
    ``on_footer(path, metadata)`` sees every footer read, so other facts can be
    taken from it without reading it again (footers are not kept: thousands of
    files would hold tens of MiB).

    None means some footer cannot be trusted (no statistics, no such column,
    a non-temporal type); the caller then counts with a full scan.
    """
    clean: Counter = Counter()
    mixed: set[pd.Timestamp] = set()
    ranges: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
    for path in files:
        try:
            meta = pq.read_metadata(path)
        except Exception:  # unreadable here: let the engine report it
            return None
        if on_footer is not None:  # e.g. integer ranges, from the same read
            on_footer(path, meta)
        if meta.num_row_groups == 0:
            continue
        index = _column_index(meta, column)
        if index is None:
            return None
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            if group.num_rows == 0:
                continue
            stats = group.column(index).statistics
            if stats is None or not stats.has_min_max or not stats.has_null_count:
                return None
            low, high = stats.min, stats.max
            if not all(isinstance(v, (dt.datetime, dt.date)) for v in (low, high)):
                return None
            if getattr(low, "tzinfo", None) is not None:
                return None  # the engine truncates aware values in its session zone
            low, high = pd.Timestamp(low), pd.Timestamp(high)
            seen = ranges.get(path, (low, high))
            ranges[path] = (min(seen[0], low), max(seen[1], high))
            first, last = truncate(low, grain), truncate(high, grain)
            if first == last and stats.null_count == 0:
                clean[first] += group.num_rows
                continue
            if not clean and not mixed:
                return None  # row groups wider than a partition: footers cannot help
            mixed.update(_span(first, last, grain))
            if len(mixed) > _MAX_MIXED_PARTITIONS:
                return None
    for partition in mixed:
        clean.pop(partition, None)  # the scan counts these partitions whole
    return clean, mixed, ranges


def _column_index(meta: pq.FileMetaData, column: str) -> int | None:
    group = meta.row_group(0)
    matches = [i for i in range(group.num_columns) if group.column(i).path_in_schema == column]
    return matches[0] if len(matches) == 1 else None


def _span(first: pd.Timestamp, last: pd.Timestamp, grain: Granularity):
    current = first
    while current <= last:
        yield current
        current = truncate(current + grain.offset, grain)


Range = tuple[int, int] | None
"""``(min, max)`` of an integer column, or None when the footers cannot bound it."""


def file_integer_ranges(meta: pq.FileMetaData, columns: Sequence[str]) -> dict[str, Range]:
    """What one file's footer says of ``columns``: ``(min, max)``, or None (no bound).

    A column that holds only NULLs in this file is left out (nothing to bound);
    one missing from the file, or without integer statistics, is None.
    """
    out: dict[str, Range] = {}
    if meta.num_row_groups == 0:
        return out
    first = meta.row_group(0)
    where = {first.column(i).path_in_schema: i for i in range(first.num_columns)}
    for name in columns:
        if name not in where:
            out[name] = None
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        if group.num_rows == 0:
            continue
        for name in columns:
            if name not in where or out.get(name, ()) is None:
                continue
            stats = group.column(where[name]).statistics
            if stats is not None and stats.has_null_count and stats.null_count == group.num_rows:
                continue  # only NULLs here: no value to bound
            if (stats is None or not stats.has_min_max
                    or not all(isinstance(v, int) for v in (stats.min, stats.max))):
                out[name] = None
                continue
            out[name] = _widen(out.get(name), (stats.min, stats.max))
    return out


def integer_ranges(files: Sequence[str], columns: Sequence[str],
                   known: dict[str, dict[str, Range]] | None = None) -> dict[str, tuple[int, int]]:
    """``{column: (min, max)}`` over every row group of ``files``, from their footers.

    ``known`` holds :func:`file_integer_ranges` of files already read (by path);
    the others are read here. Only columns that every file bounds are included;
    any doubt (an unreadable footer, a missing statistic, a file without the
    column) leaves the column out, and the caller treats its range as unknown.
    """
    merged: dict[str, Range] = {}
    for path in files:
        found = (known or {}).get(path)
        if found is None:
            try:
                found = file_integer_ranges(pq.read_metadata(path), columns)
            except Exception:
                return {}
        for name, bounds in found.items():
            unbounded = bounds is None or merged.get(name, ()) is None
            merged[name] = None if unbounded else _widen(merged.get(name), bounds)
    return {c: merged[c] for c in columns if merged.get(c) is not None}


def _widen(bounds: tuple[int, int] | None, more: tuple[int, int]) -> tuple[int, int]:
    """The smallest range holding ``bounds`` (None: nothing yet) and ``more``."""
    if bounds is None:
        return more
    return min(bounds[0], more[0]), max(bounds[1], more[1])
