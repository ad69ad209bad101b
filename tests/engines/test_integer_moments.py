"""Mean and std of integers on DuckDB, from exact sums of values and of squares.

Where every square fits a BIGINT (integers of 32 bits or fewer; 64-bit integers
whose Parquet footers bound them) the fused scan sums ``x`` and ``x * x`` as
HUGEINTs and the moments are computed from Python integers: no rounding until
the last division. They must agree with the exact answer (``statistics`` on
Python integers, not numpy's float64), also where the values are large and their
spread small, and a footer that understates a range must not make them wrong.
"""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
import pytest

import watchkeeper
from watchkeeper.engine import open_source
from watchkeeper.engine.aggregates import StateContext, column_states, finish_states
from watchkeeper.engine.types import Kind

BIG = 3_000_000_000  # a square still fits a BIGINT (3.037e9 is the limit)


def _frame(rows: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({
        "ts": pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 2 * 86400, rows),
                                                            unit="s"),
        "small": rng.integers(-50, 50, rows).astype("int16"),
        # large values, a small spread: float64 sums of squares lose the spread
        "near_big": BIG - rng.integers(0, 7, rows).astype("int64"),
        "wide": rng.integers(-(2**62), 2**62, rows),  # squares overflow: stddev_samp
        "maybe": pd.array(rng.integers(0, 1000, rows), dtype="Int32"),
    })
    frame.loc[rng.random(rows) < 0.3, "maybe"] = None
    return frame.sort_values("ts", ignore_index=True)


def _stat(result, column: str, statistic: str) -> list:
    s = result.statistics
    rows = s[(s["column"] == column) & (s["statistic"] == statistic)]
    return rows.sort_values("partition")["value"].tolist()


def _exact(frame: pd.DataFrame, column: str, fn) -> list[float]:
    day = frame["ts"].dt.floor("D")
    return [fn([int(v) for v in part.dropna()]) for _, part in frame.groupby(day)[column]]


@pytest.fixture
def parquet(tmp_path):
    frame = _frame()
    path = tmp_path / "ints.parquet"
    frame.to_parquet(path, row_group_size=500)
    return frame, path


@pytest.mark.parametrize("column", ["small", "near_big", "wide", "maybe"])
def test_mean_and_std_are_exact(parquet, column):
    frame, path = parquet
    result = watchkeeper.profile(str(path), partition_column="ts")
    for statistic, fn in (("mean", statistics.mean), ("std", statistics.stdev)):
        expected = [float(v) for v in _exact(frame, column, fn)]
        actual = _stat(result, column, statistic)
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12), (column, statistic)


def test_which_columns_use_exact_sums(parquet):
    _frame_, path = parquet
    with open_source(str(path)) as relation:
        relation.small_integer_ranges()  # reads the footers
        ctx = StateContext([0.5], duckdb_builtins=True,
                           integer_bounds=relation._footer_ranges())
        uses = {name: "sum_squares" in column_states(Kind.NUMERIC, relation.table[name], ctx)
                for name in ("small", "near_big", "wide", "maybe")}
    assert uses == {"small": True, "near_big": True, "wide": False, "maybe": True}
    # Other engines keep their own mean and std.
    other = StateContext([0.5])
    with open_source(str(path)) as relation:
        assert "std" in column_states(Kind.NUMERIC, relation.table["small"], other)


def test_a_footer_that_understates_a_bound_is_caught(tmp_path, monkeypatch):
    """A 64-bit column whose footer says its squares fit, but whose values do not: the
    multiplication overflows, the engine fails the query, and the run retries without
    the footers (stddev_samp), never with a wrapped square."""
    frame = _frame()
    path = tmp_path / "ints.parquet"
    frame.to_parquet(path)
    import watchkeeper.engine.relation as relation_module

    monkeypatch.setattr(relation_module, "integer_ranges",
                        lambda files, columns, known=None: {"wide": (-5, 5)})
    forgotten = []
    forget = relation_module.Relation.forget_integer_ranges
    monkeypatch.setattr(relation_module.Relation, "forget_integer_ranges",
                        lambda self: forgotten.append(True) or forget(self))
    result = watchkeeper.profile(str(path), partition_column="ts")
    assert forgotten and result.notices == []  # the overflow was caught, not blamed
    expected = [float(v) for v in _exact(frame, "wide", statistics.stdev)]
    assert _stat(result, "wide", "std") == pytest.approx(expected, rel=1e-9)


def test_one_value_has_no_std_and_no_value_no_mean():
    one = {"non_null": 1, "sum": 7, "sum_squares": 49}
    finish_states(one)
    assert one == {"non_null": 1, "mean": 7.0, "std": None}
    none = {"non_null": 0, "sum": None, "sum_squares": None}
    finish_states(none)
    assert none == {"non_null": 0, "mean": None, "std": None}
    untouched = {"non_null": 3, "mean": 1.5, "std": 0.5}
    finish_states(untouched)
    assert untouched == {"non_null": 3, "mean": 1.5, "std": 0.5}
