"""``watchkeeper.run`` on real data (gt::pizzaplace orders): gating, moving windows,
registration and lineage."""

from __future__ import annotations

import pandas as pd
import pytest

import watchkeeper as wk
from watchkeeper.errors import ConfigError
from watchkeeper.pipelines import Registry, lineage, model_lineage

from pizza_data import make_project, orders, revenue_pipeline

CORRUPT = 30  # 2015-01-31: a tenth of its orders say pizzas = -1 (a critical SLO fails)


@pytest.fixture(scope="module")
def ran(tmp_path_factory, mlflow_template):
    """One project, one run of the revenue pipeline over 35 days with day 30 corrupted."""
    root = tmp_path_factory.mktemp("pizza")
    project = make_project(root, days=35, corrupt=CORRUPT, mlflow_db=mlflow_template,
                           pipelines={"revenue": revenue_pipeline()})
    return project, wk.run("revenue", project=root)


class TestGating:
    def test_corrupted_partition_is_skipped_and_listed(self, ran):
        """The gate turns the corrupted day away; the run still succeeds without it."""
        project, result = ran
        bad = project.days[CORRUPT]
        assert result.ok and list(result.skipped) == [bad]
        assert any("pizzas_positive" in r for r in result.skipped[bad])
        assert bad not in result.train + result.eval

    def test_windows_are_the_newest_valid_partitions(self, ran):
        """Eval is the newest 5 valid days; train the 14 valid days just before them."""
        project, result = ran
        valid = [d for i, d in enumerate(project.days) if i != CORRUPT]
        assert result.eval == valid[-5:]
        assert result.train == valid[-19:-5]
        assert [row["partition"] for row in result.per_partition] == result.eval
        assert all(row["rows"] > 30 and row["rmse"] > 0 for row in result.per_partition)

    def test_too_few_valid_partitions_block_the_run(self, workdir, mlflow_template):
        """Windows that need every day cannot skip the corrupted one: blocked, nothing
        registered, and the blocked run is recorded with its reason."""
        make_project(workdir, days=25, corrupt=20, mlflow_db=mlflow_template,
                     pipelines={"revenue": revenue_pipeline(windows={"train": 20, "eval": 5})})
        result = wk.run("revenue")
        assert result.status == "blocked" and not result.ok and result.version is None
        assert "only 24 valid partitions of the 25" in result.reasons[0]
        assert Registry(wk.Project.find()).versions("revenue") == []
        runs = lineage.runs(wk.Project.find().store(), "revenue")
        assert runs["status"].tolist() == ["blocked"]

    def test_window_longer_than_history_is_a_config_error(self, workdir):
        """A spec asking for more partitions than the data has is a one-line ConfigError."""
        make_project(workdir, days=10,
                     pipelines={"revenue": revenue_pipeline(windows={"train": 14, "eval": 5})})
        with pytest.raises(ConfigError, match="windows need 19 partitions .* has 10"):
            wk.run("revenue")

    def test_missing_label_key_is_a_config_error(self, workdir):
        """A label entity key the table lacks is named, with the fix."""
        make_project(workdir, days=10, pipelines={"revenue": revenue_pipeline(
            label={"table": "order_labels", "column": "revenue", "entity": ["order_no"]})})
        with pytest.raises(ConfigError, match="entity key 'order_no' is not a column of table "
                                              "'order_labels'"):
            wk.run("revenue")


class TestMovingWindows:
    def test_a_new_day_moves_both_windows(self, tmp_path, mlflow_template):
        """When a day arrives, eval gains it and loses its oldest day; train follows."""
        make_project(tmp_path, days=30, mlflow_db=mlflow_template,
                     pipelines={"revenue": revenue_pipeline()})
        first = wk.run("revenue", project=tmp_path)
        features, labels = orders(31)
        features.to_parquet(tmp_path / "order_features.parquet", index=False)
        labels.to_parquet(tmp_path / "order_labels.parquet", index=False)
        second = wk.run("revenue", project=tmp_path)
        assert second.eval == first.eval[1:] + [second.eval[-1]]
        assert second.eval[-1] > first.eval[-1]
        assert second.train == first.train[1:] + [first.eval[0]]
        assert (first.version, second.version) == ("1", "2")

    def test_labels_arriving_late_keep_windows_on_labelled_days(self, tmp_path, mlflow_template):
        """Days whose labels have not arrived are not trained or evaluated on."""
        make_project(tmp_path, days=30, mlflow_db=mlflow_template,
                     pipelines={"revenue": revenue_pipeline()})
        _, labels = orders(27)
        labels.to_parquet(tmp_path / "order_labels.parquet", index=False)
        result = wk.run("revenue", project=tmp_path)
        assert result.eval[-1] == sorted(labels["date"].dt.date.astype(str).unique())[-1]


class TestRegistration:
    def test_version_is_registered_as_challenger_with_metrics(self, ran):
        """The run's model is version 1 in the embedded MLflow registry, alias challenger,
        with the eval window's metrics; the tracking store is under .watchkeeper/."""
        project, result = ran
        registry = Registry(wk.Project.find(project.root))
        assert registry.uri.endswith(".watchkeeper/mlflow.db")
        assert (project.root / ".watchkeeper" / "mlflow.db").is_file()
        [version] = registry.versions("revenue")
        assert version["version"] == result.version == "1"
        assert version["aliases"] == ["challenger"]
        assert version["metrics"]["rmse"] == pytest.approx(result.metrics["rmse"])

    def test_registered_model_predicts_like_the_run(self, ran):
        """Loading the version from the project's registry gives the trained model back."""
        project, result = ran
        model = Registry(wk.Project.find(project.root)).load("revenue", result.version)
        assert model.get_params()["alpha"] == result.selection.params["alpha"]
        features, _ = orders(35)
        X = features[["pizzas", "large_share", "veggie_share", "hour"]].head(5)
        assert model.predict(X).shape == (5,)

    def test_lineage_names_every_partition_read(self, ran):
        """The store knows which partitions of which table trained and evaluated it."""
        project, result = ran
        found = model_lineage("revenue@1", project.root)
        assert found["version"] == "1" and found["aliases"] == ["challenger"]
        by_table = {t["table"]: t for t in found["tables"]}
        assert set(by_table) == {"order_features", "order_labels"}
        parts = by_table["order_features"]["partitions"]
        assert [p["partition"][:10] for p in parts if p["role"] == "train"] == result.train
        assert [p["partition"][:10] for p in parts if p["role"] == "eval"] == result.eval
        assert all(p["rows"] > 0 and p["fingerprint"] for p in parts)
        assert list(found["skipped"]) == [project.days[CORRUPT]]


class TestNothingHalfDone:
    def test_failure_after_registering_removes_the_version_and_keeps_aliases(
            self, tmp_path, monkeypatch, mlflow_template):
        """A run that fails while recording lineage leaves no version and no alias change."""
        make_project(tmp_path, days=25, mlflow_db=mlflow_template,
                     pipelines={"revenue": revenue_pipeline()})
        first = wk.run("revenue", project=tmp_path)
        registry = Registry(wk.Project.find(tmp_path))

        def broken(*args, **kwargs):
            raise RuntimeError("store went away")

        monkeypatch.setattr(lineage, "record_run", broken)
        with pytest.raises(RuntimeError, match="store went away"):
            wk.run("revenue", project=tmp_path)
        assert [v["version"] for v in registry.versions("revenue")] == [first.version]
        assert registry.aliases("revenue") == {"challenger": first.version}

    def test_failure_while_logging_registers_nothing(self, tmp_path, monkeypatch,
                                                    mlflow_template):
        """A model MLflow cannot log leaves no version; its MLflow run is marked FAILED."""
        import mlflow.sklearn

        make_project(tmp_path, days=25, mlflow_db=mlflow_template,
                     pipelines={"revenue": revenue_pipeline()})

        def broken(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(mlflow.sklearn, "log_model", broken)
        with pytest.raises(OSError, match="disk full"):
            wk.run("revenue", project=tmp_path)
        registry = Registry(wk.Project.find(tmp_path))
        assert registry.versions("revenue") == [] and registry.aliases("revenue") == {}
        runs = registry.client.search_runs(
            [registry.client.get_experiment_by_name("watchkeeper/revenue").experiment_id])
        assert [r.info.status for r in runs] == ["FAILED"]
        assert lineage.runs(wk.Project.find(tmp_path).store(), "revenue").empty


class TestManagedInputs:
    def test_managed_feature_table_is_gated_and_its_snapshot_recorded(
            self, tmp_path, mlflow_template):
        """A managed feature table: the day whose ingest failed a critical check is skipped,
        and the lineage holds a snapshot id that reads exactly the partitions used back."""
        made = make_project(tmp_path, days=22, corrupt=20, mlflow_db=mlflow_template,
                            pipelines={"revenue": revenue_pipeline(
                                features=[{"table": "features_m", "entity": ["order_id"]}])})
        found = wk.Project.find(tmp_path)
        found.extra["managed"] = {"features_m": {"partition_column": "date"}}
        found.extra["slos"]["tables"]["features_m"] = found.extra["slos"]["tables"][
            "order_features"]
        found.save()
        features = pd.read_parquet(tmp_path / "order_features.parquet")
        table = wk.managed_table("features_m", tmp_path)
        for day, rows in features.groupby("date"):
            table.ingest(rows, partition=day)
        result = wk.run("revenue", project=tmp_path)
        bad = made.days[20]
        assert result.ok and list(result.skipped) == [bad]
        assert "pizzas_positive" in result.skipped[bad][0]
        reads = lineage.reads(found.store(), "revenue", result.version)
        managed = reads[reads["table_name"] == "features_m"]
        [snapshot] = managed["snapshot_id"].unique()
        again = table.read(snapshot=snapshot, format="pandas")
        used = sorted(result.train + result.eval)
        assert sorted(again["date"].dt.date.astype(str).unique()) == used
        labels = reads[reads["table_name"] == "order_labels"]
        assert labels["snapshot_id"].isna().all() and labels["fingerprint"].notna().all()
