"""Rows of chosen partitions, as pandas: what a training pipeline reads.

The filter is the profile's (ranges on the raw partition column, so Parquet row
groups are pruned); the partition each row belongs to comes back beside the frame,
never as a column of it, so it cannot collide with a user's column name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError
from .relation import Relation
from .types import Granularity

_KEY = "__wk_partition_key"


def column_names(relation: Relation) -> list[str]:
    return [c.name for c in relation.columns()]


def read_partitions(relation: Relation, column: str, grain: Granularity,
                    partitions: Sequence[pd.Timestamp], columns: Sequence[str],
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """``columns`` of the rows in ``partitions``, and each row's partition start."""
    names = column_names(relation)
    missing = [c for c in columns if c not in names]
    if missing:
        raise ConfigError(f"{relation.label} has no column {', '.join(map(repr, missing))} "
                          f"(columns: {', '.join(names[:15])}): fix the pipeline's keys or "
                          "columns")
    table = relation._restricted(column, grain, sorted(partitions))
    key = relation._partition_key(column, grain, table).name(_KEY)
    wanted = list(dict.fromkeys(columns))
    frame = relation._execute(table.select(*[table[c] for c in wanted], key))
    starts = pd.to_datetime(frame.pop(_KEY)).to_numpy(dtype="datetime64[ns]")
    keep = np.isin(starts, np.array(sorted(partitions), dtype="datetime64[ns]"))
    return frame[keep].reset_index(drop=True), starts[keep]


def partition_starts(relation: Relation, column: str, grain: Granularity) -> list[pd.Timestamp]:
    """Every partition that has rows, oldest first (the cheap count query)."""
    counts = relation.partition_counts(column, grain)
    return [pd.Timestamp(p) for p in counts["partition"]]
