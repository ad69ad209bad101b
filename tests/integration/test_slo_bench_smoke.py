"""benchmarks/slo_speed.py cannot rot: its 50 checks evaluate cleanly at tiny size.

The benchmark itself (2M rows, best of 3) is not a test; this checks that the
check set it times still binds to the synthetic table, that every check gets a
verdict rather than an error, and that the expected one fails (so the timed run
includes the violating-row samples the docs say it does).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import slo_speed  # noqa: E402

BRIEF_KINDS = {"not_null", "between", "in_set", "regex", "length_between", "unique", "coverage",
               "row_count", "statistic", "sql_row"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return str(slo_speed.data_file(3_000, tmp_path_factory.mktemp("slo-bench")))


class TestSLOBenchmark:
    """The benchmark's check set and contenders run on a tiny partition of the same data."""

    def test_fifty_checks_of_every_needed_kind(self):
        """The set holds 50 checks, mostly critical, covering every kind the target names."""
        checks = slo_speed.CHECKS.checks
        assert len(checks) == 50
        assert BRIEF_KINDS <= {c.kind for c in checks}
        assert sum(c.severity == "critical" for c in checks) > 25

    def test_every_check_gets_a_verdict(self, tiny):
        """One result per check for the one partition, none an error, all a pass or a fail."""
        results = slo_speed.run_evaluate(tiny).results
        assert results["partition"].nunique() == 1
        assert sorted(results["check"]) == sorted(c.name for c in slo_speed.CHECKS.checks)
        errors = results[results["error"].notna()]
        assert errors.empty, errors[["check", "error"]].to_string()
        assert results["passed"].notna().all()

    def test_only_the_planted_failure_fails(self, tiny):
        """retries > 3 fails with a sample of violating rows; every other check passes."""
        results = slo_speed.run_evaluate(tiny).results
        failed = results[results["passed"].eq(False)]
        assert list(failed["check"]) == ["between_retries"]
        assert failed["unexpected_count"].iloc[0] > 0 and failed["sample"].iloc[0]

    @pytest.mark.parametrize("name", ["profile", "evaluate"])
    def test_contenders_report_time_and_facts(self, tiny, name):
        """Each timed contender returns wall and CPU seconds and what it computed."""
        out = slo_speed.run_one(name, tiny)
        assert out["wall_s"] > 0 and out["cpu_s"] > 0 and out["peak_rss"] > 0
        if name == "evaluate":
            assert out["results"] == 50 and out["errors"] == 0
        else:
            assert out["partitions"] == 1 and out["statistics"] > 0
