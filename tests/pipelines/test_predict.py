"""Predictions: the champion scores a gated partition through its guards, the shadow
beside it is logged and never served, and each batch traces back to its version."""

from __future__ import annotations

import json

import pytest

import watchkeeper as wk
from watchkeeper.errors import ConfigError
from watchkeeper.pipelines import Registry, predict, promote, shadow, trace

from cli_helpers import run as wk_cli
from pizza_data import make_project, revenue_pipeline

GUARD = {"revenue-guard": {"event": "serve.before", "model": "revenue", "actions": [
    {"clip": {"column": "prediction", "max": 30}}]}}


@pytest.fixture
def staged(workdir, mlflow_template):
    """25 days (day 23 corrupted), two versions: 1 champion, 2 shadow; a clip guard."""
    made = make_project(workdir, days=25, corrupt=23, mlflow_db=mlflow_template,
                        pipelines={"revenue": revenue_pipeline(
                            windows={"train": 10, "eval": 3})})
    found = wk.Project.find()
    found.extra["triggers"] = GUARD
    found.save()
    wk.run("revenue")
    wk.run("revenue", selection="averaged")
    registry, store = Registry(found), found.store()
    with pytest.raises(ConfigError, match="has no champion to predict with"):
        predict("revenue", made.days[24])
    promote(registry, store, found, "revenue", "1")
    shadow(registry, store, found, "revenue", "2")
    return made


class TestPredict:
    def test_champion_served_shadow_logged_and_traced(self, staged):
        """The served batch is the champion's, clipped by its guard; the logged table
        holds both stages; the trace names version 1, shadow 2 and the input partition."""
        day = staged.days[24]
        result = predict("revenue", day)
        assert result.ok and (result.version, result.shadow_version) == ("1", "2")
        assert len(result.served) == result.rows > 30
        assert result.served["prediction"].max() <= 30
        logged = wk.managed_table("revenue_predictions", partition_column="date").read(
            format="pandas")
        assert logged.groupby("stage")["model_version"].unique().to_dict() == {
            "champion": ["1"], "shadow": ["2"]}
        assert (logged["batch_id"] == result.batch_id).all()
        assert logged[logged["stage"] == "shadow"]["prediction"].max() > 30  # never clipped
        assert set(logged["order_id"]) == set(result.served["order_id"])
        found = trace(result.batch_id)
        assert (found["model_version"], found["shadow_version"]) == ("1", "2")
        assert found["inputs"] == [{"table": "order_features", "partition": day,
                                    "incidents": []}]
        assert found["model"]["version"] == "1" and found["model"]["tables"]

    def test_cli_predict_blocked_partition_and_trace(self, staged, capsys):
        """wk predict exits 1 on a partition the gate refuses; wk trace answers in JSON;
        an unknown batch is exit 2."""
        code, out, _ = wk_cli(["predict", "revenue", "--partition", staged.days[23]], capsys)
        assert code == 1 and "pizzas_positive" in out
        code, out, _ = wk_cli(["predict", "revenue", "--partition", staged.days[22], "-f",
                               "json"], capsys)
        batch = json.loads(out)
        assert code == 0 and batch["status"] == "ok" and batch["shadow_version"] == "2"
        code, out, _ = wk_cli(["trace", batch["batch_id"], "--format", "json"], capsys)
        assert code == 0 and json.loads(out)["model"]["model"] == "revenue"
        code, _, err = wk_cli(["trace", "nope"], capsys)
        assert code == 2 and "no prediction batch 'nope'" in err
