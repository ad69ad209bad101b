"""The fast paths of the detector's speed target give the very numbers of the plain ones.

Judging the newest partition computes only the rows it looks back on, and rolling
quantiles of small windows go through a sorting network: neither may change a verdict.
"""

from __future__ import annotations

import numpy as np
import pytest
from detect_histories import make_history, set_value

from watchkeeper.detect import RobustDetector, backtest
from watchkeeper.detect import _model
from watchkeeper.detect._model import Windows, _expected
from watchkeeper.detect._rolling import (_extreme, _network, _skiplist, _sorted, median_of,
                                         prior_quantile, sorting_network)


def _records(verdicts):
    return [(v.partition, v.severity, v.score, v.judged,
             [(e.column, e.statistic, e.observed, e.expected_low, e.expected_high, e.score)
              for e in v.columns]) for v in verdicts]


def _long_history():
    """260 days (longer than the fitted tail): two missing days, one series missing for a
    week late on (the other series are judged on the restricted rows), a broken day."""
    history = make_history(days=260, seed=3, weekly=0.3, trend=0.05)
    parts = sorted(history["partition"].unique())
    history = history[~history["partition"].isin([parts[150], parts[160]])]
    gone = history["partition"].isin(parts[230:236]) & (history["statistic"] == "top_ratio")
    history = history[~gone]
    return set_value(history, parts[250], "amount", "mean", 90.0), parts


@pytest.fixture
def restricted_calls(monkeypatch):
    """How many times the model ran on the restricted rows only."""
    calls = []
    plain = _model._expected_rows

    def spy(values, w, start, first_resid, carry, first_bias):
        calls.append(carry is None)
        return plain(values, w, start, first_resid, carry, first_bias)

    monkeypatch.setattr(_model, "_expected_rows", spy)
    return calls


class TestSortingNetwork:
    @pytest.mark.parametrize("n", range(1, 13))
    def test_sorts_every_zero_one_input(self, n):
        """0-1 principle: a network sorting every 0/1 input sorts everything."""
        net = sorting_network(n)
        for m in range(2 ** n):
            bits = [(m >> i) & 1 for i in range(n)]
            for a, b in net:
                if bits[a] > bits[b]:
                    bits[a], bits[b] = bits[b], bits[a]
            assert bits == sorted(bits)

    def test_all_paths_agree_exactly(self):
        """Network, running extreme, sort and skip list: the same numbers, NaN as missing."""
        rng = np.random.default_rng(7)
        for trial in range(200):
            t, s, window = int(rng.integers(1, 50)), int(rng.integers(1, 20)), \
                int(rng.integers(1, 17))
            values = rng.normal(size=(t, s))
            values[rng.random((t, s)) < rng.choice([0.0, 0.05, 0.5])] = np.nan
            if trial % 3 == 0:
                values = np.round(values * 2)  # ties, as discrete statistics have
            q = float(rng.choice([0.0, 0.04, 0.5, 0.8, 0.96, 1.0]))
            start, min_periods = int(rng.integers(0, t)), int(rng.integers(1, window + 1))
            plain = _sorted(values, window, q, start, min_periods)
            np.testing.assert_array_equal(_network(values, window, q, start, min_periods), plain)
            np.testing.assert_array_equal(_skiplist(values, window, q, min_periods)[start:],
                                          plain)
            np.testing.assert_array_equal(prior_quantile(values, window, q, start, min_periods),
                                          plain)
            if q in (0.0, 1.0):
                np.testing.assert_array_equal(_extreme(values, window, q, start, min_periods),
                                              plain)

    def test_infinite_values_keep_the_plain_path(self):
        """An infinity counts as unknown in the interpolation: the sort decides, as before."""
        values = np.array([[1.0], [np.inf], [2.0], [-np.inf], [3.0], [4.0]])
        with np.errstate(invalid="ignore"):  # inf - inf in the interpolation, as before
            for q in (0.0, 0.5, 1.0):
                np.testing.assert_array_equal(prior_quantile(values, 3, q, 0, 1),
                                              _sorted(values, 3, q, 0, 1))

    def test_a_block_chooses_the_method_of_the_whole_grid(self, monkeypatch):
        """With an infinity the skip list and the sort differ: a block of series chooses
        as the whole grid would (only the grid's size decides)."""
        from watchkeeper.detect import _rolling

        chosen = []
        for name in ("_skiplist", "_sorted"):
            plain = getattr(_rolling, name)
            monkeypatch.setattr(_rolling, name,
                                lambda *a, _f=plain, _n=name: chosen.append(_n) or _f(*a))
        monkeypatch.setattr(_rolling, "SORT_BUDGET", 10_000)
        values = np.random.default_rng(0).normal(size=(100, 4))
        values[5, 0] = np.inf
        prior_quantile(values, 56, 0.8, 0, 14)  # 100 x 4 x 56 = 22,400 cells: skip list
        with _rolling.series_share(4, 1):  # a block of 1 series of a grid of 4
            prior_quantile(values[:, :1], 56, 0.8, 0, 14)  # alone it would sort
        assert chosen == ["_skiplist", "_skiplist"]
        prior_quantile(values[:, :1], 56, 0.8, 0, 14)
        assert chosen[-1] == "_sorted"

    def test_median_of_arrays_is_the_sorted_median(self):
        rng = np.random.default_rng(1)
        rows = [rng.normal(size=(30, 5)) for _ in range(4)]
        rows[1][rng.random((30, 5)) < 0.4] = np.nan
        stacked = np.sort(np.stack(rows, axis=-1), axis=-1)
        count = np.isfinite(stacked).sum(axis=-1)
        from watchkeeper.detect._rolling import _interpolate
        np.testing.assert_array_equal(median_of([r.copy() for r in rows], 2),
                                      _interpolate(stacked, count, 0.5, 2))


class TestRestrictedRows:
    @pytest.fixture(autouse=True)
    def _restore(self):
        yield
        _model.RESTRICTED = True

    def test_restricted_rows_equal_the_whole_computation(self):
        """The rows scored from a late start are the same whichever reach is computed,
        with unknown values, whole missing partitions and long gaps in some series."""
        rng = np.random.default_rng(5)
        for trial in range(60):
            t, s = int(rng.integers(150, 260)), int(rng.integers(1, 12))
            w = Windows(7, 14, 56, [None, 7, 24][trial % 3], 14, 3)
            values = rng.normal(size=(t, s)).cumsum(axis=0)
            kind = trial % 4
            if kind == 1:
                values[rng.random((t, s)) < 0.02] = np.nan
            elif kind == 2:
                values[rng.integers(0, t, 3)] = np.nan
            elif kind == 3:
                values[t - 60:t - 20, : s // 2 + 1] = np.nan
            start = int(rng.integers(t - 5, t + 1))
            _model.RESTRICTED = True
            fast = _expected(values, w, start)
            _model.RESTRICTED = False
            whole = _expected(values, w, start)
            for a, b in zip(fast, whole):
                np.testing.assert_array_equal(a[start:], b[start:])

    def test_judge_of_the_newest_equals_the_backtest(self, restricted_calls):
        """fit + judge of the last partitions of a long history (gaps, a broken day, a
        tolerance) say exactly what the backtest says of them."""
        history, parts = _long_history()
        tolerance = {("amount", "mean"): 2.0}
        replay = _records(backtest(history, tolerance=tolerance))
        for p in (parts[250], parts[-1]):
            live = RobustDetector().fit(history[history["partition"] < p],
                                        tolerance=tolerance).judge(
                history[history["partition"] == p])
            assert _records(live) == [r for r in replay if r[0] == p]
        last3 = RobustDetector().fit(history[history["partition"] < parts[-3]],
                                     tolerance=tolerance).judge(
            history[history["partition"] >= parts[-3]])
        assert _records(last3) == replay[-3:]
        assert replay[-10][1] >= "warning"  # the broken day
        assert any(restricted_calls)

    def test_judge_after_an_excluded_partition_equals_the_backtest(self):
        """A confirmed-bad partition in the look-back: its level and bias are carried."""
        history, parts = _long_history()
        exclude = [parts[250]]
        replay = _records(backtest(history, exclude=exclude))
        live = RobustDetector().fit(history[history["partition"] < parts[-1]],
                                    exclude=exclude).judge(
            history[history["partition"] == parts[-1]])
        assert _records(live) == replay[-1:]

    def test_judge_is_the_same_without_the_restriction(self, restricted_calls):
        history, parts = _long_history()
        past = history[history["partition"] < parts[-1]]
        new = history[history["partition"] == parts[-1]]
        fast = _records(RobustDetector().fit(past).judge(new))
        assert any(restricted_calls)
        _model.RESTRICTED = False
        assert _records(RobustDetector().fit(past).judge(new)) == fast
