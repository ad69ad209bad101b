"""SLO results in the metadata store, on DuckDB and Postgres stores."""

from __future__ import annotations

import pandas as pd
import pytest

from watchkeeper.slo import TableSLO, evaluate
from watchkeeper.store import Store
from watchkeeper.store.slo_results import load_results

FRAME = pd.DataFrame({
    "day": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02"]),
    "id": [1, 2, 2],
    "price": [1.0, -3.0, 2.0],
})
SLO = TableSLO("orders", key=["id"]).between("price", min=0).unique("id").row_count(min=2)


@pytest.fixture(params=["duckdb", "postgres"])
def store(request, tmp_path):
    if request.param == "duckdb":
        return Store.open(tmp_path / "store.duckdb")
    schema = request.getfixturevalue("pg_schema")
    dsn = request.getfixturevalue("pg_dsn")
    return Store.open(f"{dsn}?schema={schema}")


class TestSLOResultStore:
    def test_saved_and_loaded(self, store):
        """Every (check, partition) verdict is stored with its counts and sample."""
        evaluate(FRAME, SLO, partition_column="day", store=store)
        stored = load_results(store, "orders")
        assert len(stored) == 6
        price = stored[(stored["check"] == "between_price")].set_index("partition")
        assert price.loc[pd.Timestamp("2024-01-01"), "passed"] == False  # noqa: E712
        assert price.loc[pd.Timestamp("2024-01-01"), "unexpected_count"] == 1
        assert '"id": "2"' in price.loc[pd.Timestamp("2024-01-01"), "sample"]
        assert price.loc[pd.Timestamp("2024-01-02"), "passed"] == True  # noqa: E712

    def test_reevaluation_replaces(self, store):
        """Evaluating a partition again replaces its verdicts instead of adding rows."""
        evaluate(FRAME, SLO, partition_column="day", store=store)
        fixed = FRAME.assign(price=[1.0, 3.0, 2.0])
        evaluate(fixed, SLO, partition_column="day", partitions=["2024-01-01"], store=store)
        stored = load_results(store, "orders", check="between_price")
        assert len(stored) == 2
        assert stored["passed"].astype(bool).tolist() == [True, True]
