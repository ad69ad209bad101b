"""Managed-table bookkeeping: the catalog that makes an ingest atomic.

The data lives in a Delta table and quarantine files; the store says which of
their versions are *committed*. An ingest is committed by one transaction here
(its row in ``wk_managed_ingests``, its quarantined batch, and the batches it
supersedes). Readers only ever read committed versions, so a killed ingest is
invisible, and the next ingest undoes its leftovers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from .store import Store

_INGEST_COLUMNS = ("ingest_id", "table_name", "partition_start", "status", "data_version",
                   "rows_in", "rows_valid", "rows_quarantined", "failed_critical", "failed_other",
                   "source", "started_at", "committed_at")


def _now() -> pd.Timestamp:
    return pd.Timestamp.utcnow().tz_localize(None)


def committed_version(store: Store, table: str) -> int | None:
    """The newest Delta version a committed ingest recorded, or None if there is none."""
    with store._connect() as db:
        rows = db.execute("SELECT MAX(data_version) FROM wk_managed_ingests WHERE table_name = ?"
                          " AND status = 'committed'", [table])
    return None if not rows or rows[0][0] is None else int(rows[0][0])


def record_ingest(store: Store, ingest: dict, quarantine: dict | None) -> pd.Timestamp:
    """Commit an ingest in one transaction; return its commit time.

    ``ingest`` has the ``wk_managed_ingests`` columns (``failed_*`` as lists);
    ``quarantine`` (or None) has ``file``, ``row_count`` and ``rejected``. A
    committed (not rejected) ingest supersedes the quarantined batches of earlier
    ingests of its partition: they belonged to the rows it replaced.
    """
    now = _now()
    row = {**ingest, "committed_at": now,
           "failed_critical": json.dumps(list(ingest["failed_critical"])),
           "failed_other": json.dumps(list(ingest["failed_other"]))}
    values = [_plain(row[c]) for c in _INGEST_COLUMNS]
    start = _plain(ingest["partition_start"])
    with store._connect() as db, db.transaction():
        if ingest["status"] == "committed":
            db.execute("UPDATE wk_managed_quarantine SET superseded_by = ? WHERE table_name = ?"
                       " AND partition_start = ? AND superseded_by IS NULL",
                       [ingest["ingest_id"], ingest["table_name"], start])
        db.execute(f"INSERT INTO wk_managed_ingests ({', '.join(_INGEST_COLUMNS)}) VALUES "
                   f"({', '.join('?' for _ in _INGEST_COLUMNS)})", values)
        if quarantine is not None:
            db.execute("INSERT INTO wk_managed_quarantine (ingest_id, table_name, partition_start,"
                       " file, row_count, rejected, superseded_by, created_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                       [ingest["ingest_id"], ingest["table_name"], start, quarantine["file"],
                        int(quarantine["row_count"]), bool(quarantine["rejected"]),
                        now.to_pydatetime()])
    return now


def ingests(store: Store, table: str) -> pd.DataFrame:
    """Every recorded ingest of ``table``, oldest first (``failed_*`` decoded to lists)."""
    with store._connect() as db:
        frame = db.fetch_frame(f"SELECT {', '.join(_INGEST_COLUMNS)} FROM wk_managed_ingests"
                               " WHERE table_name = ? ORDER BY committed_at, ingest_id", [table])
    for col in ("partition_start", "started_at", "committed_at"):
        frame[col] = pd.to_datetime(frame[col])
    for col in ("failed_critical", "failed_other"):
        frame[col] = [json.loads(v) for v in frame[col]]
    frame["data_version"] = frame["data_version"].astype("Int64")
    return frame


def quarantine_batches(store: Store, table: str, *, current_only: bool = True) -> pd.DataFrame:
    """Recorded quarantine files of ``table`` (by default those not superseded)."""
    sql = ("SELECT ingest_id, partition_start, file, row_count, rejected, superseded_by,"
           " created_at FROM wk_managed_quarantine WHERE table_name = ?")
    if current_only:
        sql += " AND superseded_by IS NULL"
    with store._connect() as db:
        frame = db.fetch_frame(sql + " ORDER BY partition_start, created_at", [table])
    frame["partition_start"] = pd.to_datetime(frame["partition_start"])
    return frame


def recorded_files(store: Store, table: str) -> set[str]:
    with store._connect() as db:
        rows = db.execute("SELECT file FROM wk_managed_quarantine WHERE table_name = ?", [table])
    return {r[0] for r in rows}


def save_snapshot(store: Store, snapshot_id: str, table: str, version: int,
                  partitions: Sequence[tuple[str, str]]) -> None:
    """Record a snapshot (idempotent: the id is a hash of its content)."""
    with store._connect() as db, db.transaction():
        if db.execute("SELECT 1 FROM wk_managed_snapshots WHERE snapshot_id = ?", [snapshot_id]):
            return
        db.execute("INSERT INTO wk_managed_snapshots (snapshot_id, table_name, data_version,"
                   " partitions, created_at) VALUES (?, ?, ?, ?, ?)",
                   [snapshot_id, table, int(version), json.dumps([list(p) for p in partitions]),
                    _now().to_pydatetime()])


def load_snapshot(store: Store, snapshot_id: str) -> dict | None:
    with store._connect() as db:
        rows = db.execute("SELECT table_name, data_version, partitions, created_at"
                          " FROM wk_managed_snapshots WHERE snapshot_id = ?", [snapshot_id])
    if not rows:
        return None
    table, version, parts, created = rows[0]
    return {"table": table, "version": int(version),
            "partitions": [tuple(p) for p in json.loads(parts)], "created_at": created}


def quarantine_requests(store: Store, table: str) -> pd.DataFrame:
    """Requests recorded by the ``quarantine_partition`` trigger action for ``table``."""
    with store._connect() as db:
        frame = db.fetch_frame("SELECT partition_key, reason, trigger_name, requested_at"
                               " FROM wk_quarantine_requests WHERE table_name = ?"
                               " AND partition_key IS NOT NULL ORDER BY requested_at", [table])
    frame["requested_at"] = pd.to_datetime(frame["requested_at"])
    return frame


def _plain(value):
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


__all__ = ["committed_version", "ingests", "load_snapshot", "quarantine_batches",
           "quarantine_requests", "record_ingest", "recorded_files", "save_snapshot"]
