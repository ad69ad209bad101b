"""Round-3 rules of the robust detector: discrete quantiles and agreeing evidence in a column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from watchkeeper.detect import RobustDetector, Severity
from watchkeeper.detect import _judge
from watchkeeper.detect._grid import Grid
from watchkeeper.engine.types import Granularity

from detect_histories import make_history


def _with_items(history: pd.DataFrame, p75: list[float]) -> pd.DataFrame:
    """Adds ``items``, a small-integer column whose exact p75 is ``p75[i]`` on day ``i``."""
    parts = sorted(history["partition"].unique())
    rows = []
    for day, q in zip(parts, p75):
        rows += [(day, "items", "non_null_count", 495.0), (day, "items", "p25", 3.0),
                 (day, "items", "p50", 4.0), (day, "items", "p75", float(q)),
                 (day, "items", "mean", 3.9), (day, "items", "std", 1.1)]
    extra = pd.DataFrame(rows, columns=["partition", "column", "statistic", "value"])
    return pd.concat([history, extra], ignore_index=True)


def _judge_last(history: pd.DataFrame):
    last = max(history["partition"].unique())
    model = RobustDetector().fit(history[history["partition"] < last])
    return model.judge(history[history["partition"] == last])[0]


def _items_p75(verdict) -> float:
    return max([e.score for e in verdict.columns if e.column == "items"], default=0.0)


class TestDiscreteSteps:
    def _p75(self, last: float) -> list[float]:
        values = [4.0] * 90
        values[60] = 5.0  # once in the window: too rare for the 4%-96% envelope
        values[-1] = last
        return values

    def test_one_step_to_a_seen_value_is_info(self):
        """A p75 of small integers moving 4 -> 5, a value the window took, is at most info."""
        verdict = _judge_last(_with_items(make_history(), self._p75(5.0)))
        assert _items_p75(verdict) <= _judge.thresholds("medium")[0]
        assert verdict.severity < Severity.WARNING

    def test_two_steps_still_alert(self):
        """A move of two resolution steps (4 -> 6) is evidence: the column alerts."""
        verdict = _judge_last(_with_items(make_history(), self._p75(6.0)))
        assert verdict.severity >= Severity.WARNING
        assert any(e.column == "items" and e.statistic == "p75" for e in verdict.columns)

    def test_one_step_to_an_unseen_value_still_alerts(self):
        """One step to a value the window never took (4 -> 3) is not excused."""
        verdict = _judge_last(_with_items(make_history(), self._p75(3.0)))
        assert any(e.column == "items" and e.statistic == "p75" for e in verdict.columns)
        assert verdict.severity >= Severity.WARNING


def _grid(statistics: list[str], values: list[float]) -> Grid:
    s = len(statistics)
    return Grid(pd.DatetimeIndex(["2024-01-01"]), np.array(["x"] * s, dtype=object),
                np.array(statistics, dtype=object), np.array([values], dtype=float),
                np.full((1, s), 100.0), np.array([True]), Granularity.DAY)


class TestAgreement:
    STATS = ["mean", "p25", "p50", "p75"]

    def test_agreeing_statistics_raise_the_column(self, monkeypatch):
        """Four location statistics all up by 6 units combine above warning (7)."""
        monkeypatch.setattr(_judge, "AGREEMENT", "stouffer")
        grid = _grid(self.STATS, [6.0, 6.0, 6.0, 6.0])
        z = np.full((1, 4), 6.0)
        out = _judge.agreement(grid, z, np.zeros((1, 4)), np.array([0]), 4.0, 7.0)
        assert out.max() > 7.0

    def test_opposite_moves_cancel(self, monkeypatch):
        """Two statistics up and two down (a wider spread, same center) combine to nothing."""
        monkeypatch.setattr(_judge, "AGREEMENT", "stouffer")
        grid = _grid(self.STATS, [6.0, -6.0, 6.0, -6.0])
        z = np.full((1, 4), 6.0)
        out = _judge.agreement(grid, z, np.zeros((1, 4)), np.array([0]), 4.0, 7.0)
        assert out.max() == 6.0

    def test_one_strong_statistic_is_not_agreement(self, monkeypatch):
        """A single statistic beyond info with the others quiet changes nothing."""
        monkeypatch.setattr(_judge, "AGREEMENT", "stouffer")
        grid = _grid(self.STATS, [6.0, 1.0, 1.0, 1.0])
        z = np.array([[6.0, 1.0, 1.0, 1.0]])
        out = _judge.agreement(grid, z, np.zeros((1, 4)), np.array([0]), 4.0, 7.0)
        np.testing.assert_array_equal(out, z)

    def test_three_agreeing_promote_to_warning(self, monkeypatch):
        """Three statistics beyond info the same way make the column a warning; two do not."""
        monkeypatch.setattr(_judge, "AGREEMENT", "promote")
        grid = _grid(self.STATS, [5.0, 5.0, 5.0, 0.0])
        z = np.array([[5.0, 5.0, 5.0, 0.0]])
        out = _judge.agreement(grid, z, np.zeros((1, 4)), np.array([0]), 4.0, 7.0)
        assert out.max() == 7.0
        two = np.array([[5.0, 5.0, 0.0, 0.0]])
        out = _judge.agreement(_grid(self.STATS, [5.0, 5.0, 0.0, 0.0]), two, np.zeros((1, 4)),
                               np.array([0]), 4.0, 7.0)
        np.testing.assert_array_equal(out, two)
