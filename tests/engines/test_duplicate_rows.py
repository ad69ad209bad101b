"""``duplicate_fraction`` through ``watchkeeper.profile``: counted only where it must be."""

from __future__ import annotations

import pandas as pd
import pytest

import watchkeeper
from watchkeeper.engine.relation import QueryFailed, Relation


def _frame(copies: int = 0) -> pd.DataFrame:
    day1 = pd.DataFrame({"ts": pd.Timestamp("2024-01-01 10:00"),
                         "shop": ["a", "b", "c", "a"], "qty": [1, 2, 3, 1]})
    day2 = pd.DataFrame({"ts": pd.Timestamp("2024-01-02 10:00"),
                         "shop": ["a", "b", "c", "d"], "qty": [1, 1, 1, 1]})
    frame = pd.concat([day1, day2, day2.head(copies)], ignore_index=True)
    frame["qty"] = frame["qty"].astype("int64")
    return frame


def _duplicates(result) -> dict[str, float]:
    rows = result.statistics.query("column == '*' and statistic == 'duplicate_fraction'")
    return {p.strftime("%Y-%m-%d"): v for p, v in zip(rows["partition"], rows["value"])}


class TestDuplicateFraction:
    def test_counts_extra_copies_of_rows(self):
        """Day 1 repeats ("a", 1) once: 1 of 4 rows. Day 2 gets two copies of its first two
        rows: 2 of 6."""
        result = watchkeeper.profile(_frame(copies=2), partition_column="ts")
        got = _duplicates(result)
        assert got["2024-01-01"] == pytest.approx(1 / 4)
        assert got["2024-01-02"] == pytest.approx(2 / 6)

    def test_no_query_where_a_column_is_unique(self, monkeypatch):
        """Day 2's shop is unique: no row can repeat, so only day 1 is counted."""
        asked = []
        original = Relation.distinct_rows

        def spy(self, column, grain, columns, partitions=None):
            asked.append(list(partitions))
            return original(self, column, grain, columns, partitions)

        monkeypatch.setattr(Relation, "distinct_rows", spy)
        got = _duplicates(watchkeeper.profile(_frame(), partition_column="ts"))
        assert got == {"2024-01-01": pytest.approx(0.25), "2024-01-02": 0.0}
        assert asked == [[pd.Timestamp("2024-01-01")]]

    def test_a_failed_count_is_a_notice_not_an_abort(self, monkeypatch):
        def fail(*args, **kwargs):
            raise QueryFailed("boom")

        monkeypatch.setattr(Relation, "distinct_rows", fail)
        result = watchkeeper.profile(_frame(), partition_column="ts")
        assert _duplicates(result) == {"2024-01-02": 0.0}
        assert [n.message for n in result.notices] == [
            "duplicate rows could not be counted (boom)"]
