"""The trigger log in the metadata store: firings, action results, attempts, guard counts,
and the quarantine and run requests that triggers record.

Keys make every write idempotent: a firing is keyed by (trigger, event), an
action result by (firing, action index), a request by (firing, action index).
Callers pass only values that are safe to keep: secrets never get here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from .store import Store


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class TriggerLog:
    """Access to the trigger tables of one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- firings and action results -----------------------------------------
    def record_firing(self, key: str, trigger: str, event: dict[str, Any],
                      intents: Sequence[tuple[int, str, str]] = ()) -> bool:
        """Insert the firing or count one more; True when it is new.

        ``intents`` (action index, kind, label) are the actions about to run. In the
        same transaction, each one without a state yet is recorded ``pending`` and due
        now, in the manner of an outbox: if the process dies while an action is in
        flight, ``wk triggers retry`` finds it and runs it again, under the same key.
        """
        now = utcnow()

        def work(db) -> bool:
            rows = db.execute("SELECT fire_count FROM wk_trigger_firings WHERE firing_key = ?",
                              [key])
            if rows:
                db.execute("UPDATE wk_trigger_firings SET fire_count = fire_count + 1,"
                           " last_fired_at = ? WHERE firing_key = ?", [now, key])
            else:
                db.execute(
                    "INSERT INTO wk_trigger_firings (firing_key, trigger_name, event_id,"
                    " event_type, table_name, partition_key, severity, event_json, fired_at,"
                    " last_fired_at, fire_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                    [key, trigger, event["event_id"], event["type"], event.get("table"),
                     event.get("partition"), event["severity"],
                     json.dumps(event, sort_keys=True, default=str), now, now])
            for index, kind, label in intents:
                db.execute(
                    "INSERT INTO wk_trigger_actions (firing_key, action_index, action_kind,"
                    " action_label, status, attempts, detail, last_error, next_attempt_at,"
                    " updated_at) VALUES (?, ?, ?, ?, 'pending', 0, NULL, NULL, ?, ?)"
                    " ON CONFLICT (firing_key, action_index) DO NOTHING",
                    [key, index, kind, label, now, now])
            return not rows

        return self.store.transact(work)

    def action_states(self, key: str) -> dict[int, dict[str, Any]]:
        with self.store._connect() as db:
            rows = db.execute("SELECT action_index, status, attempts, next_attempt_at"
                              " FROM wk_trigger_actions WHERE firing_key = ?", [key])
        return {int(i): {"status": s, "attempts": int(a), "next_attempt_at": n}
                for i, s, a, n in rows}

    def save_action(self, key: str, index: int, *, kind: str, label: str, status: str,
                    attempts: int, detail: str | None, error: str | None,
                    next_attempt_at: datetime | None,
                    tries: Sequence[tuple[int, datetime, bool, str | None, float]] = ()) -> None:
        """Write an action's state and the attempts that led to it, in one transaction."""
        def work(db) -> None:
            db.execute(
                "INSERT INTO wk_trigger_actions (firing_key, action_index, action_kind,"
                " action_label, status, attempts, detail, last_error, next_attempt_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (firing_key, action_index) DO UPDATE SET"
                " action_kind = excluded.action_kind, action_label = excluded.action_label,"
                " status = excluded.status, attempts = excluded.attempts,"
                " detail = excluded.detail, last_error = excluded.last_error,"
                " next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at",
                [key, index, kind, label, status, attempts, detail, error, next_attempt_at,
                 utcnow()])
            for attempt, at, ok, err, elapsed in tries:
                db.execute(
                    "INSERT INTO wk_trigger_attempts (firing_key, action_index, attempt,"
                    " attempted_at, ok, error, elapsed_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [key, index, attempt, at, ok, err, elapsed])

        self.store.transact(work)

    def due(self, now: datetime) -> list[dict[str, Any]]:
        """Pending actions whose next attempt is due, with their firing's trigger and event."""
        with self.store._connect() as db:
            rows = db.execute(
                "SELECT a.firing_key, a.action_index, a.attempts, f.trigger_name, f.event_json"
                " FROM wk_trigger_actions a JOIN wk_trigger_firings f"
                "   ON a.firing_key = f.firing_key"
                " WHERE a.status = 'pending' AND a.next_attempt_at <= ?"
                " ORDER BY a.next_attempt_at, a.firing_key, a.action_index", [now])
        return [{"key": k, "index": int(i), "attempts": int(a), "trigger": t,
                 "event": json.loads(e)} for k, i, a, t, e in rows]

    # -- reading the log ------------------------------------------------------
    def firings(self, *, limit: int = 50, trigger: str | None = None) -> pd.DataFrame:
        sql = ("SELECT firing_key, trigger_name, event_id, event_type, table_name,"
               " partition_key, severity, fired_at, last_fired_at, fire_count"
               " FROM wk_trigger_firings")
        params: list = []
        if trigger:
            sql += " WHERE trigger_name = ?"
            params.append(trigger)
        sql += " ORDER BY last_fired_at DESC, firing_key LIMIT ?"
        params.append(int(limit))
        with self.store._connect() as db:
            return db.fetch_frame(sql, params)

    def actions(self, keys: Sequence[str]) -> pd.DataFrame:
        return self._by_keys(
            "SELECT firing_key, action_index, action_kind, action_label, status, attempts,"
            " detail, last_error, next_attempt_at, updated_at FROM wk_trigger_actions",
            keys, "firing_key, action_index")

    def attempts(self, keys: Sequence[str]) -> pd.DataFrame:
        return self._by_keys(
            "SELECT firing_key, action_index, attempt, attempted_at, ok, error, elapsed_ms"
            " FROM wk_trigger_attempts", keys, "firing_key, action_index, attempt")

    def _by_keys(self, select: str, keys: Sequence[str], order: str) -> pd.DataFrame:
        keys = list(keys)
        frames = []
        with self.store._connect() as db:
            for i in range(0, max(len(keys), 1), 500):
                batch = keys[i:i + 500] or [""]
                marks = ", ".join("?" for _ in batch)
                frames.append(db.fetch_frame(f"{select} WHERE firing_key IN ({marks})"
                                             f" ORDER BY {order}", batch))
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]

    # -- guard counts -----------------------------------------------------------
    def add_guard_counts(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        frame = pd.DataFrame(list(rows), columns=[
            "model", "trigger_name", "rule_index", "rule_kind", "window_start", "window_end",
            "batches", "rows_in", "rows_affected", "batches_rejected", "sample"])
        with self.store._connect() as db, db.transaction():
            db.insert_frame("wk_guard_log", frame)

    def guard_counts(self, model: str | None = None) -> pd.DataFrame:
        """Totals per (model, trigger, rule) over every flushed window."""
        sql = ("SELECT model, trigger_name, rule_index, rule_kind, SUM(batches) AS batches,"
               " SUM(rows_in) AS rows_in, SUM(rows_affected) AS rows_affected,"
               " SUM(batches_rejected) AS batches_rejected, MAX(window_end) AS last_seen"
               " FROM wk_guard_log")
        params: list = []
        if model is not None:
            sql += " WHERE model = ?"
            params.append(model)
        sql += " GROUP BY model, trigger_name, rule_index, rule_kind" \
               " ORDER BY model, trigger_name, rule_index"
        with self.store._connect() as db:
            return db.fetch_frame(sql, params)

    def guard_samples(self, model: str) -> list[dict[str, Any]]:
        with self.store._connect() as db:
            rows = db.execute("SELECT trigger_name, rule_index, sample FROM wk_guard_log"
                              " WHERE model = ? AND sample IS NOT NULL ORDER BY window_end",
                              [model])
        return [{"trigger": t, "rule_index": int(i), "rows": json.loads(s)} for t, i, s in rows]

    # -- requests recorded by quarantine_partition and retrain --------------------
    def request_quarantine(self, *, request_id: str, table: str, partition: str | None,
                           reason: str, event_id: str, trigger: str) -> bool:
        return self._insert_once(
            "wk_quarantine_requests",
            ("request_id", "table_name", "partition_key", "reason", "event_id", "trigger_name",
             "requested_at", "status"),
            [request_id, table, partition, reason, event_id, trigger, utcnow(), "requested"])

    def enqueue_run(self, *, request_id: str, model: str | None, pipeline: str | None,
                    table: str | None, partition: str | None, reason: str, event_id: str,
                    trigger: str) -> bool:
        return self._insert_once(
            "wk_run_requests",
            ("request_id", "model", "pipeline", "table_name", "partition_key", "reason",
             "event_id", "trigger_name", "requested_at", "status"),
            [request_id, model, pipeline, table, partition, reason, event_id, trigger, utcnow(),
             "queued"])

    def quarantine_requests(self) -> pd.DataFrame:
        with self.store._connect() as db:
            return db.fetch_frame("SELECT * FROM wk_quarantine_requests ORDER BY requested_at,"
                                  " request_id")

    def run_requests(self) -> pd.DataFrame:
        with self.store._connect() as db:
            return db.fetch_frame("SELECT * FROM wk_run_requests ORDER BY requested_at,"
                                  " request_id")

    def _insert_once(self, table: str, columns: tuple[str, ...], values: list) -> bool:
        # ``table`` and ``columns`` are this module's constants, never user input.
        with self.store._connect() as db, db.transaction():
            if db.execute(f"SELECT 1 FROM {table} WHERE request_id = ?", [values[0]]):
                return False
            marks = ", ".join("?" for _ in columns)
            db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
            return True
