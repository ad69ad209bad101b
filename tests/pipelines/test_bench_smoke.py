"""benchmarks/pipeline_overhead.py cannot rot: it runs at tiny size; and a tree ensemble
(whose node storage skops does not trust by default) registers and loads back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import watchkeeper as wk
from watchkeeper.pipelines import Registry

from pizza_data import make_project, revenue_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import pipeline_overhead  # noqa: E402


class TestPipelineBenchmark:
    def test_tiny_run(self, workdir, capsys):
        """Both measurements run and report positive times and ratios."""
        assert pipeline_overhead.main(["--days", "10", "--rows-per-day", "50", "--trees", "3",
                                       "--log-rows", "500", "--repeat", "1", "--json"]) == 0
        found = json.loads(capsys.readouterr().out)
        assert found["run"]["baseline_wall_s"] > 0 and found["run"]["ratio"] > 0
        assert found["run"]["repeat"] == 1 and found["run"]["cpu_ratio"] > 0
        assert found["log"]["rows"] == 500 and found["log"]["ratio"] > 0


class TestTreeModels:
    def test_random_forest_registers_and_loads(self, workdir, mlflow_template):
        """A RandomForest version is registered and loaded back from the project's registry."""
        made = make_project(workdir, days=22, mlflow_db=mlflow_template, pipelines={
            "revenue": revenue_pipeline(search=None, model={
                "import": "sklearn.ensemble.RandomForestRegressor",
                "params": {"n_estimators": 5, "random_state": 0}})})
        assert wk.run("revenue").version == "1"
        model = Registry(wk.Project.find(made.root)).load("revenue", "1")
        assert len(model.estimators_) == 5
