"""Ingest never changes data silently: type changes, misaddressed batches, emptied partitions."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from cli_helpers import run
from watchkeeper.errors import ConfigError
from watchkeeper.managed import managed_table

from .data import batch, user_rows, write_project

QTY_POSITIVE = [{"name": "qty_positive", "kind": "between", "column": "qty", "min": 0,
                 "strict_min": True}]


def _run(argv, capsys) -> tuple[int, str]:
    code, out, err = run(argv, capsys)
    return code or 0, out + err


def _day2_floats(qty) -> pd.DataFrame:
    frame = batch("2024-03-02", n=len(qty))
    return frame.assign(qty=[float(q) for q in qty])


class TestTypeChanges:
    """A batch column of another type than the table's is converted only without loss."""

    def test_floats_into_an_integer_column_are_refused(self, project):
        """1.7 and -0.9 never become 1 and 0; a check never passes on 0.4 to store 0."""
        write_project(project, checks=QTY_POSITIVE)
        orders = managed_table("orders", project)
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        for qty in ([1.7, -0.9, 3.0], [0.4, 2.0, 3.0]):
            with pytest.raises(ConfigError, match="column 'qty' is int64 in the table but "
                                                  "double in the batch"):
                orders.ingest(_day2_floats(qty), partition="2024-03-02")
        assert orders.partitions()["partition"].tolist() == ["2024-03-01"]

    def test_cast_policy_converts_exact_values_only(self, project):
        """on_type_change: cast stores 2.0 as 2, refuses 1.7, and checks the stored values."""
        write_project(project, checks=QTY_POSITIVE, managed={"on_type_change": "cast"})
        orders = managed_table("orders", project)
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        with pytest.raises(ConfigError, match=r"1\.7"):
            orders.ingest(_day2_floats([1.7, 2.0, 3.0]), partition="2024-03-02")
        result = orders.ingest(_day2_floats([2.0, 0.0, 3.0]), partition="2024-03-02")
        assert result.failed_critical == ("qty_positive",) and result.rows_quarantined == 1
        stored = orders.read(partitions=["2024-03-02"], allow_invalid=True)
        assert str(stored.schema.field("qty").type) == "int64"
        assert sorted(stored["qty"].to_pylist()) == [2, 3]

    def test_lossless_widening_is_accepted(self, project):
        """int32 into an int64 column, and integers into a float column, need no policy."""
        orders = managed_table("orders", project)
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        narrow = batch("2024-03-02").astype({"qty": "int32", "price": "float64"})
        narrow["price"] = narrow["price"].round().astype("int64")
        result = orders.ingest(narrow, partition="2024-03-02")
        assert result.ok
        stored = orders.read(partitions=["2024-03-02"])
        assert (str(stored.schema.field("qty").type), str(stored.schema.field("price").type)) \
            == ("int64", "double")
        assert stored["price"].to_pylist() == [float(p) for p in narrow["price"]]

    def test_nanoseconds_are_stored_as_microseconds(self, orders):
        """Delta keeps microseconds: a pandas timestamp's nanoseconds are dropped, on the first
        ingest and later ones alike, never an error."""
        for day in ("2024-03-01", "2024-03-02"):
            frame = batch(day).assign(at=pd.Timestamp(f"{day} 10:00:00.123456789"))
            assert orders.ingest(frame, partition=day).ok
        stored = orders.read(format="pandas")["at"]
        assert {t.nanosecond for t in stored} == {0}
        assert {t.microsecond for t in stored} == {123456}

    @pytest.mark.parametrize("change", ["bool", "timestamp", "string"])
    def test_other_kinds_are_refused_under_any_policy(self, project, change):
        """Booleans, times and strings never become numbers, even with cast."""
        write_project(project, managed={"on_type_change": "cast"})
        orders = managed_table("orders", project)
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        day2 = batch("2024-03-02")
        day2["qty"] = {"bool": True, "timestamp": pd.Timestamp("2024-03-02"),
                       "string": "3"}[change]
        with pytest.raises(ConfigError, match="column 'qty'"):
            orders.ingest(day2, partition="2024-03-02")

    def test_unknown_policy_is_a_config_error(self, project):
        write_project(project, managed={"on_type_change": "evolve"})
        with pytest.raises(ConfigError, match="on_type_change 'evolve' is not one of"):
            managed_table("orders", project)


class TestMisaddressedBatch:
    """A batch none of whose rows lie in --partition is a user error; nothing changes."""

    def test_api_refuses_and_names_the_partitions(self, orders):
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        before = user_rows(orders.read())
        with pytest.raises(ConfigError, match="lie in 2024-03-02: pass --partition 2024-03-02"):
            orders.ingest(batch("2024-03-02"), partition="2024-03-01")
        pd.testing.assert_frame_equal(user_rows(orders.read()), before)
        assert len(orders.versions()) == 1 and orders.quarantine().num_rows == 0

    def test_cli_exits_2(self, project, capsys):
        orders = managed_table("orders", project)
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        batch("2024-03-02").to_parquet(project / "day2.parquet")
        code, out = _run(["ingest", "orders", "day2.parquet", "--partition", "2024-03-01"],
                         capsys)
        assert code == 2 and "2024-03-02" in out and "Traceback" not in out
        assert orders.read().num_rows == 20


class TestNoEmptyReplacement:
    """Zero valid rows never replace a partition with rows, unless allow_empty."""

    def _all_bad(self):
        return batch("2024-03-01", bad_price=20)

    def test_all_rows_failing_rejects_the_batch(self, orders):
        """Every row quarantined: the batch is rejected and the partition keeps its rows."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        result = orders.ingest(self._all_bad(), partition="2024-03-01")
        assert (result.status, result.version, result.ok) == ("rejected", None, False)
        assert "keeps its 20 rows" in result.note and result.rows_quarantined == 20
        assert orders.read().num_rows == 20

    def test_allow_empty_replaces(self, orders):
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        result = orders.ingest(self._all_bad(), partition="2024-03-01", allow_empty=True)
        assert result.status == "committed" and result.rows_valid == 0
        assert orders.read(allow_invalid=True).num_rows == 0

    def test_empty_batch_is_refused(self, orders):
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        with pytest.raises(ConfigError, match="--allow-empty"):
            orders.ingest(batch("2024-03-01").iloc[:0], partition="2024-03-01")
        assert orders.read().num_rows == 20

    def test_first_ingest_of_bad_rows_commits_nothing_to_lose(self, orders):
        """A new partition has nothing to keep: an all-bad batch commits zero rows."""
        result = orders.ingest(self._all_bad(), partition="2024-03-01")
        assert result.status == "committed" and result.rows_valid == 0

    def test_cli_flag(self, project, capsys):
        orders = managed_table("orders", project)
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        self._all_bad().to_parquet(project / "bad.parquet")
        code, out = _run(["ingest", "orders", "bad.parquet", "--partition", "2024-03-01",
                          "--format", "json"], capsys)
        assert code == 1 and json.loads(out)["status"] == "rejected"
        code, out = _run(["ingest", "orders", "bad.parquet", "--partition", "2024-03-01",
                          "--allow-empty", "--format", "json"], capsys)
        assert code == 1 and json.loads(out)["status"] == "committed"
        assert orders.read(allow_invalid=True).num_rows == 0
