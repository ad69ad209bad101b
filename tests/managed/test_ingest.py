"""Quarantine on write: what is committed, what is quarantined, what is recorded."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
import yaml

from watchkeeper.errors import ConfigError, PartitionColumnError
from watchkeeper.managed import managed_table
from watchkeeper.slo import TableSLO
from watchkeeper.store.slo_results import load_results
from watchkeeper.store.trigger_log import TriggerLog

from .data import batch, user_rows, write_project


class TestIngest:
    """``ManagedTable.ingest`` splits a batch into committed and quarantined rows."""

    def test_clean_batch_is_committed_whole(self, orders):
        """A batch that passes every check is committed as version 0, nothing quarantined."""
        frame = batch("2024-03-01")
        result = orders.ingest(frame, partition="2024-03-01")
        assert (result.status, result.version, result.ok) == ("committed", 0, True)
        assert (result.rows_in, result.rows_valid, result.rows_quarantined) == (20, 20, 0)
        pd.testing.assert_frame_equal(user_rows(orders.read()), user_rows(frame),
                                      check_dtype=False)

    def test_violating_rows_go_to_quarantine_with_their_checks(self, orders):
        """Each quarantined row names the critical checks it failed and its ingest id."""
        frame = batch("2024-03-01", bad_price=2, null_ids=1, bad_size=1)
        result = orders.ingest(frame, partition="2024-03-01")
        assert (result.rows_valid, result.rows_quarantined) == (16, 4)
        assert set(result.failed_critical) == {"price_positive", "not_null_order_id",
                                               "size_known"}
        q = orders.quarantine(format="pandas").sort_values("_wk_row")
        assert q["_wk_row"].tolist() == [0, 1, 2, 3]
        assert [list(x) for x in q["_wk_failed_checks"]] == [
            ["price_positive"], ["price_positive"], ["not_null_order_id"], ["size_known"]]
        assert set(q["_wk_ingest_id"]) == {result.ingest_id}
        committed = orders.read(allow_invalid=True, format="pandas")
        assert (committed["price"] > 0).all() and committed["order_id"].notna().all()

    def test_duplicates_beyond_the_first_are_quarantined(self, orders):
        """``unique`` keeps the first row of a value (in batch order) and quarantines the rest."""
        frame = batch("2024-03-01", dup_ids=1)
        orders.ingest(frame, partition="2024-03-01")
        q = orders.quarantine(format="pandas")
        assert q["_wk_row"].tolist() == [19]
        assert list(q["_wk_failed_checks"][0]) == ["unique_order_id"]

    def test_warning_checks_do_not_quarantine(self, orders):
        """A failed warning check is recorded, but its rows are committed."""
        frame = batch("2024-03-01")
        frame.loc[0, "qty"] = 50
        result = orders.ingest(frame, partition="2024-03-01")
        assert result.ok and result.failed_other == ("qty_small",)
        assert result.rows_quarantined == 0 and orders.read().num_rows == 20

    def test_rows_outside_the_partition_are_quarantined(self, orders):
        """Rows whose partition column lies in another partition fail built-in partition_key."""
        result = orders.ingest(batch("2024-03-01", outside=3), partition="2024-03-01")
        assert result.rows_quarantined == 3 and "partition_key" in result.failed_critical
        q = orders.quarantine(format="pandas")
        assert all(list(x) == ["partition_key"] for x in q["_wk_failed_checks"])

    def test_mostly_tolerates_quarantined_rows(self, project):
        """With mostly below 1, a few bad rows are still quarantined but the partition is valid."""
        write_project(project, checks=[{"name": "price_positive", "kind": "between",
                                        "column": "price", "min": 0, "strict_min": True,
                                        "mostly": 0.9}])
        orders = managed_table("orders", project)
        result = orders.ingest(batch("2024-03-01", bad_price=1), partition="2024-03-01")
        assert result.ok and result.rows_quarantined == 1
        assert orders.read().num_rows == 19  # no InvalidPartitionError

    def test_reingest_replaces_the_partition(self, orders):
        """Ingesting a partition again replaces its rows and supersedes its quarantine."""
        orders.ingest(batch("2024-03-01", bad_price=2), partition="2024-03-01")
        second = batch("2024-03-01", n=30, seed=1)
        result = orders.ingest(second, partition="2024-03-01")
        assert result.version == 1
        pd.testing.assert_frame_equal(user_rows(orders.read()), user_rows(second),
                                      check_dtype=False)
        assert orders.quarantine().num_rows == 0
        assert orders.quarantine(include_superseded=True).num_rows == 2

    def test_same_batch_twice_is_idempotent(self, orders):
        """The same batch ingested twice leaves the same rows and the same quarantine."""
        frame = batch("2024-03-01", bad_size=2)
        orders.ingest(frame, partition="2024-03-01")
        first_rows, first_q = user_rows(orders.read(allow_invalid=True)), user_rows(
            orders.quarantine())
        orders.ingest(frame, partition="2024-03-01")
        pd.testing.assert_frame_equal(user_rows(orders.read(allow_invalid=True)), first_rows)
        pd.testing.assert_frame_equal(user_rows(orders.quarantine()), first_q)

    def test_reject_keeps_the_previous_version(self, project):
        """on_partition_failure: reject sends a batch with a critical row-count failure to
        quarantine whole and keeps the partition's previous rows."""
        write_project(project, managed={"on_partition_failure": "reject"})
        orders = managed_table("orders", project)
        good = batch("2024-03-01")
        orders.ingest(good, partition="2024-03-01")
        result = orders.ingest(batch("2024-03-01", n=3, bad_price=1), partition="2024-03-01")
        assert (result.status, result.version, result.rows_valid) == ("rejected", None, 0)
        assert result.rows_quarantined == 3 and "row_count" in result.failed_critical
        pd.testing.assert_frame_equal(user_rows(orders.read()), user_rows(good),
                                      check_dtype=False)
        q = orders.quarantine(format="pandas").sort_values("_wk_row")
        assert [list(x) for x in q["_wk_failed_checks"]] == [
            ["price_positive", "row_count"], ["row_count"], ["row_count"]]

    def test_schema_break_rejects_with_a_schema_check(self, project):
        """A schema check with reject turns a renamed column into a rejected batch."""
        write_project(project, managed={"on_partition_failure": "reject"}, checks=[
            {"kind": "schema", "columns": {"order_id": "string", "price": "float"}}])
        orders = managed_table("orders", project)
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        broken = batch("2024-03-02").rename(columns={"price": "cost"})
        result = orders.ingest(broken, partition="2024-03-02")
        assert result.status == "rejected" and result.failed_critical == ("schema",)
        assert orders.partitions()["partition"].tolist() == ["2024-03-01"]

    def test_results_are_stored(self, orders):
        """The batch's verdicts land in the store's SLO results, as wk validate's do."""
        orders.ingest(batch("2024-03-01", bad_price=1), partition="2024-03-01")
        stored = load_results(orders.store, "orders")
        row = stored[stored["check"] == "price_positive"].iloc[0]
        assert bool(row["passed"]) is False and int(row["unexpected_count"]) == 1

    def test_frames_of_every_kind(self, orders):
        """pandas, Polars and Arrow frames and a Parquet path ingest the same rows."""
        import polars as pl

        frame = batch("2024-03-01")
        path = orders.root / "b.parquet"
        frame.to_parquet(path)
        for i, data in enumerate([frame, pl.from_pandas(frame), pa.Table.from_pandas(frame),
                                  str(path)]):
            result = orders.ingest(data, partition="2024-03-01")
            assert result.version == i and result.rows_valid == 20

    def test_quarantined_rows_fire_an_event(self, project):
        """ingest.quarantined reaches triggers; a quarantine_partition action holds the
        partition for guarded reads until the next ingest."""
        write_project(project, triggers={"hold": {"event": "ingest.quarantined", "actions": [
            {"quarantine_partition": {"reason": "bad batch"}}]}}, checks=[
            {"kind": "between", "column": "price", "min": 0, "strict_min": True,
             "mostly": 0.5}])
        orders = managed_table("orders", project)
        orders.ingest(batch("2024-03-01", bad_price=1), partition="2024-03-01")
        firings = TriggerLog(orders.store).quarantine_requests()
        assert firings["partition_key"].tolist() == ["2024-03-01"]
        assert orders.partitions()["failed"].tolist() == [["quarantine_partition (hold)"]]
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")  # clean: no event
        assert orders.read().num_rows == 20


class TestIngestErrors:
    """Bad input is a one-line UserError before anything is written."""

    def test_partition_must_start_a_partition(self, orders):
        """A time inside a day is not a day partition."""
        with pytest.raises(ConfigError, match="not the start of a day partition"):
            orders.ingest(batch("2024-03-01"), partition="2024-03-01T05:00")

    def test_reserved_columns(self, orders):
        """Columns starting with _wk_ are refused."""
        with pytest.raises(ConfigError, match="reserved"):
            orders.ingest(batch("2024-03-01").assign(_wk_x=1), partition="2024-03-01")

    def test_missing_partition_column(self, orders):
        """A batch without the partition column names it."""
        with pytest.raises(PartitionColumnError, match="date"):
            orders.ingest(batch("2024-03-01").drop(columns=["date"]), partition="2024-03-01")
        assert orders.versions().empty

    def test_type_change_is_refused(self, orders):
        """A column whose type the Delta table cannot hold is a one-line error."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        other = batch("2024-03-02").assign(qty="many")
        orders2 = managed_table("orders", orders.project, slo=TableSLO("orders"))
        with pytest.raises(ConfigError, match="column 'qty' is int64 in the table but"):
            orders2.ingest(other, partition="2024-03-02")
        assert orders.partitions()["partition"].tolist() == ["2024-03-01"]

    def test_unknown_table(self, project):
        """A table not declared under managed: says how to declare it."""
        from watchkeeper.errors import UnknownTableError

        with pytest.raises(UnknownTableError, match="managed:"):
            managed_table("nope", project)


class TestGranularities:
    """Hour and week partitions work like days."""

    def test_hour_and_week(self, tmp_path, monkeypatch):
        """Hourly partitions (a colon in the Delta partition value) and Monday-started weeks."""
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        frame = pd.DataFrame({"ts": pd.date_range("2024-01-01 13:00", periods=5, freq="5min"),
                              "x": [1.0, 2.0, None, 4.0, 5.0]})
        hourly = managed_table("ev", partition_column="ts", granularity="hour",
                               slo=TableSLO("ev").not_null("x"), root=tmp_path)
        assert hourly.ingest(frame, partition="2024-01-01T13:00").rows_quarantined == 1
        assert hourly.partitions()["partition"].tolist() == ["2024-01-01T13:00:00"]
        assert hourly.read(since="2024-01-01T13:00", allow_invalid=True).num_rows == 4
        weekly = managed_table("wk", partition_column="ts", granularity="week",
                               slo=TableSLO("wk"), root=tmp_path)
        assert weekly.ingest(frame, partition="2024-01-01").rows_valid == 5
        with pytest.raises(ConfigError, match="pass 2024-01-01"):
            weekly.ingest(frame, partition="2024-01-03")


class TestCrossRowChecks:
    """compound_unique and referential checks quarantine the rows that break them."""

    def test_compound_unique_and_referential(self, project):
        """Repeated (order, line) pairs beyond the first and unknown customers are quarantined;
        NULL customers are not judged."""
        pd.DataFrame({"id": ["c1", "c2"]}).to_parquet(project / "customers.parquet")
        config = yaml.safe_load((project / "watchkeeper.yaml").read_text())
        config["tables"] = {"customers": {"source": "customers.parquet",
                                          "partition_column": "since"}}
        config["slos"]["tables"]["orders"]["checks"] = [
            {"kind": "compound_unique", "columns": ["order_id", "line"]},
            {"kind": "referential", "column": "customer", "table": "customers",
             "other_column": "id"}]
        (project / "watchkeeper.yaml").write_text(yaml.safe_dump(config))
        orders = managed_table("orders", project)
        frame = pd.DataFrame({"order_id": ["a", "a", "a", "b", "b"], "line": [1, 2, 1, 1, 1],
                              "customer": ["c1", "c9", "c1", None, "c2"],
                              "date": [pd.Timestamp("2024-03-01").date()] * 5})
        result = orders.ingest(frame, partition="2024-03-01")
        q = orders.quarantine(format="pandas").sort_values("_wk_row")
        assert q["_wk_row"].tolist() == [1, 2, 4]
        assert [sorted(x) for x in q["_wk_failed_checks"]] == [
            ["referential_customer"], ["compound_unique_order_id_line"],
            ["compound_unique_order_id_line"]]
        assert result.rows_valid == 2

    def test_referential_as_the_only_critical_row_check(self, project):
        """A table whose one critical row check is referential ingests: unknown customers are
        quarantined, the others committed, duplicates of a known value kept."""
        pd.DataFrame({"id": ["c1", "c2"]}).to_parquet(project / "customers.parquet")
        config = yaml.safe_load((project / "watchkeeper.yaml").read_text())
        config["tables"] = {"customers": {"source": "customers.parquet",
                                          "partition_column": "since"}}
        config["slos"]["tables"]["orders"]["checks"] = [
            {"kind": "referential", "column": "customer", "table": "customers",
             "other_column": "id"}]
        (project / "watchkeeper.yaml").write_text(yaml.safe_dump(config))
        orders = managed_table("orders", project)
        frame = pd.DataFrame({"order_id": ["a", "b", "c", "d"],
                              "customer": ["c1", "c9", None, "c1"],
                              "date": [pd.Timestamp("2024-03-01").date()] * 4})
        result = orders.ingest(frame, partition="2024-03-01")
        assert (result.rows_valid, result.rows_quarantined) == (3, 1)
        assert orders.quarantine(format="pandas")["_wk_row"].tolist() == [1]
        assert sorted(orders.read(allow_invalid=True, format="pandas")["order_id"]) == [
            "a", "c", "d"]

