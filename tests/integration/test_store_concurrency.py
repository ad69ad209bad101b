"""Both stores under concurrency: a second DuckDB writer waits for the lock (bounded by
WK_LOCK_TIMEOUT), PostgreSQL migrations, ids and upserts survive four processes at once,
and an operation that reports failure has committed nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from watchkeeper import Store, StoreLockedError
from watchkeeper.alerts.records import give_feedback
from watchkeeper.store.alerts import AlertLog
from watchkeeper.store.store import TableRecord

# One worker process: open the store (migrating a new one), register and profile the
# same table, open incidents and give feedback; every store call opens its own
# connection, so the processes contend all along.
_WORKER = r"""
import sys, datetime as dt
import pandas as pd
from watchkeeper import Store
from watchkeeper.store.alerts import AlertLog
from watchkeeper.store.store import TableRecord

url, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = Store.open(url)
record = TableRecord("events", "events.parquet", "ts", "day")
store.register_table(record)
day = pd.Timestamp("2024-01-01")
for i in range(n):
    store.save_profile(record, partitions=pd.DataFrame({"partition": [day], "row_count": [i]}),
                       fingerprint="f", columns=[("x", "numeric", "double")],
                       statistics=pd.DataFrame({"partition": [day], "column": ["x"],
                                                "statistic": ["mean"], "value": [1.0]}),
                       top_values=pd.DataFrame(columns=["partition", "column", "rank", "value",
                                                        "ratio"]))
    log = AlertLog(store)
    now = dt.datetime(2024, 1, 1)
    incident = log.save_incident({"table_name": "events", "first_partition": now,
                                  "last_partition": now, "granularity": "day",
                                  "severity": "critical", "score": 9.0, "impact": 1.0,
                                  "consumers": 0, "status": "open", "confirmed": False,
                                  "cause": f"{who}-{i}"}, [now], [])
    log.add_feedback(incident, "ack", who, None)
print("done", flush=True)
"""


def _workers(url: str, count: int, per: int, env: dict | None = None) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, url, f"w{k}", str(per)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **(env or {})}) for k in range(count)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and out.strip() == "done", err[-2000:]


@contextlib.contextmanager
def _held(path, seconds: float):
    """A store that another process holds open for ``seconds``."""
    Store.open(path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
         " print('holding', flush=True); time.sleep(float(sys.argv[2])); c.close()",
         str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield path
    finally:
        holder.kill()
        holder.wait()


def _check(store: Store, count: int, per: int) -> None:
    incidents = AlertLog(store).incidents()
    assert len(incidents) == count * per  # none lost to a reused id
    assert len({i["incident_id"] for i in incidents}) == count * per
    assert sorted(i["cause"] for i in incidents) == sorted(
        f"w{k}-{i}" for k in range(count) for i in range(per))
    feedback = AlertLog(store).feedback()
    assert len(feedback) == count * per and feedback["feedback_id"].is_unique
    assert [t.name for t in store.tables()] == ["events"]
    assert len(store.partition_state("events")) == 1


class TestDuckDBStore:
    def test_two_processes_wait_for_each_other_and_lose_nothing(self, tmp_path):
        url = str(tmp_path / "store.duckdb")
        _workers(url, 2, 8, {"WK_LOCK_TIMEOUT": "60"})
        _check(Store.open(url), 2, 8)

    def test_a_held_store_is_waited_for_then_opened(self, tmp_path, monkeypatch):
        with _held(tmp_path / "store.duckdb", seconds=1.5) as path:
            monkeypatch.setenv("WK_LOCK_TIMEOUT", "30")
            started = time.monotonic()
            Store.open(path).tables()
            assert time.monotonic() - started > 0.5  # it waited, then got in

    def test_the_wait_is_bounded(self, tmp_path):
        with _held(tmp_path / "store.duckdb", seconds=30) as path:
            started = time.monotonic()
            with pytest.raises(StoreLockedError, match="after 0.3 s"):
                Store.open(path, lock_timeout=0.3)
            assert time.monotonic() - started < 5

    def test_a_bad_lock_timeout_is_a_user_error(self, tmp_path, monkeypatch):
        from watchkeeper.errors import StoreError

        monkeypatch.setenv("WK_LOCK_TIMEOUT", "soon")
        with pytest.raises(StoreError, match="WK_LOCK_TIMEOUT"):
            Store.open(tmp_path / "store.duckdb")


class TestFailureCommitsNothing:
    def test_feedback_whose_status_write_fails_records_nothing(self, tmp_path, monkeypatch):
        """Feedback and the status it sets are one transaction: when the second write
        fails, the first is rolled back, so a retry does not apply it twice."""
        store = Store.open(tmp_path / "store.duckdb")
        now = dt.datetime(2024, 1, 1)
        log = AlertLog(store)
        incident = log.save_incident({"table_name": "t", "first_partition": now,
                                      "last_partition": now, "granularity": "day",
                                      "severity": "critical", "score": 9.0, "impact": 1.0,
                                      "consumers": 0, "status": "open", "confirmed": False,
                                      "cause": "x"}, [now], [])

        def locked(*_a, **_k):
            raise StoreLockedError("store is locked by another watchkeeper")

        monkeypatch.setattr(AlertLog, "set_status", locked)
        with pytest.raises(StoreLockedError):
            give_feedback(store, incident, "ack", user="alice")
        assert AlertLog(store).feedback().empty
        monkeypatch.undo()
        give_feedback(store, incident, "ack", user="alice")
        assert len(AlertLog(store).feedback()) == 1


class TestPostgresStore:
    def test_four_processes_open_a_new_store_and_write_at_once(self, pg_dsn, pg_schema):
        """Migrations take a lock, ids come from a sequence, the table row is an upsert:
        four processes on a brand-new store all succeed and lose nothing."""
        url = f"{pg_dsn}?schema={pg_schema}"
        _workers(url, 4, 5)
        _check(Store.open(url), 4, 5)

    def test_existing_ids_continue_after_the_migration(self, pg_dsn, pg_schema):
        """A store migrated from MAX(id)+1 ids keeps counting after its largest id."""
        from watchkeeper.store import _db
        from watchkeeper.store.store import migrate

        url = f"{pg_dsn}?schema={pg_schema}"
        db = _db.connect(url)
        try:
            migrate(db, up_to=7)
            db.execute("INSERT INTO wk_incidents (incident_id, table_name, first_partition,"
                       " last_partition, granularity, severity, score, impact, consumers,"
                       " status, confirmed, cause, opened_at, updated_at) VALUES (41, 't',"
                       " now(), now(), 'day', 'critical', 1, 1, 0, 'open', false, 'x', now(),"
                       " now())")
        finally:
            db.close()
        now = dt.datetime(2024, 1, 1)
        new = AlertLog(Store.open(url)).save_incident(
            {"table_name": "t", "first_partition": now, "last_partition": now,
             "granularity": "day", "severity": "critical", "score": 9.0, "impact": 1.0,
             "consumers": 0, "status": "open", "confirmed": False, "cause": "y"}, [now], [])
        assert new == 42


def test_existing_duckdb_ids_continue_after_the_migration(tmp_path):
    from watchkeeper.store import _db
    from watchkeeper.store.store import migrate

    path = tmp_path / "store.duckdb"
    db = _db.connect(str(path))
    try:
        migrate(db, up_to=7)
        db.execute("INSERT INTO wk_alert_feedback VALUES (9, 1, 'ack', 'a', NULL, now())")
    finally:
        db.close()
    store = Store.open(path)
    assert AlertLog(store).add_feedback(1, "ack", "b", None) == 10
    assert pd.Series(AlertLog(store).feedback()["feedback_id"]).tolist() == [9, 10]
