"""Performance SLOs of the champion on real labels: a failure opens an incident on the
predictions table, and a champion still on probation is rolled back (``model.rolled_back``
fires); one past its probation is not; SLOs that do not fit the task are spec errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import watchkeeper as wk
from watchkeeper.errors import ConfigError
from watchkeeper.pipelines import PipelineSpec, Registry, ingest_labels, predict, promote

import pipeline_hooks
from cli_helpers import run as wk_cli
from pizza_data import make_project, orders, revenue_pipeline

HOOKS = {f"note-{kind}": {"event": kind, "actions": [
    {"python": {"function": "pipeline_hooks:record"}}]}
    for kind in ("model.rolled_back", "incident.opened")}
DUMMY = {"import": "sklearn.dummy.DummyRegressor"}  # predicts the mean: a bad champion


def declare(within: int, **changes) -> None:
    found = wk.Project.find()
    found.extra["pipelines"] = {"revenue": revenue_pipeline(
        performance={"slos": ["rmse <= 8"], "rollback_within": within}, **changes)}
    found.extra["triggers"] = HOOKS
    found.save()


def labels_of(days) -> pd.DataFrame:
    _, labels = orders(25)
    return labels[pd.to_datetime(labels["date"]).isin(pd.to_datetime(list(days)))]


@pytest.fixture
def bad_champion(workdir, mlflow_template):
    """Version 1 (Ridge) champion, then version 2 (the mean) promoted over it by hand."""
    pipeline_hooks.EVENTS.clear()
    made = make_project(workdir, days=25, mlflow_db=mlflow_template)

    def setup(within: int):
        declare(within)
        assert wk.run("revenue").ok
        declare(within, model=DUMMY, search=None)
        assert wk.run("revenue").ok
        project = wk.Project.find()
        registry, store = Registry(project), project.store()
        assert promote(registry, store, project, "revenue", "1").done
        assert promote(registry, store, project, "revenue", "2").done
        return registry
    return made, setup


class TestPerformanceSLO:
    def test_failure_on_probation_rolls_back(self, bad_champion, capsys):
        """Version 2 serves a day; its labels show rmse above 8: wk labels ingest exits 1,
        an incident opens on revenue_predictions, champion goes back to version 1 and
        model.rolled_back fires with the reason."""
        made, setup = bad_champion
        registry = setup(within=3)
        day = made.days[24]
        assert predict("revenue", day).version == "2"
        labels_of([day]).to_csv("labels.csv", index=False)
        code, out, _ = wk_cli(["labels", "ingest", "revenue", "labels.csv", "-f", "json"],
                              capsys)
        result = json.loads(out)
        assert code == 1
        [failure] = result["failures"]
        assert (failure["slo"], failure["version"], failure["partition"]) == (
            "rmse <= 8", "2", day)
        assert failure["value"] > 8 and failure["rolled_back"] and failure["rollback_to"] == "1"
        assert registry.alias("revenue", "champion") == "1"
        [incident] = wk.alerts.incidents(table="revenue_predictions", min_severity="critical")
        assert incident.id == failure["incident_id"]
        assert incident.anomalies[0].check == "performance: rmse <= 8"
        assert incident.anomalies[0].observed == pytest.approx(failure["value"])
        kinds = [(e.type, e.model) for e in pipeline_hooks.EVENTS]
        assert kinds == [("incident.opened", "revenue"), ("model.rolled_back", "revenue")]
        rolled = pipeline_hooks.EVENTS[-1]
        assert (rolled.context["version"], rolled.context["previous"]) == ("1", "2")
        assert "performance SLO rmse <= 8 failed on " + day in rolled.context["reason"]
        # Labels of the same day again: the incident is not opened twice.
        assert ingest_labels("revenue", "labels.csv").failures[0].incident_id == incident.id
        assert len(wk.alerts.incidents(table="revenue_predictions")) == 1

    def test_failure_after_probation_keeps_the_champion(self, bad_champion):
        """With a probation of one partition, a failure on the second day version 2
        served opens an incident but does not roll back."""
        made, setup = bad_champion
        registry = setup(within=1)
        first, second = made.days[23], made.days[24]
        predict("revenue", first)
        predict("revenue", second)
        [failure] = ingest_labels("revenue", labels_of([second])).failures
        assert not failure.rolled_back and "more than the 1 of its probation" in failure.notes[0]
        assert registry.alias("revenue", "champion") == "2"
        assert [e.type for e in pipeline_hooks.EVENTS] == ["incident.opened"]

    @pytest.mark.postgres
    def test_on_a_postgresql_store(self, bad_champion, pg_dsn, pg_schema, monkeypatch):
        """The same story with the store on PostgreSQL: performance rows, the incident and
        the rollback are stored there."""
        monkeypatch.setenv("WK_STORE_URL", f"{pg_dsn}?schema={pg_schema}")
        made, setup = bad_champion
        registry = setup(within=3)
        day = made.days[24]
        predict("revenue", day)
        [failure] = ingest_labels("revenue", labels_of([day])).failures
        assert failure.rolled_back and registry.alias("revenue", "champion") == "1"
        from watchkeeper.pipelines import performance

        [p] = performance("revenue")["partitions"]
        assert p["metrics"]["rmse"]["realised"] == pytest.approx(failure.value)
        assert p["slos"][0]["passed"] is False
        assert wk.Project.find().store().url.startswith("postgresql://")

    def test_good_champion_passes(self, workdir, mlflow_template):
        """Ridge meets rmse <= 8 on the labelled day: no failure, no incident."""
        made = make_project(workdir, days=25, mlflow_db=mlflow_template)
        declare(3)
        wk.run("revenue")
        project = wk.Project.find()
        promote(Registry(project), project.store(), project, "revenue")
        predict("revenue", made.days[24])
        result = ingest_labels("revenue", labels_of([made.days[24]]))
        assert result.ok and result.realised[0]["metrics"]["rmse"] < 8
        assert wk.alerts.incidents(table="revenue_predictions") == []


class TestPerformanceSpec:
    @pytest.mark.parametrize("slos, message", [
        (["auc >= 0.7"], "names a metric labels do not give for regression: use one of rmse"),
        (["rmse about 3"], "is not an SLO like 'roc_auc >= 0.8'"),
    ])
    def test_bad_slos_are_spec_errors(self, slos, message):
        """An SLO on a metric the task lacks, or not METRIC OP NUMBER: one line."""
        with pytest.raises(ConfigError, match=message):
            PipelineSpec.from_dict("revenue", revenue_pipeline(performance={"slos": slos}))

    def test_round_trip_and_aliases(self):
        """``auc`` means roc_auc; the section survives to_dict and back."""
        raw = revenue_pipeline(model={"import": "sklearn.linear_model.LogisticRegression"},
                               label={"table": "order_labels", "column": "big",
                                      "entity": ["order_id"]},
                               metrics=["roc_auc"], search=None,
                               performance={"slos": ["auc >= 0.7"], "rollback_within": 5})
        spec = PipelineSpec.from_dict("big", raw)
        assert [s.name for s in spec.performance.slos] == ["roc_auc >= 0.7"]
        again = PipelineSpec.from_dict("big", spec.to_dict())
        assert again.performance == spec.performance

    def test_cli_run_exit_2_on_a_bad_slo(self, workdir, mlflow_template, capsys):
        make_project(workdir, days=5, mlflow_db=mlflow_template, pipelines={
            "revenue": revenue_pipeline(performance={"slos": ["accuracy >= 0.9"]})})
        code, _, err = wk_cli(["run", "revenue"], capsys)
        assert code == 2 and "performance SLO 'accuracy >= 0.9'" in err
