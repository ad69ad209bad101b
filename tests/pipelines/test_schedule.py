"""``wk schedule`` runs declared schedules in-process with APScheduler and stops cleanly
on SIGTERM (exit 0) or SIGINT (exit 130); schedules are validated as data."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import watchkeeper as wk
from watchkeeper.errors import ConfigError
from watchkeeper.pipelines import PipelineSpec, lineage

from cli_helpers import run as wk_cli
from pizza_data import make_project, revenue_pipeline


def start(args, cwd):
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "watchkeeper.cli", *args], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def lines_until(process, wanted: str, count: int, timeout: float = 180) -> list[dict]:
    """JSON lines of ``process`` until ``count`` of them have event ``wanted``."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(json.loads(line))
        if sum(1 for s in seen if s["event"] == wanted) >= count:
            return seen
    process.kill()
    raise AssertionError(f"no {count} {wanted} lines in {timeout}s: {seen} "
                         f"{process.stderr.read()[-2000:]}")


@pytest.fixture
def scheduled(workdir, mlflow_template):
    make_project(workdir, days=22, mlflow_db=mlflow_template, pipelines={
        "revenue": revenue_pipeline(schedule="every 1s", search=None),
        "unscheduled": revenue_pipeline(search=None)})
    return workdir


class TestSchedule:
    def test_runs_on_its_interval_and_stops_on_sigterm(self, scheduled):
        """Two runs on a one-second interval, one at a time; SIGTERM stops it: exit 0, no
        run half done (every recorded run finished ok with its version)."""
        process = start(["schedule", "--format", "json"], scheduled)
        seen = lines_until(process, "run", 2)
        assert seen[0] == {"event": "scheduled", "pipeline": "revenue",
                           "schedule": "every 1s", "next_run": seen[0]["next_run"]}
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0 and "schedule stopped (SIGTERM)" in err
        runs = [s for s in seen if s["event"] == "run"]
        assert [r["status"] for r in runs] == ["ok", "ok"]
        assert [r["version"] for r in runs] == ["1", "2"]
        stored = lineage.runs(wk.Project.find().store(), "revenue")
        assert set(stored["status"]) == {"ok"} and len(stored) >= 2

    def test_sigint_exits_130(self, scheduled):
        """Ctrl-C stops the scheduler as cleanly, with the interrupted exit code."""
        process = start(["schedule", "revenue", "-f", "json"], scheduled)
        lines_until(process, "scheduled", 1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 130 and "schedule stopped (SIGINT)" in err

    def test_list_and_mistakes(self, scheduled, capsys):
        """--list shows each job's next run and exits; naming a pipeline without a
        schedule is exit 2."""
        code, out, _ = wk_cli(["schedule", "--list", "-f", "json"], capsys)
        [job] = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and (job["pipeline"], job["schedule"]) == ("revenue", "every 1s")
        assert job["next_run"]
        code, _, err = wk_cli(["schedule", "unscheduled"], capsys)
        assert code == 2 and "pipeline 'unscheduled' has no schedule" in err


class TestScheduleSpec:
    @pytest.mark.parametrize("schedule", ["0 6 * * *", "*/15 * * * 1-5", "every 30m",
                                          "every 2h", "every 1d"])
    def test_valid(self, schedule):
        spec = PipelineSpec.from_dict("revenue", revenue_pipeline(schedule=schedule))
        assert spec.to_dict()["schedule"] == schedule

    @pytest.mark.parametrize("schedule, words", [
        ("daily", "neither a cron line of five fields"),
        ("0 25 * * *", "is not a valid cron line"),
        ("every 0s", "at least every 1s"),
        ("every 5 weeks", "neither a cron line"),
    ])
    def test_invalid(self, schedule, words):
        with pytest.raises(ConfigError, match=words):
            PipelineSpec.from_dict("revenue", revenue_pipeline(schedule=schedule))
