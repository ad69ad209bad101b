"""``pipeline.predict(frame)`` scores a frame through the guards and logs it like
``wk predict``; ``wk.log`` logs any frame into a managed table in one call."""

from __future__ import annotations

import pandas as pd
import pytest

import watchkeeper as wk
from watchkeeper.errors import ConfigError
from watchkeeper.pipelines import Registry, load_pipeline, promote, shadow, trace

from pizza_data import make_project, orders, revenue_pipeline

GUARD = {"revenue-guard": {"event": "serve.before", "model": "revenue", "actions": [
    {"clip": {"column": "prediction", "max": 30}}]}}


@pytest.fixture
def champion(workdir, mlflow_template):
    """Version 1 champion, version 2 shadow, a clip guard; the orders of day 26, which the
    tables have not seen (they hold 25 days)."""
    make_project(workdir, days=25, mlflow_db=mlflow_template,
                 pipelines={"revenue": revenue_pipeline(windows={"train": 10, "eval": 3})})
    project = wk.Project.find()
    project.extra["triggers"] = GUARD
    project.save()
    wk.run("revenue")
    wk.run("revenue", selection="averaged")
    registry, store = Registry(project), project.store()
    promote(registry, store, project, "revenue", "1")
    shadow(registry, store, project, "revenue", "2")
    features, _ = orders(26)
    new_day = features[features["date"] == features["date"].max()].reset_index(drop=True)
    return load_pipeline(project, "revenue"), new_day


class TestPredictFrame:
    def test_guarded_logged_and_traced(self, champion):
        """The frame's rows are scored by the champion, clipped by its guard, logged with
        the shadow's beside them, and the batch traces to version 1."""
        spec, frame = champion
        result = spec.predict(frame)
        assert result.ok and (result.version, result.shadow_version) == ("1", "2")
        assert result.rows == len(frame) and result.served["prediction"].max() <= 30
        logged = wk.managed_table("revenue_predictions", partition_column="date").read(
            format="pandas")
        assert logged.groupby("stage").size().to_dict() == {"champion": len(frame),
                                                           "shadow": len(frame)}
        assert set(logged["order_id"]) == set(frame["order_id"])
        assert trace(result.batch_id)["model_version"] == "1"

    def test_batches_of_one_partition_add_up(self, champion):
        """Two halves of a day, predicted one after the other, are both kept; a row
        scored again replaces its earlier prediction."""
        spec, frame = champion
        half = len(frame) // 2
        spec.predict(frame.iloc[:half])
        spec.predict(frame.iloc[half - 3:])
        logged = wk.managed_table("revenue_predictions", partition_column="date").read(
            format="pandas")
        champion_rows = logged[logged["stage"] == "champion"]
        assert len(champion_rows) == len(frame)
        assert champion_rows["order_id"].is_unique

    def test_frame_mistakes(self, champion):
        """A missing feature column, a missing key, two days at once: one-line errors."""
        spec, frame = champion
        with pytest.raises(ConfigError, match="no feature column 'hour', which version 1"):
            spec.predict(frame.drop(columns=["hour"]))
        with pytest.raises(ConfigError, match="no column 'order_id'"):
            spec.predict(frame.drop(columns=["order_id"]))
        two = pd.concat([frame, frame.assign(date=pd.Timestamp("2015-02-01"))])
        with pytest.raises(ConfigError, match="rows of 2 partitions"):
            spec.predict(two)
        assert len(spec.predict(frame.drop(columns=["date"]),
                                partition="2015-01-26").served) == len(frame)


class TestLog:
    def test_one_call_logs_and_appends(self, workdir):
        """wk.log makes the managed table on first use, stamps the partition, adds a
        second call's rows to the first's, and replace mode replaces them."""
        wk.Project.init(workdir)
        features, _ = orders(2)
        day = features[features["date"] == features["date"].min()]
        first = wk.log(day.drop(columns=["date"]).iloc[:20], table="seen_orders",
                       partition="2015-01-01")
        assert first.status == "committed" and first.rows_valid == 20
        wk.log(day.drop(columns=["date"]).iloc[20:], table="seen_orders",
               partition="2015-01-01")
        table = wk.managed_table("seen_orders", partition_column="partition")
        rows = table.read(format="pandas")
        assert len(rows) == len(day) and set(rows["order_id"]) == set(day["order_id"])
        assert (pd.to_datetime(rows["partition"]) == pd.Timestamp("2015-01-01")).all()
        wk.log(day.drop(columns=["date"]).iloc[:5], table="seen_orders",
               partition="2015-01-01", mode="replace")
        assert len(table.read(format="pandas")) == 5

    def test_a_replace_opens_the_store_and_the_delta_table_once(self, workdir, monkeypatch):
        """A logged batch costs one store connection and one Delta table open (their
        opening is most of what a log costs beyond writing the data)."""
        from watchkeeper.engine import delta
        from watchkeeper.store import _db

        wk.Project.init(workdir)
        features, _ = orders(1)
        frame = features.drop(columns=["date"])
        wk.log(frame, table="seen_orders", partition="2015-01-01")
        opened = {"store": 0, "delta": 0}
        connect, open_table = _db.connect, delta.open_table

        def counted(kind, real):
            def call(*args, **kwargs):
                opened[kind] += 1
                return real(*args, **kwargs)
            return call

        monkeypatch.setattr(_db, "connect", counted("store", connect))
        monkeypatch.setattr(delta, "open_table", counted("delta", open_table))
        monkeypatch.setattr(delta._deltalake().DeltaTable, "__init__",
                            counted("delta", delta._deltalake().DeltaTable.__init__))
        result = wk.log(frame.iloc[:7], table="seen_orders", partition="2015-01-01",
                        mode="replace")
        assert result.status == "committed" and result.rows_valid == 7
        assert opened == {"store": 1, "delta": 2}  # open_table, and the handle it makes

    def test_declared_table_is_validated(self, workdir):
        """A table declared under managed: keeps its partition column and its SLOs: rows
        failing a critical check go to quarantine."""
        project = wk.Project.init(workdir)
        project.extra["managed"] = {"orders_in": {"partition_column": "date"}}
        project.extra["slos"] = {"tables": {"orders_in": {"checks": [
            {"name": "pizzas_positive", "kind": "between", "column": "pizzas", "min": 1,
             "severity": "critical"}]}}}
        project.save()
        features, _ = orders(1)
        features.loc[features.index[:3], "pizzas"] = -1
        result = wk.log(features, table="orders_in", partition="2015-01-01")
        assert result.rows_quarantined == 3 and result.rows_valid == len(features) - 3
        with pytest.raises(ConfigError, match="mode 'merge' is not one of append, replace"):
            wk.log(features, table="orders_in", partition="2015-01-01", mode="merge")
