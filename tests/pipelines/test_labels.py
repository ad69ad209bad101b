"""Delayed labels on real data (gt::pizzaplace): labels joined to logged predictions give
realised performance per partition, estimates (CBPE) stand in before they land and are
replaced when they do, and label files without the label's keys are one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss, roc_auc_score

import watchkeeper as wk
from watchkeeper.errors import ConfigError
from watchkeeper.pipelines import (Registry, ingest_labels, performance, predict, promote,
                                   pipeline as build, Label, Source)

from cli_helpers import run as wk_cli
from pizza_data import make_project, orders

# A weak classifier on purpose: without the pizza count, "big order" is hard to tell, so
# its probabilities (and the estimates made from them) carry real uncertainty.
BIG = {"features": [{"table": "order_features", "entity": ["order_id"],
                     "columns": ["hour", "veggie_share", "large_share"]}],
       "label": {"table": "order_labels", "column": "big", "entity": ["order_id"]},
       "model": {"import": "sklearn.linear_model.LogisticRegression",
                 "params": {"max_iter": 500}},
       "windows": {"train": 20, "eval": 7}}
LANDED = 27  # labels of days before this one are known when the model is trained


def _day(frame: pd.DataFrame, days) -> pd.Series:
    return pd.to_datetime(frame["date"]).isin(pd.to_datetime(list(days)))


@pytest.fixture(scope="module")
def served(tmp_path_factory, mlflow_template):
    """40 days of orders; labels of the first 27 only; version 1 champion; the 13 newer
    days scored and logged (estimates made); their labels written to late.csv."""
    root = tmp_path_factory.mktemp("labels")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("WK_STORE_URL", raising=False)
        made = make_project(root, days=40, mlflow_db=mlflow_template, pipelines={
            "big": BIG})
        _, labels = orders(40)
        late_days = made.days[LANDED:]
        labels[~_day(labels, late_days)].to_parquet(root / "order_labels.parquet", index=False)
        assert wk.run("big").ok
        project = wk.Project.find()
        promote(Registry(project), project.store(), project, "big")
        batches = {d: predict("big", d) for d in late_days}
        labels[_day(labels, late_days)].to_csv(root / "late.csv", index=False)
        yield made, batches


class TestLabels:
    def test_estimates_stand_in_until_labels_land(self, served, monkeypatch):
        """Before labels: every scored day has estimated roc_auc, log_loss and accuracy
        and no realised value."""
        made, batches = served
        monkeypatch.chdir(made.root)
        report = performance("big")
        before = [p for p in report["partitions"] if p["labelled"] == 0]
        assert {p["partition"] for p in before} >= set(made.days[35:])
        for p in before:
            for name in ("roc_auc", "log_loss", "accuracy"):
                m = p["metrics"][name]
                assert m["source"] == "estimated" and m["realised"] is None
                assert 0 < m["estimated"] < 1

    def test_labels_join_and_realised_equals_sklearn(self, served, monkeypatch, capsys):
        """wk labels ingest joins the late labels on order_id: every served row of the
        first 8 late days gets its label; the stored AUC and log loss are scikit-learn's
        on the logged scores; estimates stay and the gap is realised - estimated."""
        made, _ = served
        monkeypatch.chdir(made.root)
        late = pd.read_csv(made.root / "late.csv")
        first = made.days[LANDED:LANDED + 8]
        late[_day(late, first)].to_csv(made.root / "first.csv", index=False)
        code, out, err = wk_cli(["labels", "ingest", "big", "first.csv", "-f", "json"], capsys)
        assert (code, err) == (0, ""), out
        result = json.loads(out)
        assert result["partitions"] == first and result["unmatched"] == 0
        assert result["matched"] == result["rows"] == int(_day(late, first).sum())
        logged = wk.managed_table("big_predictions", partition_column="date").read(
            format="pandas")
        day = pd.Timestamp(first[3])
        rows = logged[pd.to_datetime(logged["date"]) == day].merge(
            late[["order_id", "big"]], on="order_id")
        [entry] = [r for r in result["realised"] if r["partition"] == first[3]]
        assert entry["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(rows["big"],
                                                                          rows["score"]))
        assert entry["metrics"]["log_loss"] == pytest.approx(log_loss(rows["big"],
                                                                      rows["score"]))
        assert entry["metrics"]["accuracy"] == pytest.approx(
            (rows["prediction"] == rows["big"]).mean())
        code, out, _ = wk_cli(["performance", "big", "--format", "json"], capsys)
        report = json.loads(out)
        labelled = {p["partition"]: p for p in report["partitions"] if p["labelled"]}
        assert sorted(labelled) == first
        m = labelled[first[3]]["metrics"]["accuracy"]
        assert m["source"] == "realised" and m["value"] == m["realised"]
        assert m["gap"] == pytest.approx(m["realised"] - m["estimated"])
        assert report["gap"]["accuracy"]["partitions"] == 8
        code, out, _ = wk_cli(["performance", "big"], capsys)
        assert code == 0 and "mean |realised - estimated|" in out

    def test_estimate_meets_reality_within_sampling_noise(self, served, monkeypatch):
        """Over the labelled days, the estimated accuracy (from calibrated probabilities
        alone) is within two standard errors of the realised accuracy, and so is the
        estimated AUC of the realised one: the estimate knew what the labels would say."""
        made, _ = served
        monkeypatch.chdir(made.root)
        ingest_labels("big", [str(made.root / "late.csv")])  # the rest land; first ones again
        report = performance("big")
        labelled = [p for p in report["partitions"] if p["labelled"]]
        assert len(labelled) == 13
        n = np.array([p["labelled"] for p in labelled], dtype=float)
        for name in ("accuracy", "roc_auc"):
            realised = np.array([p["metrics"][name]["realised"] for p in labelled])
            estimated = np.array([p["metrics"][name]["estimated"] for p in labelled])
            pooled_r = np.average(realised, weights=n)
            pooled_e = np.average(estimated, weights=n)
            spread = np.sqrt(np.average((realised - pooled_r) ** 2, weights=n) / len(n))
            assert abs(pooled_r - pooled_e) <= 2 * max(spread, 0.01), (name, pooled_r,
                                                                      pooled_e)

    def test_label_file_mistakes_are_one_line_errors(self, served, monkeypatch, capsys):
        """A file without the entity key, a missing file, a time key that is not dates,
        another format: exit 2 with one line naming the fix."""
        made, _ = served
        monkeypatch.chdir(made.root)
        late = pd.read_csv(made.root / "late.csv")
        late.drop(columns=["order_id"]).to_csv("nokey.csv", index=False)
        code, _, err = wk_cli(["labels", "ingest", "big", "nokey.csv"], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert "has no column 'order_id' (the entity key" in err
        late.assign(date="soon").to_csv("nodates.csv", index=False)
        code, _, err = wk_cli(["labels", "ingest", "big", "nodates.csv"], capsys)
        assert code == 2 and "not dates" in err
        code, _, err = wk_cli(["labels", "ingest", "big", "absent.csv"], capsys)
        assert code == 2 and "does not exist" in err
        (made.root / "labels.txt").write_text("x")
        code, _, err = wk_cli(["labels", "ingest", "big", "labels.txt"], capsys)
        assert code == 2 and "neither .csv nor .parquet" in err
        code, _, err = wk_cli(["labels", "ingest", "nope", "late.csv"], capsys)
        assert code == 2 and "no pipeline named 'nope'" in err

    def test_labels_without_predictions_are_unmatched(self, served, monkeypatch):
        """Labels of a day nothing was predicted for are kept, joined to nothing."""
        made, _ = served
        monkeypatch.chdir(made.root)
        _, labels = orders(40)
        early = labels[_day(labels, made.days[:1])]
        result = ingest_labels("big", early)
        assert (result.matched, result.unmatched) == (0, len(early))
        assert result.realised == []


class TestLabelSpec:
    def test_a_label_without_entity_keys_cannot_join(self, workdir, mlflow_template):
        """A pipeline whose label has no entity key: labels cannot be joined row by row."""
        make_project(workdir, days=5, mlflow_db=mlflow_template)
        spec = build("agg", features=[Source("order_features")],
                     label=Label("order_labels", "revenue"),
                     model="sklearn.linear_model.Ridge", train=2, eval=1)
        with pytest.raises(ConfigError, match="label has no entity keys"):
            ingest_labels(spec, pd.DataFrame({"date": ["2015-01-01"], "revenue": [1.0]}))


class TestRegressionPerformance:
    def test_rmse_and_mae_per_partition(self, workdir, mlflow_template):
        """A regressor's labelled days get rmse and mae (no estimate: CBPE is for
        classifiers), equal to numpy's on the served predictions."""
        from pizza_data import revenue_pipeline

        made = make_project(workdir, days=22, mlflow_db=mlflow_template,
                            pipelines={"revenue": revenue_pipeline()})
        assert wk.run("revenue").ok
        project = wk.Project.find()
        promote(Registry(project), project.store(), project, "revenue")
        day = made.days[21]
        batch = predict("revenue", day)
        _, labels = orders(22)
        result = ingest_labels("revenue", labels[_day(labels, [day])])
        [entry] = result.realised
        rows = batch.served.merge(labels, on="order_id")
        error = rows["prediction"] - rows["revenue"]
        assert entry["metrics"]["rmse"] == pytest.approx(np.sqrt((error ** 2).mean()))
        assert entry["metrics"]["mae"] == pytest.approx(error.abs().mean())
        [p] = performance("revenue")["partitions"]
        assert p["metrics"]["rmse"]["source"] == "realised"
        assert p["metrics"]["rmse"]["estimated"] is None
