"""Top values: DuckDB's bounded-heap aggregate picks exactly what the ranked window picks."""

from __future__ import annotations

import pandas as pd
import pytest

from watchkeeper.engine import ColumnInfo, Granularity, Kind, open_source
from watchkeeper.engine.relation import Relation


class TestTopValuesAggregate:
    """``arg_min(arg, key, k)`` and ``row_number()`` agree, ties broken by value."""

    @pytest.mark.parametrize("k", [1, 2, 3, 10])
    def test_same_values_and_counts_as_the_window(self, k):
        """Counts descending then value ascending, NULLs skipped, per column and day."""
        frame = pd.DataFrame({
            "ts": pd.to_datetime(["2024-01-01 01:00"] * 7 + ["2024-01-02 05:00"] * 5),
            "a": ["x", "y", "y", "z", "z", "w", None, "b", "a", "c", "a", "b"],
            "b": ["q", "p", "p", "r", "s", "t", "u", None, None, "m", "n", "o"],
        })
        columns = [ColumnInfo("a", Kind.STRING, "string"), ColumnInfo("b", Kind.STRING, "string")]
        with open_source(frame) as relation:
            assert relation.backend == "duckdb"
            windowed = Relation(relation.table, backend="duckdb (window path)", label="w")
            fast = relation.top_values("ts", Granularity.DAY, columns, k)
            slow = windowed.top_values("ts", Granularity.DAY, columns, k)
        order = ["column", "partition", "count", "value"]
        fast = fast.sort_values(order, ascending=[True, True, False, True], ignore_index=True)
        slow = slow.sort_values(order, ascending=[True, True, False, True], ignore_index=True)
        pd.testing.assert_frame_equal(fast, slow)
        first_day_a = fast[(fast["column"] == "a") & (fast["partition"] == "2024-01-01")]
        assert list(first_day_a["value"]) == ["y", "z", "w", "x"][:k]
