"""Incremental refresh and scan fusion, counted in executed queries.

Every query watchkeeper sends goes through ``Relation._execute`` or ``_execute_rows``;
wrapping them counts the queries. A profile is always: one row count per partition, one fused
aggregate, one value-count query, and, for a table where no string or integer
column is unique, one count of distinct rows, whatever the number of columns and
partitions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from watchkeeper import Store, profile
from watchkeeper.engine import Relation

START = pd.Timestamp("2024-03-01")


def make_table(days: int, columns: int = 3, rows_per_day: int = 40, seed: int = 7,
               first_day: int = 0, key: bool = False) -> pd.DataFrame:
    """``columns`` float columns and one string column over ``days`` daily partitions;
    with ``key``, an integer ``id`` unique in every partition."""
    rng = np.random.default_rng(seed + first_day)
    n = days * rows_per_day
    offsets = np.repeat(np.arange(first_day, first_day + days), rows_per_day)
    minutes = np.tile(np.arange(rows_per_day) * 30, days)
    frame = pd.DataFrame({"ts": START + pd.to_timedelta(offsets, "D")
                          + pd.to_timedelta(minutes, "min")})
    for i in range(columns):
        frame[f"x{i}"] = rng.normal(i, 1.0, n)
    frame["cat"] = rng.choice(["a", "b", "c"], n)
    if key:
        frame["id"] = np.arange(n, dtype="int64")
    return frame


def without_unique(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float columns made of repeated values, rows still all distinct:
    no column is unique in a partition (distinct counts there are exact, so a unique
    column would prove that no row repeats and spare the duplicate-rows query)."""
    frame = frame.copy()
    row = frame.groupby(frame["ts"].dt.floor("D")).cumcount().to_numpy()
    for i, name in enumerate(c for c in frame.columns if c.startswith("x")):
        frame[name] = (row // 2 if i % 2 == 0 else row % 2).astype("float64") + i
    return frame


def write(frame: pd.DataFrame, path) -> str:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return str(path)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store.open(tmp_path / "store.duckdb")


def day(i: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=i)


@pytest.fixture
def one_batch(monkeypatch):
    """Every partition in one batch, whatever the machine's DuckDB thread count."""
    import importlib

    monkeypatch.setattr(importlib.import_module("watchkeeper.summaries.profile"),
                        "SUMMARY_STATE_MEMORY", 2 ** 62)


@pytest.mark.usefixtures("one_batch")
class TestFusion:
    """The number of queries does not depend on the number of columns or partitions
    (as long as their aggregate states fit one batch: see TestBatches)."""

    @pytest.mark.parametrize("columns, days", [(1, 1), (3, 5), (40, 30)])
    def test_profile_runs_at_most_three_queries(self, tmp_path, queries, columns, days):
        """Counts, one fused aggregate, value counts: three queries for N columns × M days.

        A file whose row groups each lie inside one day is counted from its
        Parquet footers, without the counts query (tests/engines/test_parquet_footers.py).
        The unique ``id`` says no row repeats, so duplicate rows cost no query.
        """
        path = write(make_table(days, columns, rows_per_day=4, key=True), tmp_path / "t.parquet")
        result = profile(path, partition_column="ts")
        assert len(result.partitions) == days
        assert len(queries) == (2 if days == 1 else 3)
        fused, top = queries[-2], queries[-1]
        assert all(f'"x{i}"' in fused for i in range(columns)) and "GROUP BY" in fused
        assert ("ROW_NUMBER" in top or "ARG_MIN" in top) and '"x0"' not in top
        assert '"cat"' not in fused  # strings are counted by the value-count query only

    @pytest.mark.parametrize("columns, days", [(3, 5), (40, 30)])
    def test_without_a_unique_column_one_more_query(self, tmp_path, queries, columns, days):
        """No column is unique: one DISTINCT of the rows, for every partition at once."""
        path = write(without_unique(make_table(days, columns, rows_per_day=4)),
                     tmp_path / "t.parquet")
        result = profile(path, partition_column="ts")
        assert len(queries) == 4
        assert "DISTINCT" in queries[-1] and all(f'"x{i}"' in queries[-1] for i in range(columns))
        duplicates = result.statistics.query("statistic == 'duplicate_fraction'")
        assert len(duplicates) == days and (duplicates["value"] == 0).all()

    def test_small_partitions_count_integers_in_the_fused_scan(self, tmp_path, queries):
        """Partitions of at most EXACT_ROWS rows: an integer's distinct values are counted
        exactly by the fused scan, so a table of numbers runs no value-count query, and
        a unique float column proves that no row repeats (no duplicate-rows query)."""
        frame = make_table(3, rows_per_day=6).drop(columns="cat")
        # a range too wide for the footers' small-range counting
        frame["n"] = np.tile([1, 2, 2, 3, 5, 5], 3) * 10**12
        result = profile(write(frame, tmp_path / "t.parquet"), partition_column="ts")
        assert len(queries) == 2  # rows per partition, then one fused scan
        assert 'COUNT(DISTINCT "t0"."n")' in queries[1]
        assert not any("ARG_MIN" in q or "ROW_NUMBER" in q for q in queries)
        stats = result.statistics.query("column == 'n' and statistic == 'distinct_count'")
        assert list(stats["value"]) == [4, 4, 4]
        duplicates = result.statistics.query("statistic == 'duplicate_fraction'")
        assert list(duplicates["value"]) == [0.0, 0.0, 0.0]

    def test_a_table_without_strings_needs_no_top_values_query(self, tmp_path, queries):
        """With no string or integer column: counts, the fused aggregate, distinct rows."""
        path = write(without_unique(make_table(4)).drop(columns="cat"), tmp_path / "t.parquet")
        profile(path, partition_column="ts")
        assert len(queries) == 3
        assert not any("ARG_MIN" in q or "ROW_NUMBER" in q for q in queries)


class TestIncrementalRefresh:
    """Only new or changed partitions are recomputed; the store keeps the rest."""

    def test_second_run_computes_nothing(self, tmp_path, store, queries):
        """Re-profiling unchanged data runs only the row-count query and refreshes nothing."""
        path = write(make_table(5), tmp_path / "t.parquet")
        first = profile(path, partition_column="ts", name="t", store=store)
        assert len(first.refreshed) == 5
        queries.clear()
        second = profile(path, partition_column="ts", name="t", store=store)
        assert second.refreshed == [] and second.skipped == 5
        assert len(queries) == 1
        assert second.statistics.empty

    def test_new_partition_is_the_only_one_computed(self, tmp_path, store, queries):
        """Appending a day recomputes that day alone, still in four queries (no unique
        column here, so duplicate rows are counted too: for that day only)."""
        old = without_unique(make_table(5))
        path = write(old, tmp_path / "t.parquet")
        profile(path, partition_column="ts", name="t", store=store)
        before = store.load_statistics("t")
        write(pd.concat([old, without_unique(make_table(1, first_day=5))]), path)
        queries.clear()
        result = profile(path, partition_column="ts", name="t", store=store)
        assert result.refreshed == [day(5)]
        assert len(queries) == 4
        assert "DISTINCT" in queries[-1] and "2024, 3, 6" in queries[-1]
        after = store.load_statistics("t")
        assert sorted(after["partition"].unique()) == [day(i) for i in range(6)]
        kept = after[after["partition"] < day(5)].reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, before)

    def test_late_data_recomputes_only_its_partition(self, tmp_path, store):
        """Rows arriving late for an old day change its row count, so only it is recomputed."""
        old = without_unique(make_table(5))
        path = write(old, tmp_path / "t.parquet")
        profile(path, partition_column="ts", name="t", store=store)
        late = make_table(1, first_day=2, seed=99).head(7)
        write(pd.concat([old, late]), path)
        result = profile(path, partition_column="ts", name="t", store=store)
        assert result.refreshed == [day(2)]
        counts = store.load_statistics("t", column="*", statistics=["row_count"])
        assert counts.set_index("partition")["value"].to_dict() == {
            day(i): 47.0 if i == 2 else 40.0 for i in range(5)}

    def test_schema_change_recomputes_every_partition(self, tmp_path, store):
        """A new column changes the schema fingerprint, so every partition is recomputed."""
        frame = make_table(4)
        path = write(frame, tmp_path / "t.parquet")
        first = profile(path, partition_column="ts", name="t", store=store)
        write(frame.assign(extra=1.5), path)
        second = profile(path, partition_column="ts", name="t", store=store)
        assert second.fingerprint != first.fingerprint
        assert second.refreshed == [day(i) for i in range(4)]
        means = store.load_statistics("t", column="extra", statistics=["mean"])
        assert list(means["value"]) == [1.5] * 4

    def test_changing_granularity_replaces_the_summaries(self, tmp_path, store):
        """Profiling by week after by day leaves only week partitions in the store."""
        path = write(make_table(10), tmp_path / "t.parquet")
        profile(path, partition_column="ts", name="t", store=store)
        result = profile(path, partition_column="ts", granularity="week", name="t", store=store)
        # 2024-03-01 is a Friday: its week starts Monday 2024-02-26.
        weeks = [pd.Timestamp("2024-02-26"), pd.Timestamp("2024-03-04")]
        assert result.refreshed == weeks
        stored = store.load_statistics("t", column="*")
        assert sorted(stored["partition"].unique()) == weeks
        assert stored["value"].sum() == 400
        assert store.table("t").granularity == "week"

    def test_full_refresh_recomputes_everything(self, tmp_path, store):
        """``full_refresh=True`` recomputes unchanged partitions too."""
        path = write(make_table(3), tmp_path / "t.parquet")
        profile(path, partition_column="ts", name="t", store=store)
        again = profile(path, partition_column="ts", name="t", store=store, full_refresh=True)
        assert again.refreshed == [day(i) for i in range(3)]


class TestBatches:
    """A long history is summarized in batches of partitions whose states fit a budget."""

    def test_batched_profile_equals_one_batch(self, tmp_path, queries, monkeypatch):
        import importlib

        profile_module = importlib.import_module("watchkeeper.summaries.profile")

        frame = without_unique(make_table(9, columns=2, rows_per_day=30))
        frame["n"] = np.arange(len(frame)) % 7  # an integer
        path = write(frame, tmp_path / "t.parquet")
        whole = profile(path, partition_column="ts")
        single = len(queries)
        queries.clear()
        relation_bytes = 2 * 2 ** 20  # per partition, whatever the machine's thread count
        monkeypatch.setattr(Relation, "state_bytes_per_partition", lambda self, c, rows=None: relation_bytes)
        monkeypatch.setattr(profile_module, "SUMMARY_STATE_MEMORY", 4 * relation_bytes)
        batched = profile(path, partition_column="ts")
        # 9 partitions, 4 per batch: 3 batches of (fused, value counts, distinct rows)
        assert len(queries) == single + 2 * 3
        order = ["partition", "column", "statistic"]
        pd.testing.assert_frame_equal(
            batched.statistics.sort_values(order, ignore_index=True),
            whole.statistics.sort_values(order, ignore_index=True))
        pd.testing.assert_frame_equal(batched.top_values, whole.top_values)

    def test_engines_elsewhere_are_not_batched(self):
        from watchkeeper.summaries.profile import _batches

        days = [day(i) for i in range(1000)]
        assert _batches(days, None) == [days]
        assert [len(b) for b in _batches(days, 2 ** 20)] == [128] * 7 + [104]
