"""The scheduling recipes of docs/pipelines.md call the real API and answer right.

Airflow and Dagster are not installed here: each recipe runs against small stand-ins
for the few names it imports, and the test then calls the recipe's callables the way
the orchestrator would. The crontab's schedules are parsed by APScheduler and its
commands run through the real CLI. What is tested is the recipe code and the
watchkeeper functions it calls, never the orchestrators themselves.
"""

from __future__ import annotations

import re
import shlex
import sys
import types
from pathlib import Path

import pytest

from cli_helpers import run as wk_cli
from pizza_data import make_project, revenue_pipeline

DOC = Path(__file__).resolve().parents[2] / "docs" / "pipelines.md"


def recipe(lang: str, marker: str, root: Path) -> str:
    """The ``lang`` block of the scheduling section that contains ``marker``, aimed at
    ``root``."""
    section = DOC.read_text().split("## Scheduling", 1)[1]
    [block] = [b for b in re.findall(rf"```{lang}\n(.*?)```", section, flags=re.S)
               if marker in b]
    return block.replace('"/srv/pizza"', repr(str(root))).replace("/srv/pizza", str(root))


def _module(name: str, **names) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(names)
    return module


class Skip(Exception):
    """Airflow's AirflowSkipException stand-in."""


class Failure(Exception):
    """Dagster's Failure stand-in (keyword ``description``, as Dagster's)."""

    def __init__(self, description: str = ""):
        super().__init__(description)
        self.description = description


@pytest.fixture
def fresh(workdir, mlflow_template):
    """22 days of orders and the revenue pipeline: a run registers version 1."""
    return make_project(workdir, days=22, mlflow_db=mlflow_template,
                        pipelines={"revenue": revenue_pipeline(search=None)})


@pytest.fixture
def blocked(workdir):
    """Too few valid days for the windows: a run is blocked."""
    return make_project(workdir, days=19, corrupt=10,
                        pipelines={"revenue": revenue_pipeline(search=None)})


@pytest.fixture
def airflow(monkeypatch):
    tasks: dict = {}

    class Operator:
        def __init__(self, task_id, python_callable, op_args=(), **settings):
            self.python_callable, self.op_args = python_callable, list(op_args)
            tasks[task_id] = self

    class Dag:
        def __init__(self, dag_id, **settings):
            tasks["dag"] = (dag_id, settings)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    for name, module in {
        "pendulum": _module("pendulum", datetime=lambda *a, **k: a),
        "airflow": _module("airflow", DAG=Dag),
        "airflow.exceptions": _module("airflow.exceptions", AirflowSkipException=Skip),
        "airflow.operators": _module("airflow.operators"),
        "airflow.operators.python": _module("airflow.operators.python",
                                            PythonOperator=Operator),
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    return tasks


@pytest.fixture
def dagster(monkeypatch):
    class Result:
        def __init__(self, **fields):
            self.__dict__.update(fields)

    def asset(**settings):
        def wrap(func):
            func.settings = settings
            return func
        return wrap

    module = _module("dagster", asset=asset, MaterializeResult=Result, Failure=Failure,
                     ScheduleDefinition=Result)
    monkeypatch.setitem(sys.modules, "dagster", module)
    return module


class TestCron:
    def test_schedules_parse_and_commands_run(self, fresh, capsys):
        """Each crontab line is a valid cron schedule; its wk command runs in the project:
        the run registers version 1, the labels of the newest day are ingested (nothing
        was predicted yet, so none joins); both exit 0."""
        from apscheduler.triggers.cron import CronTrigger

        from pizza_data import orders

        _, labels = orders(22)
        (fresh.root / "labels").mkdir()
        labels[labels["date"] == labels["date"].max()].to_csv(
            fresh.root / "labels" / "yesterday.csv", index=False)

        lines = [line for line in recipe("crontab", "wk run", fresh.root).splitlines()
                 if line.strip() and not line.startswith("#")]
        assert len(lines) == 2
        for line in lines:
            fields = line.split()
            CronTrigger.from_crontab(" ".join(fields[:5]))
        commands = [re.split(r"\s*(?:>>|\|\|)\s*", line.split("&& ", 1)[1])[0]
                    for line in lines]
        code, out, _ = wk_cli(shlex.split(commands[0])[1:], capsys)
        assert code == 0 and '"version": "1"' in out
        code, out, _ = wk_cli(shlex.split(commands[1])[1:], capsys)
        assert code == 0 and "0 joined a served prediction" in out


class TestAirflow:
    def test_retrain_returns_the_version(self, fresh, airflow):
        exec(compile(recipe("py", "PythonOperator(", fresh.root), "recipe", "exec"), {})  # noqa: S102
        task = airflow["retrain_revenue"]
        assert airflow["dag"][0] == "retrain_revenue"
        assert airflow["dag"][1]["schedule"] == "0 6 * * *"
        assert task.python_callable(*task.op_args) == "1"

    def test_blocked_run_skips(self, blocked, airflow):
        exec(compile(recipe("py", "PythonOperator(", blocked.root), "recipe", "exec"), {})  # noqa: S102
        task = airflow["retrain_revenue"]
        with pytest.raises(Skip, match="revenue blocked: only 18 valid partitions"):
            task.python_callable(*task.op_args)


class TestDagster:
    def test_asset_materializes_the_version(self, fresh, dagster):
        namespace: dict = {}
        exec(compile(recipe("py", "dg.asset", fresh.root), "recipe", "exec"), namespace)  # noqa: S102
        result = namespace["revenue_model"]()
        assert result.metadata["version"] == "1" and result.metadata["rmse"] > 0
        assert namespace["daily"].cron_schedule == "0 6 * * *"

    def test_blocked_run_fails_the_asset(self, blocked, dagster):
        namespace: dict = {}
        exec(compile(recipe("py", "dg.asset", blocked.root), "recipe", "exec"), namespace)  # noqa: S102
        with pytest.raises(Failure, match="only 18 valid partitions"):
            namespace["revenue_model"]()
