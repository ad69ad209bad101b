"""The metadata store on DuckDB and PostgreSQL: migrations, transactions, locking."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from pathlib import Path

from watchkeeper import Store, StoreLockedError
from watchkeeper.errors import UnknownTableError
from watchkeeper.store import SCHEMA_VERSION, TableRecord, _db
from watchkeeper.store.store import migrate

RECORD = TableRecord("events", "data/events.parquet", "ts", "day")
DAYS = [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-02")]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """A store URL for an empty store: a DuckDB file, or a fresh Postgres schema."""
    if request.param == "duckdb":
        return str(tmp_path / ".watchkeeper" / "store.duckdb")
    dsn = request.getfixturevalue("pg_dsn")
    return f"{dsn}?schema={request.getfixturevalue('pg_schema')}"


def save(store: Store, days=DAYS, scale: float = 1.0) -> None:
    """A small refresh: row counts, one statistic per partition, one top value."""
    stats = pd.DataFrame({"partition": days, "column": "x", "statistic": "mean",
                          "value": [scale * (i + 1) for i in range(len(days))]})
    top = pd.DataFrame({"partition": days, "column": "s", "rank": 1, "value": "a",
                        "ratio": 0.5})
    store.save_profile(RECORD, partitions=pd.DataFrame({"partition": days, "row_count": 10}),
                       fingerprint="f1", columns=[("x", "float", "float64")],
                       statistics=stats, top_values=top)


def set_version(url: str, version: int) -> None:
    db = _db.connect(url)
    try:
        db.execute("UPDATE wk_meta SET value = ? WHERE key = 'schema_version'", [str(version)])
    finally:
        db.close()


class TestStore:
    """Round trips through each backend."""

    def test_new_store_is_at_the_package_schema_version(self, store_url):
        """Opening an empty location creates every table at the current schema version."""
        assert Store.open(store_url).schema_version() == SCHEMA_VERSION

    def test_saved_profile_loads_back(self, store_url):
        """Statistics, top values and partition state come back as they were saved."""
        store = Store.open(store_url)
        save(store)
        stats = store.load_statistics("events")
        assert list(stats["partition"]) == DAYS and list(stats["value"]) == [1.0, 2.0]
        assert list(store.partition_state("events")["row_count"]) == [10, 10]
        assert list(store.load_top_values("events")["value"]) == ["a", "a"]
        assert store.columns("events")["column"].tolist() == ["x"]

    def test_wk_store_url_selects_the_store(self, store_url, monkeypatch, tmp_path):
        """With WK_STORE_URL set, Store.open() writes where the URL (and ?schema=) says."""
        monkeypatch.setenv("WK_STORE_URL", store_url)
        monkeypatch.chdir(tmp_path)
        if not store_url.startswith("postgresql://"):
            Path(store_url).parent.mkdir()  # WK_STORE_URL never creates a missing folder
        save(Store.open())
        monkeypatch.delenv("WK_STORE_URL")
        assert list(Store.open(store_url).load_statistics("events")["value"]) == [1.0, 2.0]
        if store_url.startswith("postgresql://"):
            import psycopg

            dsn, _, schema = store_url.partition("?schema=")
            with psycopg.connect(dsn) as con:
                found = con.execute("SELECT count(*) FROM information_schema.tables WHERE"
                                    " table_schema = %s AND table_name = 'wk_statistics'",
                                    [schema]).fetchone()
            assert found == (1,) and not (tmp_path / ".watchkeeper").exists()

    def test_unknown_table_is_a_user_error(self, store_url):
        """Asking for a table never profiled raises UnknownTableError naming it."""
        with pytest.raises(UnknownTableError, match="'nope'"):
            Store.open(store_url).load_statistics("nope")

    def test_refresh_replaces_only_its_partitions(self, store_url):
        """Saving one partition again replaces it and keeps the other."""
        store = Store.open(store_url)
        save(store)
        save(store, days=DAYS[1:], scale=10.0)
        assert list(store.load_statistics("events")["value"]) == [1.0, 10.0]


class TestMigrations:
    """An upgraded package opens an old store; an old package refuses a newer one."""

    def test_version_one_store_is_migrated_and_keeps_its_data(self, store_url):
        """A store written at schema 1 gains the schema-2 tables and keeps its rows."""
        db = _db.connect(store_url)
        try:
            assert migrate(db, up_to=1) == 1
            db.execute("INSERT INTO wk_tables VALUES (?, ?, ?, ?, ?)",
                       ["events", "data/events.parquet", "ts", "day",
                        pd.Timestamp("2023-12-31").to_pydatetime()])
            db.execute("INSERT INTO wk_partitions VALUES (?, ?, ?, ?, ?)",
                       ["events", DAYS[0].to_pydatetime(), 10, "f1",
                        pd.Timestamp("2024-01-02").to_pydatetime()])
            db.execute("INSERT INTO wk_statistics VALUES (?, ?, ?, ?, ?)",
                       ["events", DAYS[0].to_pydatetime(), "x", "mean", 4.5])
        finally:
            db.close()
        store = Store.open(store_url)
        assert store.schema_version() == SCHEMA_VERSION
        assert store.load_statistics("events")["value"].tolist() == [4.5]
        assert store.partition_state("events")["row_count"].tolist() == [10]
        save(store, days=DAYS[1:])  # the schema-2 tables accept writes
        assert store.load_statistics("events")["value"].tolist() == [4.5, 1.0]

    def test_schema_7_drops_duckdbs_secondary_indexes_only(self, store_url):
        """A schema-6 store loses its non-unique indexes on DuckDB (duckdb/duckdb#23645);
        PostgreSQL keeps them. Its data and its primary keys stay."""
        db = _db.connect(store_url)
        listing = ("SELECT index_name FROM duckdb_indexes() WHERE NOT is_unique"
                   if db.dialect == "duckdb" else
                   "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        try:
            assert migrate(db, up_to=6) == 6
            before = {row[0] for row in db.execute(listing) if not row[0].endswith("_pkey")}
            assert "wk_slo_results_key" in before and "wk_statistics_key" in before
            assert migrate(db) == SCHEMA_VERSION
            after = {row[0] for row in db.execute(listing) if not row[0].endswith("_pkey")}
        finally:
            db.close()
        assert after == (set() if db.dialect == "duckdb" else before)
        store = Store.open(store_url)
        save(store)
        save(store, scale=2.0)  # a refresh deletes and rewrites the same rows
        assert store.load_statistics("events")["value"].tolist() == [2.0, 4.0]

    def test_newer_store_is_refused(self, store_url):
        """A store migrated by a newer watchkeeper raises StoreLockedError, untouched."""
        Store.open(store_url)
        set_version(store_url, SCHEMA_VERSION + 1)
        with pytest.raises(StoreLockedError, match=f"schema {SCHEMA_VERSION + 1}"):
            Store.open(store_url)
        db = _db.connect(store_url)
        try:
            assert db.execute("SELECT value FROM wk_meta WHERE key = 'schema_version'") == [
                (str(SCHEMA_VERSION + 1),)]
        finally:
            db.close()


class TestTransactions:
    """A write that fails midway leaves the previous refresh intact."""

    def test_failed_insert_rolls_back_the_whole_refresh(self, store_url, monkeypatch):
        """If inserting statistics fails after partitions were replaced, nothing changes."""
        store = Store.open(store_url)
        save(store)
        before = (store.load_statistics("events"), store.partition_state("events"),
                  store.load_top_values("events"))
        originals = {cls: cls.insert_frame for cls in (_db.DuckDatabase, _db.PostgresDatabase)}

        def failing(cls):
            def insert_frame(self, table, frame):
                if table == "wk_statistics":
                    raise RuntimeError("disk full")
                return originals[cls](self, table, frame)
            return insert_frame

        for cls in originals:
            monkeypatch.setattr(cls, "insert_frame", failing(cls))
        with pytest.raises(RuntimeError, match="disk full"):
            save(store, scale=100.0)
        monkeypatch.undo()
        after = (store.load_statistics("events"), store.partition_state("events"),
                 store.load_top_values("events"))
        for old, new in zip(before, after):
            pd.testing.assert_frame_equal(old, new)


_HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


class TestLocking:
    """A DuckDB store held by another process gives a one-line StoreLockedError."""

    def test_store_held_by_another_process(self, tmp_path, monkeypatch):
        """While a second process holds the file past WK_LOCK_TIMEOUT, opening it raises
        StoreLockedError."""
        monkeypatch.setenv("WK_LOCK_TIMEOUT", "0.5")
        path = tmp_path / "store.duckdb"
        Store.open(path)
        holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "holding"
            with pytest.raises(StoreLockedError, match="locked by another") as info:
                Store.open(path)
            assert "\n" not in str(info.value)
        finally:
            holder.kill()
            holder.wait()
        assert Store.open(path).schema_version() == SCHEMA_VERSION
