"""The orchestrator recipes of docs/triggers.md call the real gate and answer right.

Airflow and Dagster are not installed here: each recipe runs against small
stand-ins for the few names it imports (operators that keep their arguments, a
decorator that returns the function), and the test then calls the recipe's
callables the way the orchestrator would. What is tested is the recipe code and
the watchkeeper functions it calls, never the orchestrators themselves.
"""

from __future__ import annotations

import logging
import re
import sys
import types
from pathlib import Path

import pytest

from watchkeeper.errors import EmptySourceError
from watchkeeper.triggers.gate import gate_ok

DOC = Path(__file__).resolve().parents[2] / "docs" / "triggers.md"


def recipe(marker: str, root: Path) -> str:
    """The ``py`` block of the recipes section that contains ``marker``, aimed at ``root``."""
    section = DOC.read_text().split("## Orchestrator recipes", 1)[1]
    [block] = [b for b in re.findall(r"```py\n(.*?)```", section, flags=re.S) if marker in b]
    return block.replace('"/srv/churn"', repr(str(root)))


class Operator:
    """Airflow stand-in: keeps what the recipe passed; ``>>`` chains like Airflow's."""

    tasks: dict = {}

    def __init__(self, task_id, python_callable, op_args=(), op_kwargs=None, **settings):
        self.task_id, self.python_callable = task_id, python_callable
        self.op_args, self.op_kwargs, self.settings = list(op_args), dict(op_kwargs or {}), settings
        Operator.tasks[task_id] = self
        self.downstream = []

    def __rshift__(self, other):
        self.downstream.append(other)
        return other

    def execute(self, ds: str):
        """Render ``{{ ds }}`` and call the callable, as the operator's execute would."""
        args = [a.replace("{{ ds }}", ds) if isinstance(a, str) else a for a in self.op_args]
        return self.python_callable(*args, **self.op_kwargs)


class Dag:
    def __init__(self, dag_id, **settings):
        self.dag_id, self.settings = dag_id, settings

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _module(name: str, **names) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(names)
    return module


@pytest.fixture
def airflow(monkeypatch):
    Operator.tasks = {}
    for name, module in {
        "pendulum": _module("pendulum", datetime=lambda *a, **k: (a, k)),
        "airflow": _module("airflow", DAG=Dag),
        "airflow.operators": _module("airflow.operators"),
        "airflow.operators.python": _module("airflow.operators.python",
                                            PythonOperator=Operator,
                                            ShortCircuitOperator=Operator),
        "airflow.sensors": _module("airflow.sensors"),
        "airflow.sensors.python": _module("airflow.sensors.python", PythonSensor=Operator),
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    return Operator.tasks


@pytest.fixture
def dagster(monkeypatch):
    class Result:
        def __init__(self, **fields):
            self.__dict__.update(fields)

    def asset_check(**settings):
        def wrap(func):
            func.settings = settings
            return func
        return wrap

    module = _module("dagster", asset_check=asset_check, AssetCheckResult=Result,
                     AssetCheckExecutionContext=object,
                     AssetCheckSeverity=types.SimpleNamespace(ERROR="ERROR"))
    monkeypatch.setitem(sys.modules, "dagster", module)
    return module


def dagster_context(partition: str):
    run = types.SimpleNamespace(tags={"dagster/partition": partition})
    return types.SimpleNamespace(op_execution_context=types.SimpleNamespace(run=run))


class TestGateOk:
    def test_answers_true_for_a_usable_partition(self, orders):
        """gate_ok is the decision's boolean: True for a clean partition."""
        assert gate_ok("orders", orders.day(30)) is True

    def test_answers_false_and_logs_the_reasons(self, orders, caplog):
        """A blocked partition answers False and logs the reasons at warning level."""
        with caplog.at_level(logging.WARNING, logger="watchkeeper.gate"):
            assert gate_ok("orders", orders.day(45), for_="serve") is False
        assert f"blocked: orders {orders.day(45)} for serve" in caplog.text
        assert "amount null_fraction" in caplog.text

    def test_missing_partition_waits_only_when_asked(self, orders):
        """A partition not loaded yet raises, or answers False with missing_ok=True."""
        with pytest.raises(EmptySourceError):
            gate_ok("orders", "2023-03-01")
        assert gate_ok("orders", "2023-03-01", missing_ok=True) is False


class TestAirflowRecipe:
    def test_short_circuit_skips_a_blocked_day_and_passes_a_clean_one(self, orders, airflow):
        """The DAG wires sensor >> gate >> train; the gate task's callable answers per ds."""
        code = compile(recipe("ShortCircuitOperator(", orders.root), "recipe", "exec")
        exec(code, {})  # noqa: S102
        gate_task = airflow["gate_orders"]
        assert airflow["wait_for_orders"].downstream == [gate_task]
        assert gate_task.downstream == [airflow["train"]]
        assert gate_task.execute(orders.day(30)) is True
        assert gate_task.execute(orders.day(45)) is False

    def test_sensor_waits_for_a_partition_that_has_not_arrived(self, orders, airflow):
        """The sensor's poke is False before the data exists and True once it is usable."""
        code = compile(recipe("PythonSensor(", orders.root), "recipe", "exec")
        exec(code, {})  # noqa: S102
        sensor = airflow["wait_for_orders"]
        assert sensor.settings["mode"] == "reschedule"
        assert sensor.execute("2023-03-01") is False
        assert sensor.execute(orders.day(30)) is True


class TestDagsterRecipe:
    def test_asset_check_fails_on_a_blocked_partition(self, orders, dagster):
        """The blocking asset check passes for a clean run partition, fails for a broken one."""
        namespace: dict = {}
        code = compile(recipe("@dg.asset_check", orders.root), "recipe", "exec")
        exec(code, namespace)  # noqa: S102
        check = namespace["orders_usable_for_training"]
        assert check.settings == {"asset": "orders", "blocking": True}
        good = check(dagster_context(orders.day(30)))
        bad = check(dagster_context(orders.day(45)))
        assert (good.passed, good.metadata["reasons"]) == (True, "none")
        assert bad.passed is False and "amount null_fraction" in bad.metadata["reasons"]
