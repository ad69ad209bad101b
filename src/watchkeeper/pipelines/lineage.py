"""What MLflow does not keep, in watchkeeper's store: runs, lineage, stage history.

- ``wk_pipeline_runs``: every run, blocked ones included, with what it chose and why;
- ``wk_model_lineage``: per model version, every (table, partition) it trained or was
  evaluated on, with the partition's row count and profile fingerprint (and the
  snapshot id when the table is managed);
- ``wk_model_stages``: every alias change (who, when, from which version), which is
  what a rollback reads;
- ``wk_prediction_batches``: which version (and shadow) produced each prediction batch.

Every write is one transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..store import Store


def _now():
    return pd.Timestamp.utcnow().tz_localize(None).to_pydatetime()


@dataclass(frozen=True)
class Read:
    """One partition a model version read."""

    table: str
    partition: pd.Timestamp
    role: str  # train | eval
    row_count: int | None = None
    fingerprint: str | None = None
    snapshot_id: str | None = None


def record_run(store: Store, *, run_id: str, pipeline: str, status: str,
               model_version: str | None, mlflow_run_id: str | None, selection: dict,
               params: dict, metrics: dict, skipped: dict, reasons: Sequence[str],
               started_at, reads: Sequence[Read] = (), calibration=None) -> None:
    """Store a run and (for a registered version) its lineage and its calibration map
    (:mod:`.estimate`), in one transaction."""
    with store._connect() as db, db.transaction():
        db.execute("INSERT INTO wk_pipeline_runs (run_id, pipeline, status, model_version,"
                   " mlflow_run_id, selection, params, metrics, skipped, reasons, started_at,"
                   " finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [run_id, pipeline, status, model_version, mlflow_run_id,
                    json.dumps(selection, default=str), json.dumps(params, default=str),
                    json.dumps(metrics, default=str), json.dumps(skipped, default=str),
                    json.dumps(list(reasons)), started_at, _now()])
        if reads:  # one insert of every partition read (one statement each took 1 ms)
            db.insert_frame("wk_model_lineage", pd.DataFrame({
                "model_name": pipeline, "model_version": model_version, "run_id": run_id,
                "table_name": [r.table for r in reads],
                "partition_start": pd.to_datetime([pd.Timestamp(r.partition) for r in reads]),
                "role": [r.role for r in reads],
                "row_count": pd.array([None if r.row_count is None else int(r.row_count)
                                       for r in reads], dtype="Int64"),
                "fingerprint": pd.array([r.fingerprint for r in reads], dtype=object),
                "snapshot_id": pd.array([r.snapshot_id for r in reads], dtype=object)}))
        if calibration is not None and model_version is not None:
            from . import estimate

            estimate.record(db, pipeline, model_version, calibration)


def forget_version(store: Store, model: str, version: str) -> None:
    """Undo :func:`record_run`'s lineage of a version whose registration failed after it."""
    with store._connect() as db, db.transaction():
        for table in ("wk_model_lineage", "wk_model_calibration"):
            db.execute(f"DELETE FROM {table} WHERE model_name = ? AND model_version = ?",
                       [model, str(version)])
        db.execute("UPDATE wk_pipeline_runs SET status = 'failed', model_version = NULL"
                   " WHERE pipeline = ? AND model_version = ?", [model, str(version)])


def runs(store: Store, pipeline: str) -> pd.DataFrame:
    """Every run of ``pipeline``, oldest first (JSON columns decoded)."""
    with store._connect() as db:
        frame = db.fetch_frame("SELECT * FROM wk_pipeline_runs WHERE pipeline = ?"
                               " ORDER BY started_at, run_id", [pipeline])
    for col in ("selection", "params", "metrics", "skipped", "reasons"):
        frame[col] = [json.loads(v) for v in frame[col]]
    return frame


def reads(store: Store, model: str, version: str) -> pd.DataFrame:
    """The partitions a model version read: table, partition, role, row count, fingerprint."""
    with store._connect() as db:
        frame = db.fetch_frame("SELECT run_id, table_name, partition_start, role, row_count,"
                               " fingerprint, snapshot_id FROM wk_model_lineage WHERE"
                               " model_name = ? AND model_version = ?"
                               " ORDER BY role DESC, table_name, partition_start",
                               [model, str(version)])
    frame["partition_start"] = pd.to_datetime(frame["partition_start"])
    return frame


def fingerprints(store: Store, table: str, partitions: Sequence[pd.Timestamp]) -> dict:
    """``partition -> (row_count, fingerprint)`` of the stored profile (the data's identity)."""
    state = store.partition_state(table)
    wanted = set(pd.Timestamp(p) for p in partitions)
    return {pd.Timestamp(r.partition): (int(r.row_count), str(r.fingerprint))
            for r in state.itertuples(index=False) if pd.Timestamp(r.partition) in wanted}


def record_stage(store: Store, *, model: str, alias: str, version: str | None,
                 previous: str | None, action: str, reason: str | None, user: str) -> str:
    change_id = uuid.uuid4().hex[:16]
    with store._connect() as db, db.transaction():
        db.execute("INSERT INTO wk_model_stages (change_id, model_name, alias, model_version,"
                   " previous_version, action, reason, user_name, changed_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [change_id, model, alias, None if version is None else str(version),
                    None if previous is None else str(previous), action, reason, user, _now()])
    return change_id


def stages(store: Store, model: str) -> pd.DataFrame:
    """Every alias change of ``model``, oldest first."""
    with store._connect() as db:
        frame = db.fetch_frame("SELECT change_id, alias, model_version, previous_version,"
                               " action, reason, user_name, changed_at FROM wk_model_stages"
                               " WHERE model_name = ? ORDER BY changed_at, change_id", [model])
    frame["changed_at"] = pd.to_datetime(frame["changed_at"])
    return frame


def record_batch(store: Store, *, batch_id: str, pipeline: str, partition, version: str,
                 shadow_version: str | None, rows_in: int, rows_served: int, table: str,
                 ingest_id: str | None, inputs: dict, classes: Sequence | None = None
                 ) -> None:
    """Which model version produced a prediction batch, from which partitions, and the
    model's classes (a classifier's: what ``score`` is the probability of)."""
    with store._connect() as db, db.transaction():
        db.execute("INSERT INTO wk_prediction_batches (batch_id, pipeline, partition_start,"
                   " model_version, shadow_version, rows_in, rows_served, table_name,"
                   " ingest_id, inputs, created_at, classes)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [batch_id, pipeline, pd.Timestamp(partition).to_pydatetime(), str(version),
                    shadow_version, int(rows_in), int(rows_served), table, ingest_id,
                    json.dumps(inputs, default=str), _now(),
                    None if classes is None else json.dumps([str(c) for c in classes])])


def batch(store: Store, batch_id: str) -> dict | None:
    """One prediction batch as recorded, or None."""
    with store._connect() as db:
        frame = db.fetch_frame("SELECT * FROM wk_prediction_batches WHERE batch_id = ?",
                               [batch_id])
    if frame.empty:
        return None
    row = frame.iloc[0].to_dict()
    row["inputs"] = json.loads(row["inputs"])
    row["classes"] = json.loads(row["classes"]) if row.get("classes") else None
    row["partition_start"] = pd.Timestamp(row["partition_start"])
    return row
