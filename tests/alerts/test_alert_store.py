"""store/alerts.py and the incident records on DuckDB and Postgres stores."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from alert_histories import day, make_history, save_history

from watchkeeper.alerts import Anomaly, Incident, Status, UnknownIncidentError, records
from watchkeeper.alerts.tolerance import tolerance_step
from watchkeeper.detect import Severity
from watchkeeper.errors import ConfigError
from watchkeeper.store import SCHEMA_VERSION
from watchkeeper.store.alerts import AlertLog


def _incident(partitions=(day(3), day(4))) -> Incident:
    anomalies = (
        Anomaly("trips", day(3), "fare", "mean", 61.5, 48.0, 52.0, 9.25,
                severity=Severity.WARNING,
                history=(("2024-01-02", 50.1), ("2024-01-03", math.nan))),
        Anomaly("trips", day(4), "fare name", "not_null", math.nan, source="slo",
                severity=Severity.CRITICAL, check="fare's check", score=0.02),
    )
    return Incident("trips", tuple(partitions), anomalies, Severity.CRITICAL, 9.25,
                    cause="column fare", consumers=2, impact=18.5)


class TestIncidentRecords:
    def test_schema_is_at_least_five(self, store):
        """Migration 5 (alerts) is applied when the store opens."""
        assert store.schema_version() == SCHEMA_VERSION >= 5

    def test_round_trip(self, store):
        """An incident saved and loaded back keeps partitions, anomalies, NaNs and history."""
        saved = records.save(store, _incident())
        assert saved.id == 1 and saved.opened_at is not None
        again = records.load(store, "#1")
        assert again.partitions == (day(3), day(4))
        assert (again.severity, again.score, again.cause, again.consumers) == (
            Severity.CRITICAL, 9.25, "column fare", 2)
        slo, det = sorted(again.anomalies, key=lambda a: a.source, reverse=True)
        assert (det.column, det.observed, det.history[0]) == ("fare", 61.5, ("2024-01-02", 50.1))
        assert math.isnan(det.history[1][1])
        assert (slo.column, slo.check, slo.severity) == ("fare name", "fare's check",
                                                          Severity.CRITICAL)
        assert math.isnan(slo.observed) and math.isnan(slo.expected_low)

    def test_save_again_replaces(self, store):
        """Saving an incident with its id rewrites it; ids keep counting up."""
        first = records.save(store, _incident())
        records.save(store, first.with_(partitions=(day(3),), anomalies=first.anomalies[:1]))
        second = records.save(store, _incident((day(8),)))
        assert second.id == 2
        assert len(records.load(store, first.id).anomalies) == 1
        assert records.load(store, first.id).opened_at == first.opened_at

    def test_unknown_or_bad_id(self, store):
        """An id that is not stored, or not a number, is a user error naming the fix."""
        with pytest.raises(UnknownIncidentError, match="no incident #5"):
            records.load(store, 5)
        with pytest.raises(UnknownIncidentError, match="not a number"):
            records.load(store, "five")

    def test_load_all_filters(self, store):
        """Active incidents by default; closed ones on request; by table and partition."""
        one = records.save(store, _incident())
        two = records.save(store, _incident((day(9),)))
        records.give_feedback(store, two.id, "false_positive", user="bob")
        assert [i.id for i in records.load_all(store)] == [one.id]
        assert [i.id for i in records.load_all(store, active=False)] == [one.id, two.id]
        assert [i.id for i in records.load_all(store, active=False, partitions=[day(9)])
                ] == [two.id]
        assert records.load_all(store, table="other") == []


class TestFeedbackRecords:
    def test_false_positive_records_steps(self, store):
        """A false positive stores a tolerance step per paging detector series, with the user."""
        inc = records.save(store, _incident())
        after = records.give_feedback(store, inc.id, "false-positive", note="ok", user="bob",
                                      warning=7.0)
        assert after.status is Status.FALSE_POSITIVE and after.resolved_at is not None
        steps = AlertLog(store).tolerances("trips")
        assert list(zip(steps["column"], steps["statistic"], steps["user_name"])) == [
            ("fare", "mean", "bob")]
        assert steps["multiplier"].iloc[0] == pytest.approx(tolerance_step(9.25, 7.0))

    def test_confirmed_partitions_are_invalid(self, store):
        """ack and resolve make partitions invalid for learning; false positive does not."""
        a = records.save(store, _incident((day(3),)))
        b = records.save(store, _incident((day(5),)))
        c = records.save(store, _incident((day(7),)))
        records.give_feedback(store, a.id, "ack", user="x")
        records.give_feedback(store, b.id, "resolve", user="x")
        records.give_feedback(store, c.id, "ack", user="x")
        records.give_feedback(store, c.id, "false_positive", user="x")
        assert AlertLog(store).invalid_partitions("trips") == [day(3), day(5)]
        assert list(AlertLog(store).feedback(c.id)["action"]) == ["ack", "false_positive"]

    def test_unknown_action(self, store):
        """Feedback other than ack, resolve, false-positive is refused."""
        inc = records.save(store, _incident())
        with pytest.raises(ConfigError, match="unknown feedback 'close'"):
            records.give_feedback(store, inc.id, "close")


class TestCheckedPartitions:
    def test_unchecked_are_new_or_reprofiled(self, store):
        """Never-checked partitions after the first checked one, and re-profiled ones."""
        log = AlertLog(store)
        save_history(store, "trips", make_history(6))
        log.mark_checked("trips", [(day(3).to_pydatetime(), "ok"),
                                   (day(4).to_pydatetime(), "warning")])
        assert log.unchecked("trips") == [day(5)]
        save_history(store, "trips", make_history(6), only=[day(3)])
        assert log.unchecked("trips") == [day(3), day(5)]
        assert list(log.checked("trips")["severity"]) == ["ok", "warning"]
        assert isinstance(log.checked("trips")["partition"].iloc[0], pd.Timestamp)
