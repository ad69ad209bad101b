"""Row counts from Parquet footers and file pruning: the fast path of incremental refresh."""

from __future__ import annotations

import shutil

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from watchkeeper import Store, profile
from watchkeeper.engine import Granularity, open_source
from watchkeeper.engine.relation import Relation

START = pd.Timestamp("2024-03-01")


def day_rows(day: int, n: int, *, nulls: int = 0, spill_seconds: int = 0) -> pa.Table:
    """``n`` rows inside day ``day`` (the last ``spill_seconds`` of them past midnight)."""
    base = START + pd.Timedelta(days=day)
    ts = [base + pd.Timedelta(minutes=10 * i) for i in range(n)]
    if spill_seconds:
        ts[-1] = base + pd.Timedelta(days=1, seconds=spill_seconds)
    ts += [None] * nulls
    return pa.table({"ts": pa.array(ts, pa.timestamp("us")),
                     "x": pa.array([float(i) for i in range(len(ts))]),
                     "s": pa.array([f"v{i % 3}" for i in range(len(ts))])})


def write_groups(path, groups: list[pa.Table]) -> str:
    """One row group per table, in one file."""
    with pq.ParquetWriter(path, groups[0].schema) as writer:
        for table in groups:
            writer.write_table(table, row_group_size=max(1, table.num_rows))
    return str(path)


class TestFooterCounts:
    """Footer counts equal a full GROUP BY scan, and skip it when row groups allow."""

    def scan(self, relation: Relation, grain: Granularity) -> pd.DataFrame:
        return relation._scan_counts("ts", grain, None)

    def test_day_aligned_row_groups_need_no_query(self, tmp_path, queries):
        """Row groups that each lie inside one day are counted without running a query."""
        path = write_groups(tmp_path / "t.parquet", [day_rows(d, 5 + d) for d in range(4)])
        with open_source(path) as relation:
            counts = relation.partition_counts("ts", Granularity.DAY)
            assert queries == []
            pd.testing.assert_frame_equal(counts, self.scan(relation, Granularity.DAY))
        assert list(counts["row_count"]) == [5, 6, 7, 8]

    def test_straddling_and_null_row_groups_are_scanned_exactly(self, tmp_path, queries):
        """A row group crossing midnight or holding NULLs is counted by a restricted scan."""
        groups = [day_rows(0, 4), day_rows(1, 4, spill_seconds=30), day_rows(3, 4, nulls=2),
                  day_rows(5, 4)]
        path = write_groups(tmp_path / "t.parquet", groups)
        with open_source(path) as relation:
            counts = relation.partition_counts("ts", Granularity.DAY)
            assert len(queries) == 1
            pd.testing.assert_frame_equal(counts, self.scan(relation, Granularity.DAY))
        assert dict(zip(counts["partition"], counts["row_count"])) == {
            START: 4, START + pd.Timedelta(days=1): 3, START + pd.Timedelta(days=2): 1,
            START + pd.Timedelta(days=3): 4, START + pd.Timedelta(days=5): 4}

    @pytest.mark.parametrize("grain", [Granularity.HOUR, Granularity.WEEK])
    def test_other_granularities_match_the_scan(self, tmp_path, grain):
        """Hourly and weekly partitions from footers equal the scan's (weeks start on Monday)."""
        path = write_groups(tmp_path / "t.parquet", [day_rows(d, 3) for d in range(10)])
        with open_source(path) as relation:
            pd.testing.assert_frame_equal(relation.partition_counts("ts", grain),
                                          self.scan(relation, grain))


class TestFilePruning:
    """A refresh over a glob reads only the files of the changed partitions, same results."""

    def test_refreshed_day_matches_a_full_profile(self, tmp_path):
        """The statistics of a day added to a landing zone equal those of a full profile."""
        zone = tmp_path / "zone"
        zone.mkdir()
        for d in range(5):
            write_groups(zone / f"day-{d}.parquet", [day_rows(d, 6 + d)])
        store = Store.open(tmp_path / "store.duckdb")
        profile(str(zone / "*.parquet"), partition_column="ts", name="t", store=store)
        write_groups(zone / "day-5.parquet", [day_rows(5, 9)])
        refreshed = profile(str(zone / "*.parquet"), partition_column="ts", name="t", store=store)
        assert refreshed.refreshed == [START + pd.Timedelta(days=5)]
        full = profile(str(zone / "*.parquet"), partition_column="ts")
        new_day = full.statistics[full.statistics["partition"] == refreshed.refreshed[0]]
        key = ["partition", "column", "statistic"]
        pd.testing.assert_frame_equal(
            refreshed.statistics.sort_values(key, ignore_index=True),
            new_day.sort_values(key, ignore_index=True))

    def test_late_data_in_an_old_file_is_still_found(self, tmp_path):
        """Rewriting an old day's file with more rows refreshes that day, not only new ones."""
        zone = tmp_path / "zone"
        zone.mkdir()
        for d in range(3):
            write_groups(zone / f"day-{d}.parquet", [day_rows(d, 4)])
        store = Store.open(tmp_path / "store.duckdb")
        profile(str(zone / "*.parquet"), partition_column="ts", name="t", store=store)
        shutil.move(zone / "day-1.parquet", tmp_path / "old.parquet")
        write_groups(zone / "day-1.parquet", [day_rows(1, 7)])
        again = profile(str(zone / "*.parquet"), partition_column="ts", name="t", store=store)
        assert again.refreshed == [START + pd.Timedelta(days=1)]
        rows = again.statistics.query("column == '*' and statistic == 'row_count'")
        assert list(rows["value"]) == [7.0]
