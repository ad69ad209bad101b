"""``wk.log(frame, table=..., partition=...)``: any step's inputs or outputs, into a
monitored managed table, in one call.

The table is a managed table (quarantine on write, versions, snapshots, SLOs, the
detector): declared under ``managed:`` or made on first use. Each call is one
ingest of ``partition``. By default a call **adds** its rows to what the partition
already holds (``mode="append"``): logging a day's batches one by one keeps them
all; ``mode="replace"`` makes the frame the partition's rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..errors import ConfigError

MODES = ("append", "replace")
DEFAULT_PARTITION_COLUMN = "partition"


def log(frame, *, table: str, partition, partition_column: str | None = None,
        granularity: str | None = None, mode: str = "append", project=None,
        source: str | None = None):
    """Log ``frame`` (pandas, Polars or Arrow) as ``partition`` of managed table ``table``;
    returns the :class:`~watchkeeper.IngestResult`.

    The partition column is the one the table declares, else ``partition_column``,
    else ``partition``; a frame without it gets it, filled with the partition's start.
    """
    from ..managed import managed_table
    from ..managed.spec import load_managed, parse_partition
    from ..store import Store
    from ..triggers.dispatch import _project

    if mode not in MODES:
        raise ConfigError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    found = _project(project)
    declared = load_managed(found).get(table) if found is not None else None
    column = (declared.partition_column if declared is not None
              else partition_column or DEFAULT_PARTITION_COLUMN)
    # The store is connected once, by the ingest (under the table's ingest lock).
    store = found.store(lazy=True) if found is not None else Store.open(lazy=True)
    handle = managed_table(table, found, partition_column=None if declared else column,
                           granularity=granularity, store=store)
    start = parse_partition(partition, handle.spec.grain)
    rows = _pandas(frame)
    if column not in rows.columns:
        rows = rows.assign(**{column: pd.Timestamp(start)})
    if mode == "append":
        rows = append(handle, rows, start)
    return handle.ingest(rows, partition=start, source=source or "wk.log")


def append(handle, rows: pd.DataFrame, start, *, replace_on: Sequence[str] = ()
           ) -> pd.DataFrame:
    """``rows`` after the partition's current rows (those with the same ``replace_on``
    keys are replaced by the new ones)."""
    before = existing(handle, start)
    if before is None or before.empty:
        return rows
    if replace_on:
        keys = list(replace_on)
        new = pd.MultiIndex.from_frame(rows[keys].astype(str))
        old = pd.MultiIndex.from_frame(before[keys].astype(str))
        before = before[~old.isin(new)]
    return pd.concat([before, rows], ignore_index=True)


def existing(handle, start) -> pd.DataFrame | None:
    """The rows partition ``start`` of a managed table holds now (None: no such partition)."""
    try:
        held = handle.partitions()
    except ConfigError:  # no committed ingest yet
        return None
    key = handle.spec.grain.format(pd.Timestamp(start))
    if key not in set(held["partition"]):
        return None
    return handle.read(partitions=[key], format="pandas", allow_invalid=True)


def _pandas(frame) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "to_pandas"):
        return frame.to_pandas()
    raise ConfigError(f"wk.log takes a pandas, Polars or Arrow frame, not {type(frame).__name__}")
