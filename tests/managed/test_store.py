"""The managed-table catalog on both stores: DuckDB file and PostgreSQL schema."""

from __future__ import annotations

import pandas as pd
import pytest

from watchkeeper import Store
from watchkeeper.managed import InvalidPartitionError, managed_table
from watchkeeper.store import managed as catalog
from watchkeeper.store.migrations import MIGRATIONS

from .data import batch, write_project


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if request.param == "duckdb":
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        return str(tmp_path / ".watchkeeper" / "store.duckdb")
    dsn = request.getfixturevalue("pg_dsn")
    schema = request.getfixturevalue("pg_schema")
    url = f"{dsn}?schema={schema}"
    monkeypatch.setenv("WK_STORE_URL", url)
    return url


class TestCatalog:
    """Ingests, quarantined batches and snapshots round-trip through either store."""

    def test_migration_6_creates_the_tables(self, store_url):
        """Opening a store applies migration 6 (managed tables)."""
        assert 6 in [m[0] for m in MIGRATIONS]
        store = Store.open(store_url)
        assert catalog.ingests(store, "t").empty and catalog.committed_version(store, "t") is None

    def test_record_and_supersede(self, store_url):
        """A committed ingest supersedes the partition's earlier quarantined batch."""
        store = Store.open(store_url)
        base = {"table_name": "t", "partition_start": pd.Timestamp("2024-01-01"),
                "status": "committed", "rows_in": 3, "rows_valid": 2, "rows_quarantined": 1,
                "failed_critical": ["c"], "failed_other": [], "source": "x",
                "started_at": pd.Timestamp("2024-01-02")}
        catalog.record_ingest(store, {**base, "ingest_id": "a", "data_version": 0},
                              {"file": "quarantine/a.parquet", "row_count": 1, "rejected": False})
        catalog.record_ingest(store, {**base, "ingest_id": "b", "data_version": 1,
                                      "rows_quarantined": 0, "failed_critical": []}, None)
        assert catalog.committed_version(store, "t") == 1
        frame = catalog.ingests(store, "t")
        assert frame["ingest_id"].tolist() == ["a", "b"]
        assert frame["failed_critical"].tolist() == [["c"], []]
        assert catalog.quarantine_batches(store, "t").empty
        assert catalog.quarantine_batches(store, "t", current_only=False)[
            "superseded_by"].tolist() == ["b"]

    def test_snapshots(self, store_url):
        """A snapshot is saved once and resolved by id."""
        store = Store.open(store_url)
        catalog.save_snapshot(store, "snap-1", "t", 3, [("2024-01-01", "a")])
        catalog.save_snapshot(store, "snap-1", "t", 3, [("2024-01-01", "a")])
        assert catalog.load_snapshot(store, "snap-1")["partitions"] == [("2024-01-01", "a")]
        assert catalog.load_snapshot(store, "snap-2") is None

    def test_end_to_end(self, store_url, tmp_path):
        """Ingest, guard, re-ingest and snapshot behave the same on either store."""
        write_project(tmp_path)
        orders = managed_table("orders", tmp_path)
        orders.ingest(batch("2024-03-01", bad_price=1), partition="2024-03-01")
        with pytest.raises(InvalidPartitionError):
            orders.read()
        assert orders.quarantine().num_rows == 1
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        snap = orders.snapshot()
        assert orders.read(snapshot=snap).num_rows == 20 and snap.version == 1
