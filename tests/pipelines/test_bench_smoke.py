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

    def test_trusted_types_are_those_skops_finds(self, workdir, mlflow_template):
        """The model is serialised once: the types trusted at load are read from its object
        graph, and they are exactly those a skops dump of it lists as untrusted."""
        import skops.io

        from watchkeeper.pipelines.registry import _graph_types

        made = make_project(workdir, days=22, mlflow_db=mlflow_template, pipelines={
            "revenue": revenue_pipeline(search=None, model={
                "import": "sklearn.ensemble.GradientBoostingRegressor",
                "params": {"n_estimators": 3, "random_state": 0}})})
        wk.run("revenue")
        registry = Registry(wk.Project.find(made.root))
        model = registry.load("revenue", "1")
        with registry._mlflow() as mlflow:
            flavor = mlflow.models.get_model_info("models:/revenue/1").flavors["sklearn"]
        assert flavor["serialization_format"] == "skops"
        dumped = skops.io.get_untrusted_types(data=skops.io.dumps(model))
        assert "sklearn.tree._tree.Tree" in flavor["skops_trusted_types"]
        assert set(dumped) <= set(flavor["skops_trusted_types"]) == set(_graph_types(model))

    def test_a_type_the_walk_misses_is_found_in_a_dump(self, workdir, mlflow_template,
                                                      monkeypatch):
        """A trusted list that misses a type fails MLflow's load-back check; the model is
        then logged with the list a dump of it gives, and loads."""
        from watchkeeper.pipelines import registry as registry_module

        monkeypatch.setattr(registry_module, "_graph_types", lambda model: None)
        made = make_project(workdir, days=22, mlflow_db=mlflow_template, pipelines={
            "revenue": revenue_pipeline(search=None, model={
                "import": "sklearn.ensemble.RandomForestRegressor",
                "params": {"n_estimators": 3, "random_state": 0}})})
        assert wk.run("revenue").version == "1"
        registry = Registry(wk.Project.find(made.root))
        assert len(registry.load("revenue", "1").estimators_) == 3
        with registry._mlflow() as mlflow:
            flavor = mlflow.models.get_model_info("models:/revenue/1").flavors["sklearn"]
        assert flavor["skops_trusted_types"] == ["sklearn.tree._tree.Tree"]
