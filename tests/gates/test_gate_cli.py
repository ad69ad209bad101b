"""``wk gate`` exit codes through the real command: 0 yes, 1 blocked with reasons, 2 bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WK = Path(sys.executable).with_name("wk")


def wk(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "WK_STORE_URL"}
    return subprocess.run([str(WK), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


class TestGateCommand:
    def test_clean_partition_exits_0(self, orders):
        """A partition with no failed check and no incident is allowed: exit 0."""
        run = wk("gate", "orders", "--partition", orders.day(30), cwd=orders.root)
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines() == [f"allowed: orders {orders.day(30)} for train"]

    def test_critical_slo_failure_exits_1_with_reasons(self, orders):
        """A failed critical SLO check blocks: exit 1, the check named in the reasons."""
        run = wk("gate", "orders", "--partition", orders.day(40), cwd=orders.root)
        assert run.returncode == 1, run.stderr
        lines = run.stdout.splitlines()
        assert lines[0] == f"blocked: orders {orders.day(40)} for train"
        assert f"  - SLO check items_positive failed in {orders.day(40)} (incident #1)" in lines
        assert "wk alerts resolve 1" in run.stdout

    def test_injected_fault_exits_1(self, orders):
        """A partition the detector finds broken (nulls injected in amount) blocks: exit 1."""
        run = wk("gate", "orders", "--partition", orders.day(45), "--for", "serve",
                 cwd=orders.root)
        assert run.returncode == 1, run.stderr
        assert run.stdout.startswith(f"blocked: orders {orders.day(45)} for serve")
        assert "amount null_fraction" in run.stdout

    def test_json_prints_the_decision_and_reasons(self, orders):
        """--format json prints one object with the decision and each reason's fields."""
        run = wk("gate", "orders", "--partition", orders.day(45), "--format", "json",
                 cwd=orders.root)
        assert run.returncode == 1
        decision = json.loads(run.stdout)
        assert (decision["allowed"], decision["for"], decision["severity"]) == (
            False, "train", "critical")
        [reason] = decision["reasons"]
        assert reason["kind"] == "incident" and reason["incident_id"] == decision["incidents"][0]

    def test_path_with_partition_column_is_gated_like_a_table(self, orders):
        """NAME|PATH: an unregistered Parquet path with --partition-column is gated too."""
        run = wk("gate", "orders.parquet", "--partition-column", "order_date",
                 "--partition", orders.day(45), cwd=orders.root)
        assert run.returncode == 1, run.stderr
        assert "amount null_fraction" in run.stdout

    @pytest.mark.parametrize("args, says", [
        (["orders", "--partition", "2023-13-45"], "is not a date"),
        (["orders", "--partition", "2031-01-01"], "has no rows in partition 2031-01-01"),
        (["orders", "--partition", "2023-02-01T06:00"], "is not the start of a day partition"),
        (["nope", "--partition", "2023-02-01"], "'nope' is not a registered table"),
        (["orders.parquet", "--partition", "2023-02-01"], "pass --partition-column"),
        (["orders", "--partition", "2023-02-01", "--for", "fun"], "'fun' is not one of"),
        (["orders"], "Missing option '--partition'"),
    ])
    def test_bad_input_exits_2_with_one_line(self, orders, args, says):
        """Bad input exits 2 with one line on stderr that names it, never a traceback."""
        run = wk("gate", *args, cwd=orders.root)
        assert run.returncode == 2
        assert run.stdout == ""
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
        assert run.stderr.startswith("error:") and says in run.stderr
