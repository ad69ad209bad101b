"""The backtest contract: JSON shape, time order, no look-ahead, same code as live judging."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from detect_histories import make_history, set_value

from watchkeeper.detect import RobustDetector, Severity, backtest
from watchkeeper.detect._rolling import _skiplist, _sorted

SEVERITIES = {"ok", "info", "warning", "critical"}


class TestBacktestContract:
    def test_one_record_per_partition_in_time_order(self, history):
        """Every partition gets one verdict, oldest first, as a JSON-ready dict of the documented shape."""
        records = [v.to_record() for v in backtest(history)]
        parts = sorted(history["partition"].unique())
        assert [r["partition"] for r in records] == [p.date().isoformat() for p in parts]
        for r in records:
            assert set(r) == {"partition", "severity", "score", "columns"}
            assert r["severity"] in SEVERITIES and isinstance(r["score"], float)
            json.dumps(r)  # serialisable as is

    def test_explanations_have_the_documented_fields_and_rank(self, history):
        """Columns are ranked by score, each with statistic, observed value and band."""
        parts = sorted(history["partition"].unique())
        broken = set_value(history, parts[70], "amount", "null_fraction", 0.5)
        broken = set_value(broken, parts[70], "city", "distinct_count", 3)
        record = backtest(broken)[70].to_record()
        assert record["severity"] == "critical"
        columns = record["columns"]
        assert {c["column"] for c in columns} == {"amount", "city"}
        for c in columns:
            assert set(c) == {"column", "statistic", "observed", "expected_low",
                              "expected_high", "score"}
            assert not c["expected_low"] <= c["observed"] <= c["expected_high"]
        assert [c["score"] for c in columns] == sorted((c["score"] for c in columns),
                                                       reverse=True)

    def test_too_early_partitions_are_ok_and_unexplained(self, history):
        """The first min_history partitions are ok with no columns, whatever their values."""
        parts = sorted(history["partition"].unique())
        broken = set_value(history, parts[5], "amount", "mean", 1e6)
        records = [v.to_record() for v in backtest(broken)][:14]
        assert all(r["severity"] == "ok" and r["columns"] == [] for r in records)

    def test_future_partitions_never_change_earlier_verdicts(self, history):
        """Corrupting partition 70 leaves the verdicts of partitions 0..69 identical."""
        parts = sorted(history["partition"].unique())
        before = [v.to_record() for v in backtest(history)]
        broken = set_value(history, parts[70], "amount", "mean", 1e6)
        after = [v.to_record() for v in backtest(broken)]
        assert after[:70] == before[:70]
        assert after[70] != before[70]

    def test_backtest_equals_fit_then_judge(self, history):
        """Each backtest verdict is what fit(earlier).judge(partition) says live."""
        parts = sorted(history["partition"].unique())
        broken = set_value(history, parts[80], "amount", "mean", 70.0)
        replay = {v.partition: v for v in backtest(broken)}
        for p in (parts[20], parts[60], parts[80], parts[-1]):
            live = RobustDetector().fit(broken[broken["partition"] < p]).judge(
                broken[broken["partition"] == p])[0]
            assert live.to_record() == replay[p].to_record()
        assert replay[parts[80]].severity >= Severity.WARNING

    def test_hourly_partitions_are_timestamps(self):
        """Hourly partitions are formatted as ISO timestamps, daily ones as dates."""
        hourly = make_history(days=30)
        hourly["partition"] = pd.Timestamp("2024-01-01") + (
            hourly["partition"] - hourly["partition"].min()) / 24
        record = backtest(hourly)[0].to_record()
        assert record["partition"] == "2024-01-01T00:00:00"

    def test_empty_history_gives_nothing(self):
        """An empty summary history replays to no verdicts."""
        empty = pd.DataFrame(columns=["partition", "column", "statistic", "value"])
        assert backtest(empty) == []

    def test_detector_argument_is_not_mutated(self, history):
        """backtest clones the detector it is given."""
        detector = RobustDetector(false_alarms="1 per 365")
        backtest(history, detector)
        assert not [k for k in vars(detector) if k.endswith("_")]


class TestRollingQuantile:
    @pytest.mark.parametrize("window,q,min_periods", [(7, 0.5, 2), (56, 0.8, 14), (14, 0.5, 7)])
    def test_both_implementations_agree_exactly(self, window, q, min_periods):
        """The skip-list path (backtest) and the sort path (live) give identical numbers."""
        rng = np.random.default_rng(1)
        values = rng.normal(size=(150, 12))
        values[rng.random(values.shape) < 0.2] = np.nan
        values[:, 0] = np.round(values[:, 0])  # ties, as discrete statistics have
        a = _skiplist(values, window, q, min_periods)
        b = _sorted(values, window, q, 0, min_periods)
        np.testing.assert_array_equal(a, b)

    def test_uses_strictly_earlier_rows(self):
        """Row t's quantile ignores row t itself."""
        values = np.arange(10, dtype=float)[:, None]
        out = _sorted(values, 3, 0.5, 0, 1)
        assert np.isnan(out[0, 0]) and out[1, 0] == 0 and out[4, 0] == 2
