"""The processor chain, one processor at a time, on hand-made batches (no store, no engine)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from alert_histories import day, make_history

from watchkeeper.alerts import Anomaly, Batch, Incident, Status, Tolerance, build_chain, run_chain
from watchkeeper.alerts import processors as p
from watchkeeper.alerts.tolerance import MUTED, mutes_of, tolerance_step, tolerances_of
from watchkeeper.detect._calibration import TAIL_INDEX
from watchkeeper.detect import Explanation, Severity, Verdict
from watchkeeper.errors import ConfigError


def _anomaly(column="fare", statistic="mean", score=9.0, partition=day(10), **kw) -> Anomaly:
    return Anomaly("trips", partition, column, statistic, 60.0, 45.0, 55.0, score, **kw)


def _verdict(partition, *explained) -> Verdict:
    columns = tuple(Explanation(c, s, 60.0, 45.0, 55.0, z) for c, s, z in explained)
    return Verdict(partition, Severity.WARNING, max(z for *_, z in explained), columns)


class TestDetectorAnomalies:
    def test_tolerance_reported_by_the_detector_is_kept(self):
        """The band multiplier an explanation carries becomes the anomaly's tolerance."""
        explained = Explanation("fare", "mean", 60.0, 40.0, 60.0, 4.5, 2.0)
        batch = Batch("trips", verdicts=(Verdict(day(1), Severity.INFO, 4.5, (explained,)),))
        assert p.detector_anomalies(batch).anomalies[0].tolerance == 2.0

    def test_one_anomaly_per_explanation(self):
        """Each explained (column, statistic) of a judged verdict becomes an anomaly."""
        batch = Batch("trips", verdicts=(_verdict(day(1), ("fare", "mean", 9.0),
                                                  ("tip", "p50", 5.0)),
                                         Verdict(day(2), Severity.OK, 0.0, judged=False)))
        found = p.detector_anomalies(batch).anomalies
        assert [(a.column, a.statistic, a.score) for a in found] == [("fare", "mean", 9.0),
                                                                     ("tip", "p50", 5.0)]


class TestSloAnomalies:
    def test_failed_checks_keep_their_declared_severity(self):
        """Only failed checks count, and a critical check makes a critical anomaly."""
        frame = pd.DataFrame([
            {"check": "fare_ok", "kind": "between", "column": "fare", "severity": "critical",
             "partition": day(1), "passed": False, "observed": None, "unexpected_fraction": 0.1},
            {"check": "tip_ok", "kind": "not_null", "column": "tip", "severity": "warning",
             "partition": day(1), "passed": True, "observed": None, "unexpected_fraction": 0.0}])
        [a] = p.slo_anomalies(Batch("trips", slo_results=frame)).anomalies
        assert (a.source, a.check, a.severity, a.observed) == ("slo", "fare_ok",
                                                               Severity.CRITICAL, 0.1)


class TestAssignSeverity:
    def test_levels_grade_and_drop(self):
        """Scores map to info / warning / critical at the levels; below info is dropped."""
        batch = Batch("trips", levels=(4.0, 7.0, 14.0), anomalies=tuple(
            _anomaly(column=c, score=s) for c, s in [("a", 3.0), ("b", 5.0), ("c", 8.0),
                                                     ("d", 20.0)]))
        graded = p.assign_severity(batch).anomalies
        assert [(a.column, a.severity) for a in graded] == [
            ("b", Severity.INFO), ("c", Severity.WARNING), ("d", Severity.CRITICAL)]

    def test_parameters_override_levels(self):
        """A declared critical level replaces the detector's."""
        batch = Batch("trips", anomalies=(_anomaly(score=8.0),))
        assert p.assign_severity(batch, critical=8.0).anomalies[0].severity is Severity.CRITICAL

    def test_slo_severity_is_kept(self):
        """An SLO anomaly is not re-graded by score."""
        batch = Batch("trips", anomalies=(_anomaly(score=0.0, source="slo",
                                                   severity=Severity.CRITICAL),))
        assert p.assign_severity(batch).anomalies[0].severity is Severity.CRITICAL


class TestApplyTolerances:
    def test_widens_band_and_lowers_score(self):
        """A ×2 tolerance takes TAIL_INDEX bits off the score (the tail falls as distance to
        the -TAIL_INDEX), doubles the band around its center, and says why."""
        batch = Batch("trips", anomalies=(_anomaly(),),
                      tolerances={("fare", "mean"): Tolerance(2.0, "band widened ×2 after #3")})
        [a] = p.apply_tolerances(batch).anomalies
        assert (a.score, a.expected_low, a.expected_high) == (9.0 - TAIL_INDEX, 40.0, 60.0)
        assert a.tolerance == 2.0 and a.note == "band widened ×2 after #3"

    def test_band_the_detector_widened_is_not_widened_twice(self):
        """An anomaly the detector already scored with the tolerance only gets its note."""
        batch = Batch("trips", anomalies=(_anomaly(tolerance=2.0),),
                      tolerances={("fare", "mean"): Tolerance(2.0, "band widened ×2 after #3")})
        [a] = p.apply_tolerances(batch).anomalies
        assert (a.score, a.expected_low, a.expected_high) == (9.0, 45.0, 55.0)
        assert a.note == "band widened ×2 after #3"

    def test_other_series_untouched(self):
        """A tolerance on one statistic does not touch another of the same column."""
        batch = Batch("trips", anomalies=(_anomaly(statistic="p50"),),
                      tolerances={("fare", "mean"): Tolerance(2.0, "x")})
        assert p.apply_tolerances(batch).anomalies[0].score == 9.0


class TestTolerance:
    def test_step_takes_just_enough_bits_off(self):
        """A score is bits of surprise falling as ratio ** -TAIL_INDEX beyond its anchor: the
        step takes the bits above warning plus one off, and is at least 1.25."""
        step = tolerance_step(20.0, 7.0)
        assert TAIL_INDEX * math.log2(step) == pytest.approx(20.0 - 7.0 + 1.0)
        assert tolerance_step(6.5, 7.0) == 1.25
        assert tolerance_step(60.0, 7.0) > tolerance_step(20.0, 7.0)  # never a cap

    def test_steps_multiply_with_names(self):
        """Steps of one series multiply and list every incident and user."""
        steps = pd.DataFrame({"column": ["fare"] * 3, "statistic": ["mean"] * 3,
                              "multiplier": [3.0, 3.0, 3.0], "incident_id": [1, 4, 9],
                              "user_name": ["alice", "bob", "alice"]})
        tol = tolerances_of(steps)[("fare", "mean")]
        assert tol.multiplier == 27.0
        assert tol.note == ("band widened ×27 after false positives #1 by alice, "
                            "#4 by bob, #9 by alice")

    def test_mutes_are_steps_of_infinity(self):
        """A mute is stored as an infinite step: listed by mutes_of, never a tolerance."""
        steps = pd.DataFrame({"column": ["fare", "tip", "fare"],
                              "statistic": ["*", "p99", "mean"],
                              "multiplier": [MUTED, MUTED, 2.0], "incident_id": [0, 0, 3],
                              "user_name": ["alice"] * 3})
        assert mutes_of(steps) == ["fare", "tip.p99"]
        assert set(tolerances_of(steps)) == {("fare", "mean")}


class TestGroupByPartition:
    def test_one_incident_per_partition(self):
        """Anomalies of one partition share one incident; another partition gets its own."""
        batch = Batch("trips", anomalies=(
            _anomaly("fare", severity=Severity.WARNING),
            _anomaly("tip", severity=Severity.CRITICAL, score=20.0),
            _anomaly("fare", partition=day(12), severity=Severity.INFO)))
        made = p.group_by_partition(batch).incidents
        assert [(i.partitions, i.columns, i.severity, i.score) for i in made] == [
            ((day(10),), ("fare", "tip"), Severity.CRITICAL, 20.0),
            ((day(12),), ("fare",), Severity.INFO, 9.0)]

    def test_cause_names_a_wide_or_volume_problem(self):
        """Many columns at once, or the row count, point at one upstream cause."""
        history = make_history(3)  # four numeric columns
        cols = ("amount", "fare", "tip")
        batch = Batch("trips", history=history, anomalies=tuple(
            _anomaly(c, severity=Severity.WARNING) for c in cols) + (
            _anomaly("*", "row_count", severity=Severity.WARNING),))
        cause = p.group_by_partition(batch).incidents[0].cause
        assert cause.startswith("row count changed") and "3 columns at once" in cause


class TestMergeOngoing:
    def _open(self, partition, column="fare", status=Status.OPEN) -> Incident:
        a = _anomaly(column, partition=partition, severity=Severity.WARNING)
        return Incident("trips", (partition,), (a,), Severity.WARNING, 9.0, id=7, status=status)

    def _batch(self, known, *anomalies):
        history = make_history(20)
        batch = Batch("trips", history=history, known=tuple(known),
                      anomalies=tuple(anomalies), judged=tuple({a.partition for a in anomalies}))
        return p.merge_ongoing(p.group_by_partition(batch))

    def test_next_partition_same_columns_extends(self):
        """The same column on the next partition extends the open incident."""
        [inc] = self._batch([self._open(day(9))], _anomaly(severity=Severity.WARNING)
                            ).incidents
        assert (inc.id, inc.change, inc.partitions) == (7, "extended", (day(9), day(10)))

    def test_escalation_is_named(self):
        """Extending with a worse anomaly is an escalation."""
        [inc] = self._batch([self._open(day(9))], _anomaly(severity=Severity.CRITICAL,
                                                           score=30.0)).incidents
        assert (inc.change, inc.severity) == ("escalated", Severity.CRITICAL)

    def test_other_columns_or_gaps_open_new(self):
        """A different column, or a partition further away, opens a new incident."""
        assert self._batch([self._open(day(9))], _anomaly("tip", severity=Severity.WARNING)
                           ).incidents[0].id is None
        assert self._batch([self._open(day(7))], _anomaly(severity=Severity.WARNING)
                           ).incidents[0].id is None

    def test_closed_incident_is_not_reopened(self):
        """Re-checking a partition a person already closed adds nothing."""
        known = [self._open(day(10), status=Status.FALSE_POSITIVE)]
        assert self._batch(known, _anomaly(severity=Severity.WARNING)).incidents == ()

    def test_consecutive_new_partitions_merge(self):
        """Two new consecutive partitions with the same column are one incident."""
        made = self._batch([], _anomaly(partition=day(10), severity=Severity.WARNING),
                           _anomaly(partition=day(11), severity=Severity.WARNING)).incidents
        assert [(i.partitions, i.change) for i in made] == [((day(10), day(11)), "opened")]


class TestRank:
    def test_severity_then_impact(self):
        """Critical first; among equals the higher score first; consumers scale impact."""
        incs = (Incident("t", (day(1),), (), Severity.WARNING, 50.0),
                Incident("t", (day(2),), (), Severity.CRITICAL, 15.0),
                Incident("t", (day(3),), (), Severity.WARNING, 8.0))
        ranked = p.rank(Batch("t", incidents=incs, consumers=3)).incidents
        assert [i.score for i in ranked] == [15.0, 50.0, 8.0]
        assert ranked[1].impact == pytest.approx(50.0 * (1 + math.log2(4)))


class TestExplain:
    def test_history_is_the_points_before(self):
        """Each anomaly gets its series' values just before its partition, oldest first."""
        history = make_history(20)
        inc = Incident("trips", (day(15),), (_anomaly("fare", "mean", partition=day(15)),))
        [done] = p.explain(Batch("trips", history=history, incidents=(inc,)), points=3
                           ).incidents
        hist = done.anomalies[0].history
        want = history[(history["column"] == "fare") & (history["statistic"] == "mean")]
        assert [h[0] for h in hist] == ["2024-01-13", "2024-01-14", "2024-01-15"]
        assert [h[1] for h in hist] == list(want["value"].iloc[12:15])


class TestResolveRecovered:
    def test_clean_recheck_resolves(self):
        """An open incident whose partition was judged again with no anomaly resolves."""
        inc = Incident("trips", (day(10),), (_anomaly(),), Severity.WARNING, id=3)
        out = p.resolve_recovered(Batch("trips", known=(inc,), judged=(day(10),))).incidents
        assert [(i.id, i.status, i.change) for i in out] == [(3, Status.RESOLVED, "resolved")]

    def test_not_judged_stays_open(self):
        """An incident whose partitions were not judged this run is left alone."""
        inc = Incident("trips", (day(10),), (_anomaly(),), Severity.WARNING, id=3)
        assert p.resolve_recovered(Batch("trips", known=(inc,), judged=(day(11),))
                                   ).incidents == ()


class TestBuildChain:
    def test_declared_chain_with_parameters(self):
        """Names and {name: params} build a chain; an empty chain changes nothing."""
        chain = build_chain(["detector_anomalies", {"assign_severity": {"critical": 8.0}},
                             "group_by_partition"])
        batch = run_chain(Batch("trips", verdicts=(_verdict(day(1), ("fare", "mean", 9.0)),)),
                          chain)
        assert batch.incidents[0].severity is Severity.CRITICAL
        assert run_chain(Batch("x"), build_chain([])) == Batch("x")

    def test_import_path(self, tmp_path, monkeypatch):
        """module:function adds a processor of your own."""
        (tmp_path / "wk_proc.py").write_text(
            "import dataclasses\n"
            "def mute(batch, column):\n"
            "    return dataclasses.replace(batch, anomalies=tuple(\n"
            "        a for a in batch.anomalies if a.column != column))\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        chain = build_chain(["detector_anomalies", {"wk_proc:mute": {"column": "fare"}}])
        verdict = _verdict(day(1), ("fare", "mean", 9.0), ("tip", "mean", 8.0))
        assert [a.column for a in run_chain(Batch("t", verdicts=(verdict,)), chain).anomalies
                ] == ["tip"]

    @pytest.mark.parametrize("spec, message", [
        (["nope"], "unknown alerts processor 'nope'"),
        ([{"rank": {"bogus": 1}}], "bad parameters"),
        ([{"rank": 3}], "must be a name"),
        (["no_such_module_xyz:f"], "cannot be imported"),
    ])
    def test_bad_declarations_are_config_errors(self, spec, message):
        """A wrong name or parameter fails when the chain is built, naming it."""
        with pytest.raises(ConfigError, match=message):
            build_chain(spec)
