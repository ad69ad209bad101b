"""Pipeline specs as data: the YAML section, the Python builder, and one-line errors."""

from __future__ import annotations

import pytest
import yaml

from watchkeeper.errors import ConfigError
from watchkeeper.pipelines import (Label, PipelineSpec, Search, Source, dump_pipelines,
                                   load_pipelines, pipeline)

from pizza_data import revenue_pipeline


def spec(**changes) -> PipelineSpec:
    return PipelineSpec.from_dict("revenue", revenue_pipeline(**changes))


class TestSpecFromYaml:
    def test_section_parses_with_defaults_filled(self):
        """The YAML form gives typed settings; the task comes from the model."""
        s = spec()
        assert s.task == "regression" and s.metrics == ("rmse", "mae")
        assert (s.train_partitions, s.eval_partitions) == (14, 5)
        assert s.selection == "newest" and s.metric.name == "rmse"
        assert [c["alpha"] for c in s.search.candidates()] == [0.1, 10.0]

    def test_builder_makes_the_same_spec_and_round_trips(self):
        """The Python builder equals the YAML form, and to_dict() parses back to it."""
        built = pipeline("revenue", features=[Source("order_features", ("order_id",))],
                         label=Label("order_labels", "revenue", ("order_id",)),
                         model="sklearn.linear_model.Ridge", params={"alpha": 1.0},
                         train=14, eval=5, metrics=["rmse", "mae"],
                         search=Search("grid", {"alpha": [0.1, 10.0]}))
        assert built == spec()
        section = yaml.safe_load(yaml.safe_dump(dump_pipelines([built])))
        assert PipelineSpec.from_dict("revenue", section["revenue"]) == built

    def test_nested_pipeline_of_estimators(self):
        """A scikit-learn Pipeline is declared with nested import paths, steps as pairs."""
        s = spec(model={"import": "sklearn.pipeline.Pipeline", "params": {"steps": [
            ["scale", {"import": "sklearn.preprocessing.StandardScaler"}],
            ["fit", {"import": "sklearn.linear_model.LogisticRegression"}]]}},
            label={"table": "order_labels", "column": "big", "entity": ["order_id"]},
            metrics=["roc_auc"], search={"params": {"fit__C": [0.1, 1.0]}})
        assert s.task == "classification"
        assert [name for name, _ in s.build().steps] == ["scale", "fit"]

    def test_random_search_draws_n_iter_settings_reproducibly(self):
        """Random search draws n_iter distinct settings from the lists, the same each time."""
        s = spec(search={"kind": "random", "n_iter": 3, "seed": 4,
                         "params": {"alpha": [0.01, 0.1, 1.0, 10.0, 100.0]}})
        first = s.search.candidates()
        assert len(first) == 3 and first == s.search.candidates()
        assert len({c["alpha"] for c in first}) == 3


class TestSpecErrors:
    @pytest.mark.parametrize("changes, words", [
        ({"model": {"import": "sklearn.linear_model.Ridgee"}}, "has no 'Ridgee'"),
        ({"model": {"import": "xgboostt.XGBRegressor"}}, "pip install xgboostt"),
        ({"model": {"import": "sklearn.linear_model.Ridge", "params": {"alphaa": 1}}},
         "does not take these params"),
        ({"metrics": ["roc_auc"]}, "metric 'roc_auc' scores classification, but the model "
                                   "does regression"),
        ({"metrics": ["auc"]}, "unknown metric 'auc'"),
        ({"task": "classification"}, "task is classification, but"),
        ({"windows": {"train": 0, "eval": 5}}, "windows.train must be a whole number"),
        ({"selection": "oldest"}, "selection 'oldest' is not one of newest, averaged"),
        ({"search": {"params": {"alphaa": [1.0]}}}, "search.params has a parameter"),
        ({"search": {"kind": "bayes", "params": {"alpha": [1.0]}}}, "search.kind 'bayes'"),
        ({"label": {"table": "order_labels"}}, "label needs column"),
        ({"promotion": {"auto": True, "margin": -1}}, "promotion.margin must be a number"),
        ({"windowz": {}}, "unknown keys ['windowz']"),
        ({"schedule": "daily"}, "is neither a cron line of five fields"),
    ])
    def test_one_line_config_errors(self, changes, words):
        """Each spec mistake is one ConfigError line naming the pipeline and the fix."""
        with pytest.raises(ConfigError) as raised:
            spec(**changes)
        message = str(raised.value)
        assert words in message and "\n" not in message
        assert message.startswith("pipeline 'revenue'")

    def test_load_from_project_extra(self, tmp_path):
        """load_pipelines reads the project's pipelines: section."""
        import watchkeeper as wk

        project = wk.Project.init(tmp_path)
        project.extra["pipelines"] = {"revenue": revenue_pipeline()}
        project.save()
        loaded = load_pipelines(wk.Project.find(tmp_path))
        assert loaded == {"revenue": spec()}
