"""Live checking end to end on a stored history: incidents, events, feedback, exclusions."""

from __future__ import annotations

import pandas as pd
import pytest
from alert_histories import NUMERIC, day, make_history, save_history, shift

from watchkeeper.alerts import Status, check, feedback, incidents
from watchkeeper.detect import RobustDetector, Severity
from watchkeeper.errors import ConfigError, UnknownTableError


def _shifted(*cells, days: int = 90) -> pd.DataFrame:
    history = make_history(days)
    for partition, column, statistic, by in cells:
        history = shift(history, partition, column, statistic, by)
    return history


class TestCheck:
    def test_clean_partition_opens_nothing(self, project, store):
        """The newest partition of a steady history raises no incident and is marked checked."""
        save_history(store, "trips", make_history())
        result = check("trips", project, store=store)
        assert result.partitions == (day(89),)
        assert result.incidents == ()
        assert incidents(project, store=store, min_severity="info") == []

    def test_fault_opens_one_explained_incident(self, project, store):
        """A shifted mean opens one incident naming the column, with band and history."""
        save_history(store, "trips", _shifted((day(89), "fare", "mean", 40.0)))
        result = check("trips", project, store=store)
        [incident] = result.incidents
        assert incident.change == "opened" and incident.id is not None
        assert incident.severity is Severity.CRITICAL and incident.columns == ("fare",)
        top = incident.ranked_anomalies()[0]
        assert (top.column, top.statistic) == ("fare", "mean")
        assert not top.expected_low <= top.observed <= top.expected_high
        assert len(top.history) == 14 and top.history[-1][0] == "2024-03-29"

    def test_many_columns_are_one_incident(self, project, store):
        """Every column going wrong in one partition is one incident with an upstream cause."""
        cells = [(day(89), c, "null_fraction", 0.3) for c in NUMERIC]
        save_history(store, "trips", _shifted(*cells))
        [incident] = check("trips", project, store=store).incidents
        assert incident.columns == tuple(sorted(NUMERIC))
        assert "4 columns at once" in incident.cause

    def test_consecutive_partitions_extend_the_incident(self, project, store):
        """The same column failing on the next partition extends the open incident."""
        history = _shifted((day(88), "fare", "mean", 40.0), (day(89), "fare", "mean", 40.0))
        save_history(store, "trips", history)
        first = check("trips", project, store=store, partitions=[day(88)])
        second = check("trips", project, store=store, partitions=[day(89)])
        assert second.incidents[0].id == first.incidents[0].id
        assert second.incidents[0].change == "extended"
        assert second.incidents[0].partitions == (day(88), day(89))
        assert len(incidents(project, store=store)) == 1

    def test_recheck_updates_instead_of_duplicating(self, project, store):
        """Checking the same partition twice keeps one incident."""
        save_history(store, "trips", _shifted((day(89), "fare", "mean", 40.0)))
        check("trips", project, store=store)
        again = check("trips", project, store=store, partitions=[day(89)])
        assert again.incidents[0].change == "updated"
        assert len(incidents(project, store=store)) == 1

    def test_default_judges_only_partitions_not_yet_checked(self, project, store):
        """After a first check, the next one judges only partitions profiled since."""
        save_history(store, "trips", make_history(80))
        check("trips", project, store=store)
        save_history(store, "trips", make_history(83), only=[day(80), day(81), day(82)])
        assert check("trips", project, store=store).partitions == (day(80), day(81), day(82))

    def test_repaired_partition_resolves(self, project, store):
        """Re-profiled clean data resolves the incident it had opened."""
        save_history(store, "trips", _shifted((day(89), "fare", "mean", 40.0)))
        opened = check("trips", project, store=store).incidents[0]
        save_history(store, "trips", make_history(), only=[day(89)])
        result = check("trips", project, store=store)
        assert [(i.id, i.change, i.status) for i in result.incidents] == [
            (opened.id, "resolved", Status.RESOLVED)]

    def test_unknown_table_and_partition_are_user_errors(self, project, store):
        """A table never profiled, or a partition not stored, raises a user error."""
        with pytest.raises(UnknownTableError, match="wk profile"):
            check("nope", project, store=store)
        save_history(store, "trips", make_history())
        with pytest.raises(ConfigError, match="no stored partition"):
            check("trips", project, store=store, partitions=["2030-01-01"])


class TestRankingByUsage:
    def test_widely_used_table_ranks_first(self, project):
        """Of two equal incidents, the one on a table with consumers ranks higher."""
        from watchkeeper.config import TableSpec

        project.tables["busy"] = TableSpec("busy", "x.parquet", "d", consumers=("a", "b", "c"))
        project.save()
        store = project.store()
        for name in ("quiet", "busy"):
            save_history(store, name, _shifted((day(89), "fare", "mean", 40.0)))
            check(name, project, store=store)
        ranked = incidents(project, store=store)
        assert [i.table for i in ranked] == ["busy", "quiet"]
        assert ranked[0].impact > ranked[1].impact and ranked[0].consumers == 3


class TestEvents:
    def test_incident_events_reach_triggers(self, project, tmp_path, monkeypatch):
        """incident.opened fires on a new warning incident; incident.resolved on resolve."""
        (tmp_path / "wk_sink.py").write_text(
            "SEEN = []\ndef record(event):\n    SEEN.append(event)\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        project.extra["triggers"] = {"page": {
            "event": "incident.opened", "severity": "warning",
            "actions": [{"python": {"function": "wk_sink:record"}}]}, "closed": {
            "event": "incident.resolved", "actions": [{"python": {"function": "wk_sink:record"}}]}}
        project.save()
        import wk_sink

        save_history(project.store(), "trips", _shifted((day(89), "fare", "mean", 40.0)))
        [incident] = check("trips", project).incidents
        feedback(incident.id, "resolve", note="fixed upstream", project=project)
        assert [(e.type, e.incident_id, e.severity) for e in wk_sink.SEEN] == [
            ("incident.opened", str(incident.id), "critical"),
            ("incident.resolved", str(incident.id), "critical")]
        assert wk_sink.SEEN[0].context["columns"] == ["fare"]

    def test_info_incidents_do_not_notify(self, project, tmp_path, monkeypatch):
        """An info-only incident is recorded but fires no event."""
        (tmp_path / "wk_sink2.py").write_text(
            "SEEN = []\ndef record(event):\n    SEEN.append(event)\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        sink = {"python": {"function": "wk_sink2:record"}}
        project.extra["triggers"] = {"all": {"event": "incident.opened", "actions": [sink]}}
        project.save()
        import wk_sink2

        save_history(project.store(), "trips", _shifted((day(89), "amount", "mean", 4.0)))
        result = check("trips", project)
        assert [i.severity for i in result.incidents] == [Severity.INFO]
        assert wk_sink2.SEEN == [] and result.fired == ()

    def test_broken_triggers_fail_before_storing(self, project):
        """A malformed triggers: section is a ConfigError and no incident is stored."""
        project.extra["triggers"] = {"page": {"event": "incident.opened", "actions": []}}
        project.save()
        save_history(project.store(), "trips", _shifted((day(89), "fare", "mean", 40.0)))
        with pytest.raises(ConfigError):
            check("trips", project)
        assert incidents(project, min_severity="info") == []


class TestFeedback:
    def test_false_positive_tolerates_the_same_deviation_only(self, project, store):
        """After a false positive, the same deviation stays below warning; one three times as
        far (beyond what twice-seen deviations make familiar) pages."""
        history = _shifted((day(80), "amount", "mean", 6.0), (day(81), "amount", "mean", 6.0),
                           (day(82), "amount", "mean", 18.0))
        save_history(store, "trips", history)
        [first] = check("trips", project, store=store, partitions=[day(80)]).incidents
        assert first.severity is Severity.WARNING
        closed = feedback(first.id, "false-positive", note="promo day", project=project,
                          store=store)
        assert closed.status is Status.FALSE_POSITIVE and not closed.confirmed
        again = check("trips", project, store=store, partitions=[day(80)]).incidents
        assert all(i.severity < Severity.WARNING for i in again)  # the marked one is quiet
        same = check("trips", project, store=store, partitions=[day(81)]).incidents
        assert [i.severity for i in same] == [Severity.INFO]
        note = same[0].anomalies[0].note
        assert note.startswith("band widened ×") and f"#{first.id} by alice" in note
        larger = check("trips", project, store=store, partitions=[day(82)]).incidents
        assert larger[0].severity >= Severity.WARNING

    def test_feedback_is_stored_with_user_and_time(self, project, store):
        """ack records the user ($WK_USER) and time, and confirms the incident."""
        from watchkeeper.store.alerts import AlertLog

        save_history(store, "trips", _shifted((day(89), "fare", "mean", 40.0)))
        [incident] = check("trips", project, store=store).incidents
        acked = feedback(incident.id, "ack", note="looking", project=project, store=store)
        assert acked.status is Status.ACKNOWLEDGED and acked.confirmed
        row = AlertLog(store).feedback(incident.id).iloc[0]
        assert (row["action"], row["user_name"], row["note"]) == ("ack", "alice", "looking")
        assert pd.Timestamp(row["created_at"]) > pd.Timestamp("2024-01-01")

    def test_confirmed_and_slo_partitions_are_excluded_from_learning(self, project, store,
                                                                     monkeypatch):
        """fit() receives the partitions of confirmed incidents and of failed critical SLOs."""
        from watchkeeper.store.slo_results import save_results

        save_history(store, "trips", _shifted((day(85), "fare", "mean", 40.0)))
        [incident] = check("trips", project, store=store, partitions=[day(85)]).incidents
        feedback(incident.id, "resolve", project=project, store=store)
        save_results(store, "trips", pd.DataFrame([{
            "check": "fare_positive", "kind": "between", "column": "fare",
            "severity": "critical", "partition": day(86), "passed": False, "observed": None,
            "unexpected_count": 3, "element_count": 500, "unexpected_fraction": 0.006,
            "sample": None, "error": None}]))
        seen = []
        original = RobustDetector.fit
        monkeypatch.setattr(RobustDetector, "fit", lambda self, history, exclude=None: (
            seen.append(sorted(exclude or [])), original(self, history, exclude))[1])
        check("trips", project, store=store, partitions=[day(89)])
        assert seen == [[day(85), day(86)]]

    def test_critical_slo_failure_is_a_critical_incident(self, project, store):
        """A failed critical SLO on the judged partition opens a critical incident."""
        from watchkeeper.store.slo_results import save_results

        save_history(store, "trips", make_history())
        save_results(store, "trips", pd.DataFrame([{
            "check": "fare_not_null", "kind": "not_null", "column": "fare",
            "severity": "critical", "partition": day(89), "passed": False, "observed": None,
            "unexpected_count": 9, "element_count": 500, "unexpected_fraction": 0.018,
            "sample": None, "error": None}]))
        [incident] = check("trips", project, store=store).incidents
        assert incident.severity is Severity.CRITICAL
        assert "SLO fare_not_null failed" in incident.cause

    def test_confirming_every_alert_does_not_run_away(self, project):
        """A lasting level shift confirmed bad for 60 days is learned as normal in the end."""
        from watchkeeper.alerts import records

        store = project.store()
        history = make_history(150)
        shifted = (history["column"] == "amount") & history["statistic"].isin(
            ["mean", "p25", "p50", "p75"]) & (history["partition"] >= day(60))
        history.loc[shifted, "value"] += 15.0
        save_history(store, "trips", history)
        [first] = check("trips", project, store=store, partitions=[day(60)]).incidents
        assert first.severity >= Severity.WARNING
        # The team confirms the shift as bad every day for two months.
        records.save(store, first.with_(partitions=tuple(day(i) for i in range(60, 120)),
                                        status=Status.ACKNOWLEDGED, confirmed=True))
        # Excluded from learning, the shift still looks wrong two weeks in...
        during = check("trips", project, store=store, partitions=[day(75)]).verdicts
        assert during[0].severity >= Severity.WARNING
        # ...but the exclusions are capped, so the new level becomes normal in the end.
        later = check("trips", project, store=store, partitions=[day(i) for i in
                                                                  range(120, 150)])
        assert len(later.verdicts) == 30 and all(v.judged for v in later.verdicts)
        assert [i for i in later.incidents if i.severity >= Severity.WARNING] == []
