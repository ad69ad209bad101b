"""The robust detector's rules for odd rows and lasting changes."""

from __future__ import annotations

import pandas as pd

from watchkeeper.detect import RobustDetector, Severity

from detect_histories import set_value


def _last(history: pd.DataFrame, count: int = 1):
    parts = sorted(history["partition"].unique())
    return parts[-count:]


def _judge_last(history: pd.DataFrame, detector: RobustDetector | None = None):
    last = _last(history)[0]
    model = detector or RobustDetector()
    return model.fit(history[history["partition"] < last]).judge(
        history[history["partition"] == last])[0]


class TestOddRowRule:
    def test_lone_extreme_is_not_paged(self, history):
        """A minimum far below normal, with nothing else moving, is one odd row: no page."""
        day = _last(history)[0]
        verdict = _judge_last(set_value(history, day, "amount", "min", -500.0))
        assert verdict.severity < Severity.WARNING

    def test_outlier_dragging_the_moments_is_info(self, history):
        """An outward extreme with the mean and std pulled along is still one odd row."""
        day = _last(history)[0]
        odd = set_value(history, day, "amount", "min", -500.0)
        odd = set_value(odd, day, "amount", "mean", 40.0)
        odd = set_value(odd, day, "amount", "std", 30.0)
        assert _judge_last(odd).severity < Severity.WARNING

    def test_extreme_with_a_quantile_alerts(self, history):
        """When a quantile moves with the extreme many rows changed: the column alerts."""
        day = _last(history)[0]
        bad = set_value(history, day, "amount", "min", -500.0)
        bad = set_value(bad, day, "amount", "p25", 0.0)
        assert _judge_last(bad).severity >= Severity.WARNING

    def test_both_extremes_shifted_the_same_way_alert(self, history):
        """Min and max both moved up cannot be odd rows: every row shifted (a timezone)."""
        day = _last(history)[0]
        bad = set_value(history, day, "amount", "min", 200.0)
        bad = set_value(bad, day, "amount", "max", 600.0)
        assert _judge_last(bad).severity >= Severity.WARNING

    def test_both_extremes_outwards_alone_are_two_odd_rows(self, history):
        """Min far below and max far above, quantiles unmoved: two odd rows, no page
        (a rescaled column would move its quantiles too: see the test with a quantile)."""
        day = _last(history)[0]
        odd = set_value(history, day, "amount", "min", -500.0)
        odd = set_value(odd, day, "amount", "max", 600.0)
        assert _judge_last(odd).severity < Severity.WARNING

    def test_extreme_pulled_inwards_with_the_mean_alerts(self, history):
        """The minimum rising with the mean is every row changing, not an outlier."""
        day = _last(history)[0]
        bad = set_value(history, day, "amount", "min", 45.0)
        bad = set_value(bad, day, "amount", "mean", 70.0)
        assert _judge_last(bad).severity >= Severity.WARNING


class TestLevelShift:
    def _shifted(self, history, days: int):
        out = history
        for p in _last(history, days):
            out = set_value(out, p, "amount", "null_fraction", 0.3)
        return out

    def test_first_partition_of_a_new_level_alerts(self, history):
        """A null fraction stepping from 1% to 30% alerts on its first day."""
        assert _judge_last(self._shifted(history, 1)).severity >= Severity.WARNING

    def test_new_level_is_learned_after_shift_after_partitions(self, history):
        """After three days at 30% the fourth is expected; without the rule it still alerts."""
        shifted = self._shifted(history, 4)
        assert _judge_last(shifted).severity < Severity.WARNING
        assert _judge_last(shifted, RobustDetector(shift_after=0)).severity >= Severity.WARNING

    def test_excluded_partitions_cannot_confirm_a_shift(self, history):
        """Days confirmed bad are not learned, so they never make their level normal."""
        shifted = self._shifted(history, 4)
        bad_days = _last(history, 4)[:-1]
        last = _last(history)[0]
        model = RobustDetector().fit(shifted[shifted["partition"] < last], exclude=bad_days)
        assert model.judge(shifted[shifted["partition"] == last])[0].severity >= Severity.WARNING
