"""A gate asked again about partitions already checked, with nothing changed, keeps their
stored verdicts instead of judging them again; any change that could move a verdict
judges them again, and blocked partitions stay blocked on every ask."""

from __future__ import annotations

import os
import time

import pandas as pd

import watchkeeper as wk
from watchkeeper.alerts import feedback, incidents
from watchkeeper.detect import DETECTOR_VERSION, RobustDetector, base, detector_key
from watchkeeper.store.alerts import AlertLog
from watchkeeper.triggers.gate import gate_many

from gate_data import orders_frame


def _checked_at(days) -> dict:
    checked = AlertLog(wk.Project.find().store()).checked("orders")
    wanted = {pd.Timestamp(d) for d in days}
    return {p: t for p, t in zip(checked["partition"], checked["checked_at"]) if p in wanted}


class TestStandingVerdicts:
    def test_unchanged_partitions_keep_their_verdicts(self, orders):
        days = [orders.day(i) for i in range(20, 31)]
        first = gate_many("orders", days)
        before = _checked_at(days)
        assert len(before) == len(days)
        second = gate_many("orders", days)
        assert second == first and all(d.allowed for d in second)
        assert _checked_at(days) == before  # not judged again

    def test_blocked_partitions_stay_blocked_and_are_judged_again(self, orders):
        """A failed critical SLO (day 40) and a critical incident (day 45) block on every
        ask; they are judged again, so their incidents stay current."""
        days = [orders.day(40), orders.day(45)]
        first = gate_many("orders", days)
        before = _checked_at(days)
        second = gate_many("orders", days)
        assert [d.allowed for d in first] == [d.allowed for d in second] == [False, False]
        assert second == first
        assert [[r.kind for r in d.reasons] for d in second] == [["slo", "incident"],
                                                                 ["incident"]]
        after = _checked_at(days)
        assert all(after[p] > before[p] for p in before)
        assert len(incidents()) == len({i for d in second for i in d.incidents})

    def test_an_earlier_partition_changed_judges_later_ones_again(self, orders):
        """The history a verdict was judged against changed (day 25 re-profiled): the later
        partitions are judged again, the earlier ones keep theirs."""
        days = [orders.day(i) for i in (22, 28, 30)]
        gate_many("orders", days)
        before = _checked_at(days)
        frame = orders_frame()
        day25 = frame["order_date"] == frame["order_date"].unique()[25]
        frame = pd.concat([frame, frame[day25]], ignore_index=True)  # twice the rows
        time.sleep(0.01)
        frame.to_parquet(orders.root / "orders.parquet")
        gate_many("orders", days)
        after = _checked_at(days)
        assert after[pd.Timestamp(orders.day(22))] == before[pd.Timestamp(orders.day(22))]
        assert after[pd.Timestamp(orders.day(28))] > before[pd.Timestamp(orders.day(28))]
        assert after[pd.Timestamp(orders.day(30))] > before[pd.Timestamp(orders.day(30))]

    def test_feedback_or_an_edited_project_file_judges_again(self, orders):
        days = [orders.day(i) for i in range(26, 31)]
        gate_many("orders", days)
        before = _checked_at(days)
        gate_many("orders", [orders.day(45)])  # opens the day-45 incident
        feedback(incidents()[0].id, "ack", note="looking")
        gate_many("orders", days)
        after_feedback = _checked_at(days)
        assert all(after_feedback[p] > before[p] for p in before)
        later = time.time() + 2
        os.utime(wk.Project.find().path, (later, later))  # the settings changed
        gate_many("orders", days)
        assert all(t > after_feedback[p] for p, t in _checked_at(days).items())

    def test_a_detector_upgrade_judges_again(self, orders, monkeypatch):
        """A verdict stands only under the detector that judged it: a new detector version
        judges the partitions again once, and its verdicts then stand."""
        days = [orders.day(i) for i in range(26, 31)]
        gate_many("orders", days)
        before = _checked_at(days)
        gate_many("orders", days)
        assert _checked_at(days) == before
        monkeypatch.setattr(base, "DETECTOR_VERSION", DETECTOR_VERSION + 1)
        gate_many("orders", days)
        upgraded = _checked_at(days)
        assert all(upgraded[p] > before[p] for p in before)
        gate_many("orders", days)
        assert _checked_at(days) == upgraded

    def test_a_verdict_of_an_unknown_detector_is_judged_again(self, orders):
        """A verdict stored without its detector (by an older watchkeeper) does not stand."""
        days = [orders.day(i) for i in range(27, 31)]
        gate_many("orders", days)
        before = _checked_at(days)
        store = wk.Project.find().store()
        with store._connect() as db:
            db.execute("UPDATE wk_alert_checked SET detector = NULL WHERE table_name = ?",
                       ["orders"])
        gate_many("orders", days)
        assert all(t > before[p] for p, t in _checked_at(days).items())


class TestDetectorKey:
    def test_the_key_names_version_class_and_parameters(self, monkeypatch):
        key = detector_key(RobustDetector(window=56))
        assert key == detector_key(RobustDetector(window=56))
        assert key != detector_key(RobustDetector(window=28))
        monkeypatch.setattr(base, "DETECTOR_VERSION", DETECTOR_VERSION + 1)
        assert key != detector_key(RobustDetector(window=56))
