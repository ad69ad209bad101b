"""``watchkeeper.gate``: the default rules, trigger blocks, overrides and no look-ahead."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

import watchkeeper as wk
from watchkeeper.alerts import feedback, incidents
from watchkeeper.errors import ConfigError, EmptySourceError, UnknownTableError
from watchkeeper.store.slo_results import load_results

from gate_data import make_project, orders_frame

BLOCK_WARNINGS = {"no-training-on-warnings": {
    "event": "train.before", "table": "orders", "severity": "warning",
    "actions": [{"block": {"reason": "a warning is enough for training"}}]}}


class TestGateDefaults:
    def test_clean_partition_is_allowed_with_no_reasons(self, orders):
        """A partition that is fine: allowed, no reasons, severity ok, and truthy."""
        decision = wk.gate("orders", orders.day(30))
        assert decision == wk.GateDecision(True, [], orders.day(30), "orders", "train")
        assert bool(decision) is True

    def test_failed_critical_slo_blocks_and_is_stored(self, orders):
        """A failed critical check blocks, names the check, and its verdict is in the store."""
        decision = wk.gate("orders", orders.day(40), for_="serve")
        assert not decision.allowed and decision.for_ == "serve"
        slo = [r for r in decision.reasons if r.kind == "slo"]
        assert [(r.check, r.severity) for r in slo] == [("items_positive", "critical")]
        stored = load_results(wk.Project.find().store(), "orders", check="items_positive")
        row = stored[stored["partition"] == pd.Timestamp(orders.day(40))]
        assert row["passed"].tolist() == [False]

    def test_critical_incident_blocks(self, orders):
        """An injected fault the detector finds (no SLO covers it) blocks via its incident."""
        decision = wk.gate("orders", orders.day(45))
        [reason] = decision.reasons
        assert reason.kind == "incident" and reason.incident_id == decision.incidents[0]
        assert "amount null_fraction" in str(reason)
        assert [i.id for i in incidents()] == decision.incidents  # the alerts list it too

    def test_warning_alone_does_not_block(self, orders):
        """A failed warning check is reported as the severity but does not block by default."""
        decision = wk.gate("orders", orders.day(35))
        assert decision.allowed and decision.reasons == []
        assert decision.severity == "warning"

    def test_asking_twice_gives_the_same_answer_and_one_incident(self, orders):
        """The gate is idempotent: a retried pipeline sees the same decision, one incident."""
        first = wk.gate("orders", orders.day(45))
        second = wk.gate("orders", orders.day(45))
        assert first == second
        assert len(incidents()) == 1


class TestGateOverrides:
    def test_resolving_the_incident_lets_the_partition_through(self, orders):
        """A person closing the incident lifts its block; the waiver names who."""
        blocked = wk.gate("orders", orders.day(45))
        feedback(blocked.incidents[0], "resolve", note="backfilled upstream")
        allowed = wk.gate("orders", orders.day(45))
        assert allowed.allowed and allowed.reasons == []
        [waived] = allowed.waived
        assert waived.incident_id == blocked.incidents[0] and "resolved by alice" in str(waived)

    def test_false_positive_waives_the_critical_slo_it_lists(self, orders):
        """Closing the incident that holds a failed critical check waives that check here."""
        blocked = wk.gate("orders", orders.day(40))
        feedback(blocked.incidents[0], "false-positive", note="-1 means a return")
        allowed = wk.gate("orders", orders.day(40))
        assert allowed.allowed
        assert "items_positive" in {r.check for r in allowed.waived}

    def test_acknowledging_does_not_let_it_through(self, orders):
        """ack says "seen", not "fine": the incident stays active and still blocks."""
        blocked = wk.gate("orders", orders.day(45))
        feedback(blocked.incidents[0], "ack")
        assert not wk.gate("orders", orders.day(45)).allowed


class TestGateTriggers:
    def test_block_action_on_warning_blocks_training_only(self, tmp_path, monkeypatch):
        """A train.before trigger with block at severity warning blocks a warning partition,
        with the trigger's name; serving is not affected."""
        monkeypatch.chdir(tmp_path)
        orders = make_project(tmp_path, triggers=BLOCK_WARNINGS)
        decision = wk.gate("orders", orders.day(35))
        [reason] = decision.reasons
        assert (reason.kind, reason.trigger) == ("trigger", "no-training-on-warnings")
        assert "a warning is enough for training" in str(reason)
        assert wk.gate("orders", orders.day(35), for_="serve").allowed
        assert wk.gate("orders", orders.day(30)).allowed  # severity ok: no match

    def test_event_carries_table_partition_severity_incident_and_checks(self, tmp_path,
                                                                        monkeypatch):
        """train.before reaches a sql action with the partition's findings as parameters."""
        monkeypatch.chdir(tmp_path)
        with duckdb.connect(str(tmp_path / "audit.duckdb")) as db:
            db.execute("CREATE TABLE gates (t TEXT, p TEXT, sev TEXT, inc TEXT, checks TEXT, "
                       "purpose TEXT)")
        audit = {"audit-gates": {"event": "train.before", "actions": [{"sql": {
            "database": "audit.duckdb",
            "statement": "INSERT INTO gates VALUES (?, ?, ?, ?, ?, ?)",
            "params": ["table", "partition", "severity", "incident_id",
                       "context.failed_checks", "context.for"]}}]}}
        orders = make_project(tmp_path, triggers=audit)
        decision = wk.gate("orders", orders.day(40))
        with duckdb.connect(str(tmp_path / "audit.duckdb")) as db:
            rows = db.execute("SELECT * FROM gates").fetchall()
        assert rows == [("orders", orders.day(40), "critical", str(decision.incidents[0]),
                         '["items_positive"]', "train")]


class TestGateInput:
    def test_unknown_table_is_a_user_error(self, orders):
        """A name that is neither registered nor a path raises UnknownTableError."""
        with pytest.raises(UnknownTableError, match="'nope' is not a registered table"):
            wk.gate("nope", orders.day(1))

    def test_partition_outside_the_source_is_a_user_error(self, orders):
        """A partition the source has no rows for raises, naming the range it has."""
        with pytest.raises(EmptySourceError, match="run from 2023-01-02 to 2023-02-20"):
            wk.gate("orders", "2024-01-01")

    @pytest.mark.parametrize("partition, for_", [("yesterday", "train"),
                                                 ("2023-02-01", "eval")])
    def test_malformed_arguments_are_config_errors(self, orders, partition, for_):
        """A date that does not parse, or a purpose other than train/serve, is a ConfigError."""
        with pytest.raises(ConfigError):
            wk.gate("orders", partition, for_=for_)

    def test_a_frame_can_be_gated_with_its_partition_column(self, orders):
        """source= (e.g. a managed table's version) is gated under the given table name."""
        frame = orders_frame()
        decision = wk.gate("orders_frame", orders.day(45), source=frame,
                           partition_column="order_date")
        assert not decision.allowed and decision.table == "orders_frame"


class TestNoLookAhead:
    def test_fault_in_a_later_partition_does_not_block_an_earlier_one(self, orders):
        """Gating the broken day 45 first, then day 44: day 44 is still judged clean."""
        assert not wk.gate("orders", orders.day(45)).allowed
        earlier = wk.gate("orders", orders.day(44))
        assert earlier.allowed and earlier.severity == "ok"

    def test_an_incident_extended_later_does_not_block_its_first_partition(self, orders):
        """Day 42's warning incident is extended by day 43's critical anomaly; day 42 is
        judged by its own anomalies only and stays allowed."""
        assert wk.gate("orders", orders.day(42)).allowed
        later = wk.gate("orders", orders.day(43))
        assert not later.allowed and later.incidents == wk.gate("orders", orders.day(42)
                                                                 ).incidents
        again = wk.gate("orders", orders.day(42))
        assert again.allowed and again.severity == "warning"

    def test_decision_is_the_same_without_the_later_partitions(self, orders, tmp_path):
        """Day 44 gets the same decision whether or not the broken later days exist."""
        with_later = wk.gate("orders", orders.day(44))
        alone = tmp_path / "alone"
        alone.mkdir()
        cut = make_project(alone, orders_frame(last_day=44))
        assert wk.gate("orders", cut.day(44), project=alone) == with_later


class TestGateMany:
    def test_many_partitions_answer_like_one_at_a_time(self, orders, tmp_path):
        """gate_many (one profile, one SLO scan, one check) answers each partition as gate."""
        from watchkeeper.triggers.gate import gate_many

        days = [orders.day(45), orders.day(30), orders.day(40)]
        together = gate_many("orders", days)
        assert [d.partition for d in together] == sorted(days)
        other = tmp_path / "one_by_one"
        other.mkdir()
        make_project(other)
        alone = [wk.gate("orders", d, project=other) for d in sorted(days)]
        summary = [(d.allowed, d.severity, [r.kind for r in d.reasons]) for d in together]
        assert summary == [(d.allowed, d.severity, [r.kind for r in d.reasons]) for d in alone]
        assert [d.allowed for d in together] == [True, False, False]

    def test_a_single_text_partition_is_one_partition(self, orders):
        """A lone date string is one partition, not a sequence of characters."""
        from watchkeeper.triggers.gate import gate_many

        assert [d.partition for d in gate_many("orders", orders.day(30))] == [orders.day(30)]
