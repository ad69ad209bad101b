"""The value-count query: top values, exact distinct counts and string statistics.

DuckDB's bounded-heap aggregate must pick exactly what the ranked window (the
PostgreSQL and Spark path) picks, and both must count what pandas counts.
"""

from __future__ import annotations

import pandas as pd
import pytest

from watchkeeper.engine import ColumnInfo, Granularity, Kind, QueryFailed, open_source
from watchkeeper.engine import duck
from watchkeeper.engine.relation import Relation

FRAME = pd.DataFrame({
    "ts": pd.to_datetime(["2024-01-01 01:00"] * 7 + ["2024-01-02 05:00"] * 5),
    "a": ["x", "y", "y", "z", "z", "w", None, "b", "a", "c", "a", "b"],
    "b": ["q", "p", "p", "r", "", "tt", "u", None, None, None, None, None],
    "n": pd.array([1, 2, 2, 3, None, 5, 5, 7, 7, 7, 7, None], dtype="Int64"),
})
COLUMNS = [ColumnInfo("a", Kind.STRING, "string"), ColumnInfo("b", Kind.STRING, "string"),
           ColumnInfo("n", Kind.NUMERIC, "int64")]
DAY1, DAY2 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")


def _both(k):
    with open_source(FRAME) as relation:
        assert relation.backend == "duckdb"
        windowed = Relation(relation.table, backend="duckdb (window path)", label="w")
        return (relation.value_counts("ts", Granularity.DAY, COLUMNS, k),
                windowed.value_counts("ts", Granularity.DAY, COLUMNS, k))


class TestValueCounts:
    @pytest.mark.parametrize("k", [1, 2, 3, 10])
    def test_same_top_values_as_the_window(self, k):
        """Counts descending then value ascending, NULLs skipped, per column and day."""
        fast, slow = _both(k)
        order = ["column", "partition", "count", "value"]
        top_fast = fast.top.sort_values(order, ascending=[True, True, False, True],
                                        ignore_index=True)
        top_slow = slow.top.sort_values(order, ascending=[True, True, False, True],
                                        ignore_index=True)
        pd.testing.assert_frame_equal(top_fast, top_slow)
        first_day_a = top_fast[(top_fast["column"] == "a") & (top_fast["partition"] == DAY1)]
        assert list(first_day_a["value"]) == ["y", "z", "w", "x"][:k]
        assert set(top_fast["column"]) == {"a", "b"}  # integers get no top values
        assert fast.states == slow.states

    def test_counted_states_match_pandas(self):
        found, _ = _both(3)
        a1 = found.states_for(COLUMNS[0], DAY1)
        assert a1 == {"non_null": 6, "empty": 0, "distinct": 4, "length_mean": 1.0,
                      "length_min": 1, "length_max": 1}
        b1 = found.states_for(COLUMNS[1], DAY1)
        values = FRAME.loc[:6, "b"]
        assert b1["non_null"] == values.notna().sum() == 7
        assert b1["empty"] == 1 and b1["distinct"] == 6
        assert b1["length_mean"] == pytest.approx(values.str.len().mean())
        assert (b1["length_min"], b1["length_max"]) == (0, 2)
        assert found.states_for(COLUMNS[2], DAY1) == {"distinct": 4}
        assert found.states_for(COLUMNS[2], DAY2) == {"distinct": 1}

    def test_a_partition_with_no_value_counts_zero(self):
        found, _ = _both(3)
        assert found.states_for(COLUMNS[1], DAY2) == {
            "non_null": 0, "empty": 0, "distinct": 0, "length_mean": None,
            "length_min": None, "length_max": None}


    def test_rows_without_a_partition_value_belong_to_none(self):
        frame = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01", None, "2024-01-01"]),
                              "s": ["a", "b", "a"]})
        info = ColumnInfo("s", Kind.STRING, "string")
        with open_source(frame) as relation:
            found = relation.value_counts("ts", Granularity.DAY, [info], 3)
        assert list(found.top["value"]) == ["a"] and list(found.states) == [("s", DAY1)]


def _ids(n: int = 400_000):
    """A partition of ``n`` distinct long strings: more value counts than a small budget."""
    frame = pd.DataFrame({"ts": pd.Timestamp("2024-01-01"),
                          "id": [f"id-{i:09d}-padded-past-the-inline-length" for i in range(n)]})
    return frame, ColumnInfo("id", Kind.STRING, "string"), n


class TestMemoryBudget:
    def test_lowered_for_the_block_then_set_back(self):
        con = duck.connect()
        read = "SELECT current_setting('memory_limit')"
        before = duck._bytes(con.con.execute(read).fetchone()[0])
        with duck.memory_budget(con, 64 * 2**20):
            assert con.con.execute(read).fetchone()[0] == "64.0 MiB"
        assert duck._bytes(con.con.execute(read).fetchone()[0]) == pytest.approx(before, rel=0.01)
        con.disconnect()

    def test_never_raises_a_lower_limit(self):
        con = duck.connect()
        con.raw_sql("SET memory_limit = '32MB'")
        read = "SELECT current_setting('memory_limit')"
        before = con.con.execute(read).fetchone()[0]
        with duck.memory_budget(con, 64 * 2**20):
            assert con.con.execute(read).fetchone()[0] == before
        con.disconnect()

    def test_spills_instead_of_failing(self, monkeypatch):
        """More distinct values than the budget holds: the counts are still exact."""
        monkeypatch.setattr(duck, "VALUE_COUNT_MEMORY", 48 * 2**20)
        frame, info, n = _ids()
        with open_source(frame) as relation:
            found = relation.value_counts("ts", Granularity.DAY, [info], 3)
        states = found.states_for(info, pd.Timestamp("2024-01-01"))
        assert states["distinct"] == states["non_null"] == n
        assert sorted(found.top["value"]) == sorted(frame["id"])[:3]

    def test_too_small_a_budget_fails_rather_than_running_without_it(self, monkeypatch):
        """4 MiB is too little even to spill: the query fails (the caller falls back to
        sketches), it never runs again with unbounded memory."""
        monkeypatch.setattr(duck, "VALUE_COUNT_MEMORY", 4 * 2**20)
        frame, info, n = _ids()
        with open_source(frame) as relation:
            with pytest.raises(QueryFailed, match="Out of Memory"):
                relation.value_counts("ts", Granularity.DAY, [info], 3)

    def test_temp_directory_is_private(self):
        con = duck.connect()
        spill = con.con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
        assert "watchkeeper-" in spill and not spill.startswith(".tmp")
        con.disconnect()


class TestMemoryBudgetVariable:
    """WK_MEMORY_BUDGET sets both budgets: value counts and batches of fused states."""

    def test_unset_means_the_defaults(self, monkeypatch):
        monkeypatch.delenv(duck.MEMORY_BUDGET_VARIABLE, raising=False)
        assert duck.memory_budget_bytes(duck.VALUE_COUNT_MEMORY) == duck.VALUE_COUNT_MEMORY

    @pytest.mark.parametrize("text, size", [("512MiB", 512 * 2**20), ("2GB", 2 * 10**9),
                                            (" 1.5 GiB ", int(1.5 * 2**30))])
    def test_sizes(self, monkeypatch, text, size):
        monkeypatch.setenv(duck.MEMORY_BUDGET_VARIABLE, text)
        assert duck.memory_budget_bytes(duck.VALUE_COUNT_MEMORY) == size

    @pytest.mark.parametrize("text", ["lots", "12 parsecs", "100KB", "-5MB"])
    def test_a_bad_size_is_a_config_error(self, monkeypatch, text):
        from watchkeeper.errors import ConfigError

        monkeypatch.setenv(duck.MEMORY_BUDGET_VARIABLE, text)
        with pytest.raises(ConfigError, match="WK_MEMORY_BUDGET=.*512MiB or 2GB"):
            duck.memory_budget_bytes(duck.VALUE_COUNT_MEMORY)

    def test_the_value_counts_run_under_it(self, monkeypatch):
        seen = []
        real = duck.memory_budget

        def spy(con, limit):
            seen.append(limit)
            return real(con, limit)

        monkeypatch.setattr(duck, "memory_budget", spy)
        monkeypatch.setenv(duck.MEMORY_BUDGET_VARIABLE, "300MiB")
        _both(3)
        assert seen and set(seen) == {300 * 2**20}

    def test_it_sizes_the_batches(self, monkeypatch):
        from watchkeeper.summaries.profile import _batches

        days = [pd.Timestamp("2024-01-01") + pd.Timedelta(days=i) for i in range(100)]
        monkeypatch.setenv(duck.MEMORY_BUDGET_VARIABLE, "10MiB")
        assert [len(b) for b in _batches(days, 2**20)] == [10] * 10
        monkeypatch.setenv(duck.MEMORY_BUDGET_VARIABLE, "1GiB")
        assert _batches(days, 2**20) == [days]

    def test_wk_profile_reports_a_bad_budget_in_one_line(self, tmp_path, monkeypatch, capsys):
        from cli_helpers import run, write_orders

        path = write_orders(tmp_path, monkeypatch)
        monkeypatch.setenv(duck.MEMORY_BUDGET_VARIABLE, "lots")
        code, out, err = run(["profile", str(path), "--partition-column", "order_date"], capsys)
        assert code == 2 and out == ""
        assert "WK_MEMORY_BUDGET='lots'" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_when_the_value_counts_fail_the_fused_query_computes_only_what_they_would(monkeypatch):
    """The fallback query computes the counted states and nothing the first scan has:
    every string state (distinct counts then from a sketch), an integer's distinct
    count only. The run says so in a notice and keeps every statistic."""
    import watchkeeper
    from watchkeeper.engine.relation import QueryFailed

    def fail(*args, **kwargs):
        raise QueryFailed("boom")

    calls = []
    real = Relation.aggregate_states

    def spy(self, *args, **kwargs):
        found = real(self, *args, **kwargs)
        calls.append((kwargs.get("states", "all"), {name: set(states) for name, states
                                                    in found[0]["states"].items()}))
        return found

    monkeypatch.setattr(Relation, "value_counts", fail)
    monkeypatch.setattr(Relation, "aggregate_states", spy)
    # Partitions above the exact size: there the value counts count an integer's
    # distinct values (in small ones the fused scan does, exactly).
    monkeypatch.setattr("watchkeeper.engine.relation.EXACT_ROWS", 3)
    result = watchkeeper.profile(FRAME, partition_column="ts")
    assert [c[0] for c in calls] == ["uncounted", "counted"]
    first, fallback = calls[0][1], calls[1][1]
    assert first["a"] == set() and "mean" in first["n"] and "distinct" not in first["n"]
    assert fallback["n"] == {"distinct"} and set(fallback) == {"a", "b", "n"}
    assert fallback["a"] >= {"non_null", "empty", "distinct", "length_mean"}
    assert any("top values could not be computed" in n.message for n in result.notices)
    stats = result.statistics.set_index(["column", "statistic", "partition"])["value"]
    day1 = pd.Timestamp("2024-01-01")
    assert stats[("n", "distinct_count", day1)] == 4  # 1, 2, 3, 5: exact
    assert stats[("n", "mean", day1)] == pytest.approx(FRAME["n"][:7].mean())
    assert stats[("a", "non_null_count", day1)] == 6
