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


def _wide_file(tmp_path, columns: int):
    path = tmp_path / "wide.parquet"
    _wide(columns).to_parquet(path)
    return str(path)


def test_partitions_are_batched_by_the_states_of_one_batch_of_columns(tmp_path, monkeypatch):
    """The fused query runs once per batch of columns, each holding its own columns'
    states: a budget that fits one such batch for every partition takes every
    partition at once, so each column's query runs once, not once per batch of
    partitions."""
    import importlib

    from watchkeeper.engine import Relation, open_source

    profile_module = importlib.import_module("watchkeeper.summaries.profile")

    monkeypatch.setattr(relation, "COLUMN_BATCH", 4)
    path = _wide_file(tmp_path, 15)  # ts, 15 numbers, s: 5 batches of columns
    whole = watchkeeper.profile(path, partition_column="ts")
    days = len(whole.partitions)
    assert days == 4
    stats = whole.statistics
    largest = int(stats[stats["statistic"] == "row_count"]["value"].max())
    with open_source(path) as source:
        columns = source.columns()
        one_batch = source.state_bytes_per_partition(columns[1:5], largest)  # 4 numbers
        assert source.state_bytes_per_partition(columns, largest) == one_batch
        assert source.state_bytes_per_partition(columns[1:3], largest) < one_batch
    calls = []
    real = Relation._aggregate_chunk

    def spy(self, column, grain, chunk, quantiles, partitions, *rest):
        calls.append((len(chunk), partitions))
        return real(self, column, grain, chunk, quantiles, partitions, *rest)

    monkeypatch.setattr(Relation, "_aggregate_chunk", spy)
    monkeypatch.setattr(profile_module, "SUMMARY_STATE_MEMORY", one_batch * days)
    fitted = watchkeeper.profile(path, partition_column="ts")
    assert [n for n, _ in calls] == [4, 4, 4, 4, 1]  # s goes to the value counts
    assert all(partitions is None for _, partitions in calls)  # one batch, unfiltered
    calls.clear()
    monkeypatch.setattr(profile_module, "SUMMARY_STATE_MEMORY", one_batch * days // 2)
    halves = watchkeeper.profile(path, partition_column="ts")
    assert [len(p) for _, p in calls] == [2] * 5 + [2] * 5  # two batches of two days
    for other in (fitted, halves):
        pd.testing.assert_frame_equal(other.statistics, whole.statistics)


def test_a_wide_source_is_compiled_once_not_once_per_batch_of_columns(tmp_path, monkeypatch):
    """Each batch of columns reads its own projection of the source; building and
    compiling those never walks every column of the source again (which made a
    2,000-column table cost three times 1,000)."""
    from watchkeeper.engine import Relation

    monkeypatch.setattr(relation, "COLUMN_BATCH", 3)
    path = _wide_file(tmp_path, 40)
    whole_width = 42  # ts, c0..c39, s
    widths = []
    real = Relation.sql

    def spy(self, expr):
        widths.append(len(expr.columns))
        return real(self, expr)

    monkeypatch.setattr(Relation, "sql", spy)
    selects = []
    real_select = relation.ir.Table.select

    def select_spy(self, *args, **kwargs):
        selects.append(len(self.columns))
        return real_select(self, *args, **kwargs)

    monkeypatch.setattr(relation.ir.Table, "select", select_spy)
    result = watchkeeper.profile(path, partition_column="ts")
    assert widths.count(whole_width) == 1  # the source, once, for 14 batches
    assert whole_width not in selects  # no projection of all the columns
    assert {c for c in result.statistics["column"]} >= {"c0", "c39", "s"}


def test_odd_column_names_survive_the_compiled_projection(monkeypatch):
    """Quotes, spaces, case and non-ASCII letters in names: each batch's projection
    names its columns quoted, so the batched run agrees with one query over all."""
    frame = _wide(20).rename(columns={"c1": 'we"ird', "c2": "a b", "c3": "Ünï", "c4": "MiXed",
                                      "c5": "select"})
    whole = watchkeeper.profile(frame, partition_column="ts").statistics
    monkeypatch.setattr(relation, "COLUMN_BATCH", 3)
    batched = watchkeeper.profile(frame, partition_column="ts").statistics
    assert {'we"ird', "a b", "Ünï", "MiXed", "select"} <= set(batched["column"])
    pd.testing.assert_frame_equal(batched, whole)


def _alike(rows: int = 400) -> pd.DataFrame:
    """Several columns of each kind, with NULLs, NaN and infinities, odd names."""
    rng = np.random.default_rng(11)
    ts = pd.Series(pd.Timestamp("2024-03-01") + pd.to_timedelta(np.arange(rows) * 23, unit="min"))
    frame = {"ts": ts}
    for k in range(4):
        values = rng.normal(k, 3, rows)
        values[rng.random(rows) < 0.1] = np.nan
        values[rng.random(rows) < 0.02] = np.inf
        frame[f"f{k}"] = values
        frame[f"i{k}"] = pd.array(rng.integers(-5 * (k + 1), 40 * (k + 1), rows), dtype="Int64")
        frame[f"i{k}"][rng.random(rows) < 0.1] = pd.NA
        frame[f"w{k}"] = rng.integers(-10**12, 10**12, rows)  # squares past a BIGINT
        frame[f"m{k}"] = rng.integers(-10**6 * (k + 1), 10**6, rows)  # not small; squares fit
        frame[f"s{k}"] = rng.choice(["a", "bb", "", "ccc"], rows)
        frame[f"b{k}"] = rng.random(rows) < 0.3
        frame[f"t{k}"] = ts + pd.to_timedelta(rng.integers(0, 10**6, rows), unit="s")
        frame[f"d{k}"] = (ts - pd.to_timedelta(rng.integers(0, 900, rows), unit="D")).dt.date
    frame['we"ird name'] = frame["f0"] * 2
    return pd.DataFrame(frame)


@pytest.mark.parametrize("as_file", [False, True], ids=["frame", "parquet"])
@pytest.mark.parametrize("top_k", [0, 10])
def test_alike_columns_sharing_their_sql_give_what_ibis_builds(tmp_path, monkeypatch,
                                                               as_file, top_k):
    """On DuckDB, alike columns share the SQL Ibis compiled for the first of them,
    renamed: every statistic equals the query Ibis builds for each column itself."""
    frame = _alike()
    source = frame
    if as_file:  # Parquet footers: integers bounded to their own small ranges
        source = str(tmp_path / "alike.parquet")
        frame.to_parquet(source)
    shared = []
    real = relation._shared_sql

    def spy(*args):
        found = real(*args)
        shared.append(found is not None)
        return found

    monkeypatch.setattr(relation, "_shared_sql", spy)
    ours = watchkeeper.profile(source, partition_column="ts", top_k=top_k)
    assert shared and all(shared)
    monkeypatch.setattr(relation, "_SHARED_SQL", set())
    ibis_built = watchkeeper.profile(source, partition_column="ts", top_k=top_k)
    assert len(shared) == 1  # the second run built every column with Ibis
    pd.testing.assert_frame_equal(ours.statistics, ibis_built.statistics)
    pd.testing.assert_frame_equal(ours.top_values, ibis_built.top_values)
    assert len(ours.statistics) > 30 * 4 * len(ours.partitions)
