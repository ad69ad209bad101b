"""Alert incidents in the metadata store: incidents, their partitions and anomalies,
feedback with its user and time, learned tolerances, and which partitions were checked.

Saving an incident rewrites its partitions and anomalies in one transaction, so a
re-check never leaves half an incident behind. Table and column names of user
data are stored as values, never spliced into SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

import pandas as pd

from .store import Store


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


_INCIDENT_COLUMNS = ("incident_id, table_name, first_partition, last_partition, granularity,"
                     " severity, score, impact, consumers, status, confirmed, cause, opened_at,"
                     " updated_at, resolved_at")


class AlertLog:
    """Access to the alert tables of one :class:`Store`; rows in, rows (dicts) out."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- incidents ----------------------------------------------------------------
    def save_incident(self, row: dict, partitions: Sequence[datetime],
                      anomalies: Sequence[dict]) -> int:
        """Insert (``incident_id`` None) or replace an incident; returns its id."""
        now = utcnow()

        def work(db) -> int:
            incident_id = row.get("incident_id")
            if incident_id is None:
                incident_id = int(db.execute("SELECT nextval('wk_incident_ids')")[0][0])
                opened = now
            else:
                found = db.execute("SELECT opened_at FROM wk_incidents WHERE incident_id = ?",
                                   [incident_id])
                opened = found[0][0] if found else now
                for table in ("wk_incidents", "wk_incident_partitions", "wk_anomalies"):
                    db.execute(f"DELETE FROM {table} WHERE incident_id = ?", [incident_id])
            values = {**row, "incident_id": incident_id, "opened_at": opened, "updated_at": now}
            names = [c.strip() for c in _INCIDENT_COLUMNS.split(",")]
            db.execute(f"INSERT INTO wk_incidents ({_INCIDENT_COLUMNS}) VALUES "
                       f"({', '.join('?' for _ in names)})", [values.get(n) for n in names])
            for p in sorted(set(partitions)):
                db.execute("INSERT INTO wk_incident_partitions (incident_id, table_name,"
                           " partition_start) VALUES (?, ?, ?)",
                           [incident_id, row["table_name"], p])
            if anomalies:
                frame = pd.DataFrame([{**a, "incident_id": incident_id} for a in anomalies])
                db.insert_frame("wk_anomalies", frame)
            return int(incident_id)

        return self.store.transact(work)

    def incidents(self, *, table: str | None = None, ids: Iterable[int] | None = None,
                  statuses: Sequence[str] | None = None,
                  partitions: Sequence[datetime] | None = None) -> list[dict]:
        """Stored incidents with their ``partitions`` and ``anomalies`` lists."""
        sql = f"SELECT {_INCIDENT_COLUMNS} FROM wk_incidents WHERE 1 = 1"
        params: list = []
        if table is not None:
            sql += " AND table_name = ?"
            params.append(table)
        if ids is not None:
            ids = [int(i) for i in ids] or [-1]
            sql += f" AND incident_id IN ({', '.join('?' for _ in ids)})"
            params.extend(ids)
        if statuses:
            sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
            params.extend(statuses)
        if partitions:
            sql += (" AND incident_id IN (SELECT incident_id FROM wk_incident_partitions"
                    f" WHERE partition_start IN ({', '.join('?' for _ in partitions)}))")
            params.extend(partitions)
        with self.store._connect() as db:
            heads = db.fetch_frame(sql + " ORDER BY incident_id", params)
            if heads.empty:
                return []
            wanted = [int(i) for i in heads["incident_id"]]
            marks = ", ".join("?" for _ in wanted)
            parts = db.fetch_frame("SELECT incident_id, partition_start FROM"
                                   f" wk_incident_partitions WHERE incident_id IN ({marks})",
                                   wanted)
            rows = db.fetch_frame(f"SELECT * FROM wk_anomalies WHERE incident_id IN ({marks})",
                                  wanted)
        by_id_parts = parts.groupby("incident_id")["partition_start"].apply(list).to_dict()
        by_id_rows = {k: g.to_dict("records") for k, g in rows.groupby("incident_id")}
        out = []
        for head in heads.to_dict("records"):
            key = head["incident_id"]
            out.append({**head, "partitions": sorted(pd.to_datetime(by_id_parts.get(key, []))),
                        "anomalies": [_clean(r) for r in by_id_rows.get(key, [])]})
        return out

    def anomalies_of(self, table: str, column: str, statistic: str) -> pd.DataFrame:
        """Every stored anomaly of one series, with its incident's status, oldest first:
        ``incident_id, status, partition_start, source, check_name, severity,
        expected_low, expected_high``."""
        with self.store._connect() as db:
            return db.fetch_frame(
                "SELECT a.incident_id, i.status, a.partition_start, a.source, a.check_name,"
                " a.severity, a.expected_low, a.expected_high FROM wk_anomalies a"
                " JOIN wk_incidents i ON i.incident_id = a.incident_id"
                " WHERE a.table_name = ? AND a.column_name = ? AND a.statistic = ?"
                " ORDER BY a.incident_id, a.partition_start", [table, column, statistic])

    def set_status(self, incident_id: int, status: str, *, confirmed: bool,
                   resolved: bool) -> None:
        now = utcnow()
        with self.store.atomic(), self.store._connect() as db:
            db.execute("UPDATE wk_incidents SET status = ?, confirmed = ?, updated_at = ?,"
                       " resolved_at = ? WHERE incident_id = ?",
                       [status, confirmed, now, now if resolved else None, incident_id])

    def invalid_partitions(self, table: str) -> list[pd.Timestamp]:
        """Partitions of incidents confirmed real: never learned from as normal."""
        with self.store._connect() as db:
            rows = db.execute(
                "SELECT DISTINCT p.partition_start FROM wk_incident_partitions p"
                " JOIN wk_incidents i ON p.incident_id = i.incident_id"
                " WHERE i.table_name = ? AND i.confirmed AND i.status <> 'false_positive'"
                " ORDER BY p.partition_start", [table])
        return [pd.Timestamp(r[0]) for r in rows]

    # -- feedback and tolerances ---------------------------------------------------
    def add_feedback(self, incident_id: int, action: str, user: str, note: str | None,
                     tolerances: Sequence[tuple[str, str, str, float]] = ()) -> int:
        """Record one piece of feedback (and the tolerances it earns) atomically."""
        now = utcnow()
        with self.store.atomic(), self.store._connect() as db:
            feedback_id = int(db.execute("SELECT nextval('wk_feedback_ids')")[0][0])
            db.execute("INSERT INTO wk_alert_feedback (feedback_id, incident_id, action,"
                       " user_name, note, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       [feedback_id, incident_id, action, user, note, now])
            for table, column, statistic, multiplier in tolerances:
                db.execute("INSERT INTO wk_alert_tolerances (table_name, column_name, statistic,"
                           " multiplier, feedback_id, incident_id, user_name, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [table, column, statistic, float(multiplier), feedback_id,
                            incident_id, user, now])
        return feedback_id

    def set_mute(self, table: str, column: str, statistic: str, user: str,
                 note: str | None, muted: bool = True) -> None:
        """Mute (or unmute) a column (``statistic`` ``*``) or one of its statistics.

        A mute is a tolerance step of infinity, recorded as feedback on no incident (id 0).
        """
        now = utcnow()
        with self.store._connect() as db, db.transaction():
            db.execute("DELETE FROM wk_alert_tolerances WHERE table_name = ? AND"
                       " column_name = ? AND statistic = ? AND multiplier = ?",
                       [table, column, statistic, float("inf")])
            feedback_id = int(db.execute("SELECT nextval('wk_feedback_ids')")[0][0])
            db.execute("INSERT INTO wk_alert_feedback (feedback_id, incident_id, action,"
                       " user_name, note, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       [feedback_id, 0, "mute" if muted else "unmute", user, note, now])
            if muted:
                db.execute("INSERT INTO wk_alert_tolerances (table_name, column_name,"
                           " statistic, multiplier, feedback_id, incident_id, user_name,"
                           " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           [table, column, statistic, float("inf"), feedback_id, 0, user, now])

    def feedback(self, incident_id: int | None = None) -> pd.DataFrame:
        sql = ("SELECT feedback_id, incident_id, action, user_name, note, created_at"
               " FROM wk_alert_feedback")
        params: list = []
        if incident_id is not None:
            sql += " WHERE incident_id = ?"
            params.append(int(incident_id))
        with self.store._connect() as db:
            return db.fetch_frame(sql + " ORDER BY feedback_id", params)

    def tolerances(self, table: str) -> pd.DataFrame:
        """Every tolerance step of a table, oldest first."""
        with self.store._connect() as db:
            return db.fetch_frame(
                "SELECT column_name AS column, statistic, multiplier, feedback_id, incident_id,"
                " user_name, created_at FROM wk_alert_tolerances WHERE table_name = ?"
                " ORDER BY created_at, feedback_id", [table])

    # -- checked partitions ---------------------------------------------------------
    def mark_checked(self, table: str, verdicts: Sequence[tuple[datetime, str]],
                     detector: str | None = None) -> None:
        """Store each partition's verdict, judged now by ``detector`` (its key)."""
        now = utcnow()

        def work(db) -> None:
            for partition, severity in verdicts:
                db.execute("INSERT INTO wk_alert_checked (table_name, partition_start, severity,"
                           " checked_at, detector) VALUES (?, ?, ?, ?, ?) ON CONFLICT"
                           " (table_name, partition_start) DO UPDATE SET severity ="
                           " excluded.severity, checked_at = excluded.checked_at,"
                           " detector = excluded.detector",
                           [table, partition, severity, now, detector])

        self.store.transact(work)

    def checked(self, table: str) -> pd.DataFrame:
        """``partition, severity, checked_at`` of every judged partition of a table."""
        with self.store._connect() as db:
            frame = db.fetch_frame("SELECT partition_start AS partition, severity, checked_at"
                                   " FROM wk_alert_checked WHERE table_name = ?"
                                   " ORDER BY partition_start", [table])
        frame["partition"] = pd.to_datetime(frame["partition"])
        return frame

    def standing(self, table: str, partitions: Sequence[datetime],
                 detector: str | None = None) -> dict:
        """``partition: checked_at`` of those of ``partitions`` whose last verdict still
        stands: judged by ``detector`` (its key; a verdict of another detector version or
        other parameters does not stand), no partition up to it (the history it was
        judged against) profiled since, and no feedback given since (feedback moves bands
        and the partitions a detector learns from)."""
        if not partitions:
            return {}
        marks = ", ".join("?" for _ in partitions)
        same = "" if detector is None else " AND c.detector = ?"
        with self.store._connect() as db:
            rows = db.execute(
                "SELECT c.partition_start, c.checked_at FROM wk_alert_checked c"
                " WHERE c.table_name = ? AND c.partition_start IN (" + marks + ")" + same +
                " AND NOT EXISTS (SELECT 1 FROM wk_partitions p WHERE p.table_name ="
                "   c.table_name AND p.partition_start <= c.partition_start"
                "   AND p.profiled_at > c.checked_at)"
                " AND NOT EXISTS (SELECT 1 FROM wk_alert_feedback f"
                "   WHERE f.created_at > c.checked_at)",
                [table, *partitions, *([] if detector is None else [detector])])
        return {pd.Timestamp(r[0]): pd.Timestamp(r[1]) for r in rows}

    def unchecked(self, table: str) -> list[pd.Timestamp]:
        """Partitions newer than the first checked one and never checked, or re-profiled
        since their last check. Older, never-checked ones are history, not news."""
        with self.store._connect() as db:
            rows = db.execute(
                "SELECT p.partition_start FROM wk_partitions p LEFT JOIN wk_alert_checked c"
                "   ON c.table_name = p.table_name AND c.partition_start = p.partition_start"
                " WHERE p.table_name = ? AND (p.profiled_at > c.checked_at OR"
                "   (c.checked_at IS NULL AND p.partition_start > (SELECT MIN(partition_start)"
                "    FROM wk_alert_checked WHERE table_name = ?)))"
                " ORDER BY p.partition_start", [table, table])
        return [pd.Timestamp(r[0]) for r in rows]


def _clean(row: dict) -> dict:
    row = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
    row["history"] = json.loads(row.pop("history_json") or "[]")
    return row
