"""Dispatch: python, sql, block, quarantine and retrain actions; failures never escape."""

from __future__ import annotations

import importlib
import sys
import textwrap
from datetime import timedelta

import duckdb
import pytest

from watchkeeper.store.trigger_log import TriggerLog, utcnow
from watchkeeper.triggers import (Block, Dispatcher, Event, PythonAction, QuarantinePartition,
                                  Retrain, Retry, SqlAction, idempotency_key, trigger)

EVENT = Event("slo.failed", table="orders", partition="2024-03-05", severity="critical",
              context={"check": "row_count"})


@pytest.fixture
def hooks_module(tmp_path, monkeypatch):
    """An importable module whose functions record the events they get."""
    (tmp_path / "wk_test_hooks.py").write_text(textwrap.dedent("""
        calls = []
        failures = {"left": 0}

        def record(event):
            calls.append(event)
            return f"saw {event.table}"

        def flaky(event):
            if failures["left"] > 0:
                failures["left"] -= 1
                raise RuntimeError("not yet")
            calls.append(event)
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("wk_test_hooks", None)
    module = importlib.import_module("wk_test_hooks")
    yield module
    sys.modules.pop("wk_test_hooks", None)


class TestPythonAction:
    def test_called_with_the_event(self, store, hooks_module):
        """The function gets the Event; its return value is the recorded detail."""
        t = trigger("py", "slo.failed", [PythonAction("wk_test_hooks:record")])
        result = Dispatcher([t], store).fire(EVENT)
        assert hooks_module.calls == [EVENT]
        assert result.results[0].detail == "returned saw orders"

    def test_failure_is_retried_not_raised(self, duck_store, hooks_module):
        """A raising function is recorded and retried; the caller never sees the exception."""
        hooks_module.failures["left"] = 2
        t = trigger("py", "slo.failed", [PythonAction("wk_test_hooks:flaky",
                                                      Retry(retries=0, backoff_seconds=0))])
        d = Dispatcher([t], duck_store)
        first = d.fire(EVENT)
        assert first.results[0].status == "pending"
        assert first.results[0].error == "RuntimeError: not yet"
        d.fire(EVENT)  # a re-fired event retries a due pending action
        assert hooks_module.calls == []
        d.retry_pending(now=utcnow() + timedelta(seconds=1))
        assert hooks_module.calls == [EVENT]
        d.fire(EVENT)
        assert len(hooks_module.calls) == 1

    def test_missing_function_fails_once(self, duck_store, hooks_module):
        """An import path that does not resolve fails permanently (no pointless retries)."""
        t = trigger("py", "slo.failed", [PythonAction("wk_test_hooks:nope")])
        result = Dispatcher([t], duck_store).fire(EVENT)
        assert (result.results[0].status, result.results[0].attempts) == ("failed", 1)
        assert "cannot import 'wk_test_hooks:nope'" in result.results[0].error


class TestSqlAction:
    def test_duckdb_statement_with_bound_parameters(self, store, tmp_path):
        """Event fields are bound, so a hostile table name is stored verbatim, not executed."""
        db = tmp_path / "audit.duckdb"
        with duckdb.connect(str(db)) as con:
            con.execute("CREATE TABLE audit (tbl VARCHAR, part VARCHAR, chk VARCHAR, id VARCHAR)")
        t = trigger("audit", "slo.failed", [SqlAction(
            "INSERT INTO audit VALUES (?, ?, ?, ?)",
            ("table", "partition", "context.check", "event_id"), "audit.duckdb")])
        hostile = Event("slo.failed", table="x'); DROP TABLE audit; --", partition="2024-03-05",
                        context={"check": "row_count"})
        result = Dispatcher([t], store, root=tmp_path).fire(hostile)
        assert result.results[0].detail == "statement ran (1 row(s) affected)"
        with duckdb.connect(str(db)) as con:
            rows = con.execute("SELECT * FROM audit").fetchall()
        assert rows == [("x'); DROP TABLE audit; --", "2024-03-05", "row_count", hostile.id)]

    def test_postgres_statement_from_env_url(self, duck_store, pg_dsn, pg_schema):
        """database_env names a Postgres URL; ? placeholders and a literal % both work."""
        import psycopg

        with psycopg.connect(pg_dsn, autocommit=True) as con:
            con.execute(f'CREATE TABLE "{pg_schema}".audit (tbl text, note text)')
        t = trigger("audit", "slo.failed", [SqlAction(
            f"INSERT INTO {pg_schema}.audit VALUES (?, '100%' || ?)", ("table", "severity"),
            database_env="WK_AUDIT_DB")])
        d = Dispatcher([t], duck_store, environ={"WK_AUDIT_DB": pg_dsn})
        assert d.fire(EVENT).results[0].status == "ok"
        with psycopg.connect(pg_dsn) as con:
            rows = con.execute(f'SELECT * FROM "{pg_schema}".audit').fetchall()
        assert rows == [("orders", "100%critical")]

    def test_broken_statement_is_recorded(self, duck_store, tmp_path):
        """A failing statement is an action failure, never an exception in the caller."""
        t = trigger("audit", "slo.failed", [SqlAction("INSERT INTO missing VALUES (?)",
                                                      ("table",), "audit.duckdb",
                                                      retry=Retry(max_attempts=1))])
        result = Dispatcher([t], duck_store, root=tmp_path).fire(EVENT)
        assert result.results[0].status == "failed"
        assert "missing" in result.results[0].error


class TestDecisionsAndRequests:
    def test_block_answers_every_time(self, store):
        """block gives the reasons on each firing, including a re-fired event."""
        t = trigger("no-train", "slo.failed", [Block("critical SLO failed")],
                    severity="critical")
        d = Dispatcher([t], store)
        for _ in range(2):
            result = d.fire(EVENT)
            assert result.blocked
            assert result.reasons == ("no-train: critical SLO failed (orders 2024-03-05)",)
        assert not d.fire(Event("slo.failed", table="orders", severity="warning")).blocked

    def test_quarantine_and_retrain_requests_are_idempotent(self, store):
        """Re-firing records one quarantine request and one run request, not two."""
        t = trigger("fix", "slo.failed", [QuarantinePartition("bad rows"),
                                          Retrain(model="churn", pipeline="nightly")])
        d = Dispatcher([t], store)
        first = d.fire(EVENT)
        assert [r.status for r in first.results] == ["ok", "ok"]
        d.fire(EVENT)
        log = TriggerLog(store)
        q = log.quarantine_requests()
        assert q[["table_name", "partition_key", "reason"]].values.tolist() == [
            ["orders", "2024-03-05", "bad rows"]]
        runs = log.run_requests()
        assert runs[["model", "pipeline", "status"]].values.tolist() == [
            ["churn", "nightly", "queued"]]

    def test_quarantine_sink_interface(self, duck_store):
        """A custom sink (the quarantine seam) receives the request instead of the store."""
        class Sink:
            def __init__(self):
                self.requests = []

            def request_quarantine(self, **kwargs):
                self.requests.append(kwargs)
                return True

        sink = Sink()
        t = trigger("fix", "slo.failed", [QuarantinePartition()])
        Dispatcher([t], duck_store, quarantine=sink).fire(EVENT)
        assert [(r["table"], r["partition"]) for r in sink.requests] == [("orders", "2024-03-05")]
        assert TriggerLog(duck_store).quarantine_requests().empty

    def test_quarantine_without_partition_fails(self, duck_store):
        """An event without table and partition cannot be quarantined: failed, not raised."""
        t = trigger("fix", "incident.opened", [QuarantinePartition()])
        result = Dispatcher([t], duck_store).fire(Event("incident.opened"))
        assert result.results[0].status == "failed"

    def test_no_match_touches_nothing(self, duck_store):
        """An event no trigger matches records no firing."""
        t = trigger("fix", "slo.failed", [Block()], table="payments")
        assert Dispatcher([t], duck_store).fire(EVENT).matched == ()
        assert TriggerLog(duck_store).firings().empty

    def test_removed_trigger_is_given_up(self, duck_store, hooks_module):
        """retry_pending fails an action whose trigger left the project file."""
        hooks_module.failures["left"] = 5
        t = trigger("py", "slo.failed", [PythonAction("wk_test_hooks:flaky",
                                                      Retry(backoff_seconds=0))])
        Dispatcher([t], duck_store).fire(EVENT)
        results = Dispatcher([], duck_store).retry_pending(now=utcnow() + timedelta(hours=1))
        assert [r.status for r in results] == ["failed"]
        states = TriggerLog(duck_store).action_states(idempotency_key("py", EVENT))
        assert states[0]["status"] == "failed"
