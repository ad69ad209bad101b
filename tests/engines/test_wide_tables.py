"""Wide tables: queries built per batch of columns give the statistics of one query."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import watchkeeper
from watchkeeper.engine import relation


def _wide(columns: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 300
    frame = {"ts": pd.Timestamp("2024-05-01") + pd.to_timedelta(np.arange(n) * 17, unit="min")}
    for k in range(columns):
        frame[f"c{k}"] = rng.normal(k, 1, n) if k % 3 else rng.integers(0, 50, n)
    frame["s"] = rng.choice(["x", "y", "z"], n)
    return pd.DataFrame(frame)


def test_batches_of_columns_agree_with_one_query(monkeypatch, queries):
    """Seven columns in batches of three: the same statistics as one query over all."""
    frame = _wide(7)
    whole = watchkeeper.profile(frame, partition_column="ts").statistics
    one = len(queries)
    monkeypatch.setattr(relation, "COLUMN_BATCH", 3)
    batched = watchkeeper.profile(frame, partition_column="ts").statistics
    assert len(queries) - one > one  # more, narrower queries
    key = ["partition", "column", "statistic"]
    merged = whole.merge(batched, on=key, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert merged["value_x"].astype(float).to_numpy() == pytest.approx(
        merged["value_y"].astype(float).to_numpy(), rel=1e-9, nan_ok=True)


def test_a_wide_source_is_read_through_each_batch_s_own_columns(monkeypatch):
    """A batch of three of twenty columns is an Ibis table of those columns alone (a
    projection compiled once), so compiling its queries never walks the other columns;
    the statistics in such batches are those of one query over all."""
    import ibis.expr.operations as ops

    from watchkeeper.engine import Granularity, open_source

    frame = _wide(20)
    with open_source(frame) as source:
        batch = [c for c in source.columns() if c.name in ("c1", "c2", "c3")]
        narrow = source._narrowed("ts", Granularity.DAY, None, batch)
        assert narrow.columns == ("ts", "c1", "c2", "c3")
        assert all(len(node.schema) == 4 for node in narrow.op().find(ops.Relation))
    whole = watchkeeper.profile(frame, partition_column="ts").statistics
    monkeypatch.setattr(relation, "COLUMN_BATCH", 3)
    batched = watchkeeper.profile(frame, partition_column="ts").statistics
    key = ["partition", "column", "statistic"]
    merged = whole.merge(batched, on=key, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert merged["value_x"].astype(float).to_numpy() == pytest.approx(
        merged["value_y"].astype(float).to_numpy(), rel=1e-9, nan_ok=True)
