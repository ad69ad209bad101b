"""The detector contract (scikit-learn style) and the robust detector's behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from watchkeeper.detect import (NotFittedError, OnlineNormalDetector, RobustDetector, Severity,
                                clone)
from watchkeeper.detect._grid import spreads, to_grid
from watchkeeper.detect._model import Windows, expectations
from watchkeeper.errors import ConfigError

from detect_histories import make_history, set_value

DETECTORS = [RobustDetector(), RobustDetector(false_alarms="1 per 30", window=28),
             OnlineNormalDetector()]


def _split(history: pd.DataFrame, last: int = 1):
    parts = sorted(history["partition"].unique())
    cut = parts[-last]
    return history[history["partition"] < cut], history[history["partition"] >= cut]


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: repr(d)[:40])
class TestConformance:
    def test_clone_has_equal_params_and_no_state(self, detector, history):
        """A clone rebuilt from get_params has the same parameters and nothing learned."""
        fitted = clone(detector).fit(history)
        copy = clone(fitted)
        assert copy.get_params() == detector.get_params()
        assert not [k for k in vars(copy) if k.endswith("_")]

    def test_init_only_stores_parameters(self, detector):
        """__init__ sets exactly the parameters, nothing else."""
        assert set(vars(clone(detector))) == set(detector.get_params())

    def test_fit_returns_self_and_sets_learned_attributes(self, detector, history):
        """fit returns the detector itself, with attributes ending in '_'."""
        model = clone(detector)
        assert model.fit(history) is model
        assert [k for k in vars(model) if k.endswith("_")]

    def test_judge_before_fit_raises(self, detector, history):
        """Scoring an unfitted detector is refused with NotFittedError."""
        with pytest.raises(NotFittedError):
            clone(detector).judge(history)

    def test_deterministic(self, detector, history):
        """Two fits on the same history give the same scores."""
        past, new = _split(history, 3)
        a = clone(detector).fit(past).score(new)
        b = clone(detector).fit(past).score(new)
        pd.testing.assert_series_equal(a, b)

    def test_short_history_is_ok_not_an_error(self, detector):
        """With three partitions of history every verdict is ok and unexplained."""
        short = make_history(days=4)
        past, new = _split(short)
        verdict = clone(detector).fit(past).judge(new)
        assert [v.severity for v in verdict] == [Severity.OK]
        assert verdict[0].columns == ()

    def test_nan_values_are_tolerated(self, detector, history):
        """NaN statistics (a column that was all NULL) give finite scores, never errors."""
        holes = history.copy()
        holes.loc[holes.index[::7], "value"] = np.nan
        past, new = _split(holes, 5)
        scores = clone(detector).fit(past).score(new)
        assert len(scores) == 5 and np.isfinite(scores).all()

    def test_set_params_rejects_unknown(self, detector):
        """An unknown parameter name is a ConfigError naming the valid ones."""
        with pytest.raises(ConfigError, match="has no parameter"):
            clone(detector).set_params(bogus=1)


class TestRobustDetector:
    def test_clean_history_is_quiet(self):
        """On 120 days of stationary noise no partition reaches warning."""
        verdicts = RobustDetector().backtest(make_history(days=120, seed=3))
        assert all(v.severity < Severity.WARNING for v in verdicts)

    def test_null_spike_is_critical_and_ranked_first(self, history):
        """Null fraction jumping from 1% to 40% is critical and blames amount.null_fraction."""
        past, new = _split(history)
        day = new["partition"].iloc[0]
        broken = set_value(new, day, "amount", "null_fraction", 0.4)
        verdict = RobustDetector().fit(past).judge(broken)[0]
        assert verdict.severity is Severity.CRITICAL
        top = verdict.columns[0]
        assert (top.column, top.statistic) == ("amount", "null_fraction")
        assert top.expected_low < 0.01 < top.expected_high < 0.4

    def test_weekly_seasonality_is_learned(self):
        """Weekend volume 60% above weekdays is normal once seen for a few weeks."""
        seasonal = make_history(days=120, weekly=0.6)
        verdicts = RobustDetector().backtest(seasonal)
        assert all(v.severity < Severity.WARNING for v in verdicts)

    def test_seasonal_forecast_expects_the_weekend(self):
        """With seasonality the expected weekend row count is the weekend level, not the weekday one."""
        grid = to_grid(make_history(days=120, weekly=0.6))
        j = list(zip(grid.columns, grid.statistics)).index(("*", "row_count"))
        weekend = np.flatnonzero(grid.partitions.dayofweek >= 5)[-4:]

        def centers(period):
            w = Windows(7, 14, 56, period, 14)
            model = expectations(grid.values, grid.sizes, grid.kinds,
                                 spreads(grid.columns, grid.statistics, grid.values), w)
            return model.center[weekend, j]

        assert np.all(np.abs(centers(7) - 800) < 40)
        assert np.all(np.abs(centers(None) - 500) < 60)

    def test_trend_is_followed(self):
        """A mean rising steadily by one standard error a day raises no alert."""
        verdicts = RobustDetector().backtest(make_history(days=150, trend=0.5))
        assert all(v.severity < Severity.WARNING for v in verdicts)

    def test_outliers_in_history_do_not_blind_it(self, history):
        """Three earlier broken days do not widen the band enough to hide a fourth."""
        parts = sorted(history["partition"].unique())
        dirty = history
        for p in parts[60:63]:
            dirty = set_value(dirty, p, "amount", "mean", 90.0)
        past, new = _split(dirty)
        broken = set_value(new, new["partition"].iloc[0], "amount", "mean", 90.0)
        assert RobustDetector().fit(past).judge(broken)[0].severity >= Severity.WARNING

    def test_small_partition_widens_the_band(self, history):
        """The same mean shift alerts on a full partition but not on one with 1% of the rows."""
        past, new = _split(history)
        day = new["partition"].iloc[0]
        model = RobustDetector().fit(past)
        shifted = set_value(new, day, "amount", "mean", 56.0)
        full = model.judge(shifted)[0]
        tiny = shifted
        for col, stat in (("*", "row_count"), ("amount", "non_null_count"),
                          ("city", "non_null_count")):
            tiny = set_value(tiny, day, col, stat, 5.0)
        small = model.judge(tiny)[0]
        amount = lambda v: max((e.score for e in v.columns if e.column == "amount"),  # noqa: E731
                               default=0.0)
        assert amount(full) > 7 > amount(small)

    def test_excluded_partitions_are_not_learned(self, history):
        """A confirmed-bad level is not normal: after excluding it, it still alerts."""
        parts = sorted(history["partition"].unique())
        shifted = history
        for p in parts[-30:]:
            shifted = set_value(set_value(shifted, p, "amount", "p50", 80.0),
                                p, "amount", "mean", 80.0)
        past, new = _split(shifted)
        learned = RobustDetector().fit(past).judge(new)[0]
        excluded = RobustDetector().fit(past, exclude=parts[-30:-1]).judge(new)[0]
        assert learned.severity < Severity.WARNING <= excluded.severity

    def test_exclusion_cannot_run_away(self, history):
        """Excluding every partition still leaves half of each window to learn from."""
        parts = sorted(history["partition"].unique())
        model = RobustDetector().fit(history, exclude=parts)
        assert 0 < len(model.excluded_) < len(parts)
        verdicts = RobustDetector().backtest(history, exclude=parts)
        assert sum(v.severity >= Severity.WARNING for v in verdicts) <= 2

    @pytest.mark.parametrize("budget", ["extreme", "2 per 1", 0, 1.5, "1 per 0"])
    def test_bad_budget_is_a_config_error(self, history, budget):
        """A budget that is not a rate in (0, 1) is refused at fit, with the form to use."""
        with pytest.raises(ConfigError, match="1 per 90"):
            RobustDetector(false_alarms=budget).fit(history)

    def test_bad_history_is_a_config_error(self):
        """A frame without the long-format columns is refused with the fix."""
        with pytest.raises(ConfigError, match="partition, column, statistic"):
            RobustDetector().fit(pd.DataFrame({"x": [1]}))
