"""Integers on DuckDB: exact states from histograms and from sums of squares.

Integers whose Parquet footers bound them to at most ``HISTOGRAM_RANGE`` values
are summarized from one ``histogram`` per partition: every state exact, the
quantiles included. Elsewhere, where every square fits a BIGINT (integers of 32
bits or fewer; 64-bit integers whose footers bound them), the fused scan sums
``x`` and ``x * x`` as HUGEINTs and the moments are computed from Python integers:
no rounding until the last division. Both must agree with the exact answer
(``statistics`` on Python integers, not numpy's float64), also where the values
are large and their spread small, and a footer that understates a range must not
make them wrong.
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
        "small": rng.integers(-50, 50, rows).astype("int16"),  # a histogram
        "counts": rng.integers(0, 10**6, rows).astype("int32"),  # too wide: sums
        # large values, a small spread: float64 sums of squares lose the spread
        "near_big": BIG - rng.integers(0, 5000, rows).astype("int64"),
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


@pytest.mark.parametrize("column", ["small", "counts", "near_big", "wide", "maybe"])
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
        ctx = StateContext([0.5], duckdb_builtins=True,
                           integer_bounds=relation.footer_integer_ranges())
        uses = {}
        for name in ("small", "counts", "near_big", "wide", "maybe"):
            states = column_states(Kind.NUMERIC, relation.table[name], ctx)
            uses[name] = ("histogram" if "histogram" in states else
                          "sums" if "sum_squares" in states else "engine")
    assert uses == {"small": "histogram", "counts": "sums", "near_big": "sums",
                    "wide": "engine", "maybe": "histogram"}
    # Other engines keep their own mean and std.
    other = StateContext([0.5])
    with open_source(str(path)) as relation:
        assert "std" in column_states(Kind.NUMERIC, relation.table["small"], other)


def test_a_footer_that_understates_a_bound_is_caught(tmp_path, monkeypatch):
    """A 64-bit column whose footer says its squares fit, but whose values do not: the
    multiplication overflows, the engine fails the query, and the run retries without
    the footers (stddev_samp), never with a wrapped square. A footer that makes it a
    histogram column costs memory only: the histogram holds the data's values."""
    frame = _frame()
    path = tmp_path / "ints.parquet"
    frame.to_parquet(path)
    import watchkeeper.engine.relation as relation_module

    forget = relation_module.Relation.forget_integer_ranges
    # squares summed: the overflow fails the query; a histogram: exact anyway
    for stale, retried in (((-5000, 5000), True), ((-5, 5), False)):
        monkeypatch.setattr(relation_module, "integer_ranges",
                            lambda files, columns, known=None, stale=stale: {"wide": stale})
        forgotten = []
        monkeypatch.setattr(relation_module.Relation, "forget_integer_ranges",
                            lambda self, seen=forgotten: seen.append(True) or forget(self))
        result = watchkeeper.profile(str(path), partition_column="ts")
        assert bool(forgotten) is retried and result.notices == []  # caught, not blamed
        for statistic, fn in (("mean", statistics.mean), ("std", statistics.stdev)):
            expected = [float(v) for v in _exact(frame, "wide", fn)]
            assert _stat(result, "wide", statistic) == pytest.approx(expected, rel=1e-9)


def test_one_value_has_no_std_and_no_value_no_mean():
    one = {"non_null": 1, "sum": 7, "sum_squares": 49}
    finish_states(one, [0.5])
    assert one == {"non_null": 1, "mean": 7.0, "std": None}
    none = {"non_null": 0, "sum": None, "sum_squares": None}
    finish_states(none, [0.5])
    assert none == {"non_null": 0, "mean": None, "std": None}
    untouched = {"non_null": 3, "mean": 1.5, "std": 0.5}
    finish_states(untouched, [0.5])
    assert untouched == {"non_null": 3, "mean": 1.5, "std": 0.5}


def test_histogram_states_are_exact(parquet):
    """Zeros, negatives, extremes, distinct values and quantiles of a histogram column
    are the data's own (quantiles interpolated between order statistics, numpy's default)."""
    frame, path = parquet
    result = watchkeeper.profile(str(path), partition_column="ts")
    day = frame["ts"].dt.floor("D")
    for column in ("small", "maybe"):
        parts = [part.dropna().astype("int64").to_numpy()
                 for _, part in frame.groupby(day)[column]]
        expected = {
            "zero_fraction": [float((v == 0).mean()) for v in parts],
            "negative_fraction": [float((v < 0).mean()) for v in parts],
            "min": [float(v.min()) for v in parts], "max": [float(v.max()) for v in parts],
            "distinct_count": [float(len(set(v))) for v in parts],
            "p01": [float(np.quantile(v, 0.01)) for v in parts],
            "p50": [float(np.quantile(v, 0.50)) for v in parts],
            "p99": [float(np.quantile(v, 0.99)) for v in parts],
        }
        for statistic, values in expected.items():
            assert _stat(result, column, statistic) == pytest.approx(values), (column, statistic)


def test_histogram_of_a_partition_without_values():
    states = {"non_null": 0, "histogram": None}
    finish_states(states, [0.5])
    assert states == {"non_null": 0, "zeros": 0, "negatives": 0, "distinct": 0, "mean": None,
                      "std": None, "min": None, "max": None, "quantiles": None}
    states = {"non_null": 5, "histogram": {3: 2, -1: 1, 0: 2}}
    finish_states(states, [0.0, 0.5, 1.0])
    assert states == {"non_null": 5, "zeros": 2, "negatives": 1, "distinct": 3, "mean": 1.0,
                      "std": pytest.approx(statistics.stdev([3, 3, -1, 0, 0])), "min": -1,
                      "max": 3, "quantiles": [-1.0, 0.0, 3.0]}
    states = {"non_null": 4, "histogram": {1: 1, 2: 1, 10: 2}}
    finish_states(states, [0.25, 0.5, 0.99])
    assert states["quantiles"] == pytest.approx(list(np.quantile([1, 2, 10, 10], [0.25, 0.5, 0.99])))
