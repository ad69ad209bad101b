"""The robust detector on the data's resolution (lattice statistics) and agreeing evidence in a
column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from watchkeeper.detect import RobustDetector, Severity, thresholds
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


def _judge_last(history: pd.DataFrame, detector: RobustDetector | None = None):
    last = max(history["partition"].unique())
    model = (detector or RobustDetector()).fit(history[history["partition"] < last])
    return model.judge(history[history["partition"] == last])[0]


def _items_p75(verdict) -> float:
    return max([e.score for e in verdict.columns if e.column == "items"], default=0.0)


class TestLattice:
    def _p75(self, last: float) -> list[float]:
        values = [4.0] * 90
        values[60] = 5.0  # once in the window
        values[-1] = last
        return values

    def test_one_step_to_a_seen_value_is_not_paged(self):
        """A p75 of small integers moving 4 -> 5, one step of the data, is noise."""
        verdict = _judge_last(_with_items(make_history(), self._p75(5.0)))
        assert _items_p75(verdict) < thresholds()[1]
        assert verdict.severity < Severity.WARNING

    def test_one_step_the_other_way_is_not_paged(self):
        """One step to a value the window never took (4 -> 3) is one step all the same."""
        verdict = _judge_last(_with_items(make_history(), self._p75(3.0)))
        assert verdict.severity < Severity.WARNING

    def test_many_steps_alert(self):
        """A move of many resolution steps (4 -> 9) is evidence: the column alerts (shifts
        paged: a quantile moving alone is otherwise a shift of shape, recorded as info)."""
        verdict = _judge_last(_with_items(make_history(), self._p75(9.0)),
                              RobustDetector(page_shifts=True))
        assert verdict.severity >= Severity.WARNING
        assert any(e.column == "items" and e.statistic == "p75" for e in verdict.columns)

    def test_lattice_floor_is_half_a_step(self):
        """The scale of a lattice statistic is at least half its smallest step in the window,
        and a continuous one keeps its own scale."""
        grid = _grid(["p75", "p50"], [6.0, 6.0])
        grid = Grid(pd.date_range("2024-01-01", periods=5), grid.columns, grid.statistics,
                    np.array([[4.0, 4.01], [4.0, 4.02], [5.0, 4.03], [4.0, 4.04],
                              [6.0, 6.0]]), np.full((5, 2), 100.0), np.ones(5, dtype=bool),
                    Granularity.DAY)
        center = np.full((5, 2), 4.0)
        z = np.full((5, 2), 200.0)
        out = _judge.lattice(grid, grid.values, z, center, np.full((5, 2), 0.01),
                             np.array([4]), 4, 3.0)
        assert out[4, 0] == pytest.approx(2.0 / 0.5)  # two steps of 1: four noise units
        assert out[4, 1] == 200.0  # steps of 0.01: half a step is below its own scale


def _grid(statistics: list[str], values: list[float]) -> Grid:
    s = len(statistics)
    return Grid(pd.DatetimeIndex(["2024-01-01"]), np.array(["x"] * s, dtype=object),
                np.array(statistics, dtype=object), np.array([values], dtype=float),
                np.full((1, s), 100.0), np.array([True]), Granularity.DAY)


class TestAgreement:
    STATS = ["mean", "p25", "p50", "p75"]

    def test_agreeing_statistics_raise_the_column(self):
        """Four location statistics all up by 6 units promote the column to warning (7)."""
        grid = _grid(self.STATS, [6.0, 6.0, 6.0, 6.0])
        z = np.full((1, 4), 6.0)
        out = _judge.agreement(grid, z, np.zeros((1, 4)), np.array([0]), 4.0, 7.0)
        assert out.max() == 7.0

    def test_opposite_moves_do_not_agree(self):
        """Two statistics up and two down (a wider spread, same center) promote nothing."""
        grid = _grid(self.STATS, [6.0, -6.0, 6.0, -6.0])
        z = np.full((1, 4), 6.0)
        out = _judge.agreement(grid, z, np.zeros((1, 4)), np.array([0]), 4.0, 7.0)
        assert out.max() == 6.0

    def test_one_strong_statistic_is_not_agreement(self):
        """A single statistic beyond noise with the others quiet changes nothing."""
        grid = _grid(self.STATS, [6.0, 1.0, 1.0, 1.0])
        z = np.array([[6.0, 1.0, 1.0, 1.0]])
        out = _judge.agreement(grid, z, np.zeros((1, 4)), np.array([0]), 4.0, 7.0)
        np.testing.assert_array_equal(out, z)

    def test_two_agreeing_are_not_enough(self):
        """Two statistics the same way (mean and median are nearly one) promote nothing."""
        two = np.array([[5.0, 5.0, 0.0, 0.0]])
        out = _judge.agreement(_grid(self.STATS, [5.0, 5.0, 0.0, 0.0]), two, np.zeros((1, 4)),
                               np.array([0]), 4.0, 7.0)
        np.testing.assert_array_equal(out, two)
