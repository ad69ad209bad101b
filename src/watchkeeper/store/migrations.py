"""The store's schema, as an ordered list of migrations.

A migration is never edited once released: a new schema is a new entry. Opening a
store applies the missing ones in one transaction; a store whose version is newer
than this package knows is refused, so an old watchkeeper never corrupts it.
"""

from __future__ import annotations

from collections.abc import Callable

Statement = str | tuple[str, str] | tuple[str, Callable]
"""SQL for every store, or ``(dialect, sql)`` for one dialect's stores only; a callable
``f(db)`` where the statement depends on the data (DuckDB cannot ``setval``)."""


def _sequence_after(table: str, column: str, sequence: str) -> Callable:
    """DuckDB: a sequence that starts after the largest id already stored."""
    def create(db) -> None:
        top = db.execute(f"SELECT COALESCE(MAX({column}), 0) FROM {table}")[0][0]
        db.execute(f"CREATE SEQUENCE {sequence} START WITH {int(top) + 1}")
    return create


def _ids_from_sequences() -> list[Statement]:
    out: list[Statement] = []
    for table, column, sequence in (("wk_incidents", "incident_id", "wk_incident_ids"),
                                    ("wk_alert_feedback", "feedback_id", "wk_feedback_ids")):
        out.append(("duckdb", _sequence_after(table, column, sequence)))
        out.append(("postgres", f"CREATE SEQUENCE {sequence}"))
        out.append(("postgres", f"SELECT setval('{sequence}', COALESCE((SELECT MAX({column})"
                                f" FROM {table}), 0) + 1, false)"))
    return out

_DUCKDB_SECONDARY_INDEXES = ["wk_statistics_key", "wk_slo_results_key", "wk_incidents_table",
                             "wk_anomalies_incident", "wk_managed_ingests_key"]

MIGRATIONS: list[tuple[int, str, list[Statement]]] = [
    (1, "tables, partitions and statistics", [
        """CREATE TABLE wk_tables (
            name VARCHAR PRIMARY KEY,
            source VARCHAR NOT NULL,
            partition_column VARCHAR NOT NULL,
            granularity VARCHAR NOT NULL,
            registered_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE wk_partitions (
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            row_count BIGINT NOT NULL,
            fingerprint VARCHAR NOT NULL,
            profiled_at TIMESTAMP NOT NULL,
            PRIMARY KEY (table_name, partition_start))""",
        """CREATE TABLE wk_statistics (
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            column_name VARCHAR NOT NULL,
            statistic VARCHAR NOT NULL,
            value DOUBLE PRECISION)""",
        "CREATE INDEX wk_statistics_key ON wk_statistics (table_name, column_name)",
    ]),
    (2, "top values and schemas", [
        """CREATE TABLE wk_top_values (
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            column_name VARCHAR NOT NULL,
            rank INTEGER NOT NULL,
            value VARCHAR,
            ratio DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE wk_schemas (
            table_name VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            column_name VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            kind VARCHAR NOT NULL,
            dtype VARCHAR NOT NULL)""",
        "ALTER TABLE wk_partitions ADD COLUMN watchkeeper_version VARCHAR",
    ]),
    (3, "SLO check results", [
        """CREATE TABLE wk_slo_results (
            table_name VARCHAR NOT NULL,
            check_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            kind VARCHAR NOT NULL,
            column_name VARCHAR,
            severity VARCHAR NOT NULL,
            passed BOOLEAN,
            observed DOUBLE PRECISION,
            unexpected_count BIGINT,
            element_count BIGINT,
            unexpected_fraction DOUBLE PRECISION,
            sample VARCHAR,
            error VARCHAR,
            evaluated_at TIMESTAMP NOT NULL)""",
        "CREATE INDEX wk_slo_results_key ON wk_slo_results (table_name, check_name)",
    ]),
    (4, "trigger log, guard counts, quarantine and run requests", [
        """CREATE TABLE wk_trigger_firings (
            firing_key VARCHAR PRIMARY KEY,
            trigger_name VARCHAR NOT NULL,
            event_id VARCHAR NOT NULL,
            event_type VARCHAR NOT NULL,
            table_name VARCHAR,
            partition_key VARCHAR,
            severity VARCHAR NOT NULL,
            event_json VARCHAR NOT NULL,
            fired_at TIMESTAMP NOT NULL,
            last_fired_at TIMESTAMP NOT NULL,
            fire_count INTEGER NOT NULL)""",
        """CREATE TABLE wk_trigger_actions (
            firing_key VARCHAR NOT NULL,
            action_index INTEGER NOT NULL,
            action_kind VARCHAR NOT NULL,
            action_label VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            attempts INTEGER NOT NULL,
            detail VARCHAR,
            last_error VARCHAR,
            next_attempt_at TIMESTAMP,
            updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (firing_key, action_index))""",
        """CREATE TABLE wk_trigger_attempts (
            firing_key VARCHAR NOT NULL,
            action_index INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            attempted_at TIMESTAMP NOT NULL,
            ok BOOLEAN NOT NULL,
            error VARCHAR,
            elapsed_ms DOUBLE PRECISION)""",
        """CREATE TABLE wk_guard_log (
            model VARCHAR NOT NULL,
            trigger_name VARCHAR NOT NULL,
            rule_index INTEGER NOT NULL,
            rule_kind VARCHAR NOT NULL,
            window_start TIMESTAMP NOT NULL,
            window_end TIMESTAMP NOT NULL,
            batches BIGINT NOT NULL,
            rows_in BIGINT NOT NULL,
            rows_affected BIGINT NOT NULL,
            batches_rejected BIGINT NOT NULL,
            sample VARCHAR)""",
        """CREATE TABLE wk_quarantine_requests (
            request_id VARCHAR PRIMARY KEY,
            table_name VARCHAR NOT NULL,
            partition_key VARCHAR,
            reason VARCHAR NOT NULL,
            event_id VARCHAR NOT NULL,
            trigger_name VARCHAR NOT NULL,
            requested_at TIMESTAMP NOT NULL,
            status VARCHAR NOT NULL)""",
        """CREATE TABLE wk_run_requests (
            request_id VARCHAR PRIMARY KEY,
            model VARCHAR,
            pipeline VARCHAR,
            table_name VARCHAR,
            partition_key VARCHAR,
            reason VARCHAR NOT NULL,
            event_id VARCHAR NOT NULL,
            trigger_name VARCHAR NOT NULL,
            requested_at TIMESTAMP NOT NULL,
            status VARCHAR NOT NULL)""",
    ]),
    (5, "alert incidents, their anomalies, feedback and learned tolerances", [
        """CREATE TABLE wk_incidents (
            incident_id BIGINT PRIMARY KEY,
            table_name VARCHAR NOT NULL,
            first_partition TIMESTAMP NOT NULL,
            last_partition TIMESTAMP NOT NULL,
            granularity VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            score DOUBLE PRECISION NOT NULL,
            impact DOUBLE PRECISION NOT NULL,
            consumers INTEGER NOT NULL,
            status VARCHAR NOT NULL,
            confirmed BOOLEAN NOT NULL,
            cause VARCHAR NOT NULL,
            opened_at TIMESTAMP NOT NULL,
            updated_at TIMESTAMP NOT NULL,
            resolved_at TIMESTAMP)""",
        "CREATE INDEX wk_incidents_table ON wk_incidents (table_name, status)",
        """CREATE TABLE wk_incident_partitions (
            incident_id BIGINT NOT NULL,
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            PRIMARY KEY (incident_id, partition_start))""",
        """CREATE TABLE wk_anomalies (
            incident_id BIGINT NOT NULL,
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL,
            column_name VARCHAR NOT NULL,
            statistic VARCHAR NOT NULL,
            check_name VARCHAR,
            severity VARCHAR NOT NULL,
            observed DOUBLE PRECISION,
            expected_low DOUBLE PRECISION,
            expected_high DOUBLE PRECISION,
            score DOUBLE PRECISION NOT NULL,
            tolerance DOUBLE PRECISION NOT NULL,
            note VARCHAR,
            history_json VARCHAR NOT NULL)""",
        "CREATE INDEX wk_anomalies_incident ON wk_anomalies (incident_id)",
        """CREATE TABLE wk_alert_feedback (
            feedback_id BIGINT PRIMARY KEY,
            incident_id BIGINT NOT NULL,
            action VARCHAR NOT NULL,
            user_name VARCHAR NOT NULL,
            note VARCHAR,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE wk_alert_tolerances (
            table_name VARCHAR NOT NULL,
            column_name VARCHAR NOT NULL,
            statistic VARCHAR NOT NULL,
            multiplier DOUBLE PRECISION NOT NULL,
            feedback_id BIGINT NOT NULL,
            incident_id BIGINT NOT NULL,
            user_name VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE wk_alert_checked (
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            severity VARCHAR NOT NULL,
            checked_at TIMESTAMP NOT NULL,
            PRIMARY KEY (table_name, partition_start))""",
    ]),
    # managed tables (ingests, quarantine bookkeeping, snapshots).
    (6, "managed tables: ingests, quarantined batches, dataset snapshots", [
        """CREATE TABLE wk_managed_ingests (
            ingest_id VARCHAR PRIMARY KEY,
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            status VARCHAR NOT NULL,
            data_version BIGINT,
            rows_in BIGINT NOT NULL,
            rows_valid BIGINT NOT NULL,
            rows_quarantined BIGINT NOT NULL,
            failed_critical VARCHAR NOT NULL,
            failed_other VARCHAR NOT NULL,
            source VARCHAR,
            started_at TIMESTAMP NOT NULL,
            committed_at TIMESTAMP NOT NULL)""",
        "CREATE INDEX wk_managed_ingests_key ON wk_managed_ingests (table_name, partition_start)",
        """CREATE TABLE wk_managed_quarantine (
            ingest_id VARCHAR PRIMARY KEY,
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            file VARCHAR NOT NULL,
            row_count BIGINT NOT NULL,
            rejected BOOLEAN NOT NULL,
            superseded_by VARCHAR,
            created_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE wk_managed_snapshots (
            snapshot_id VARCHAR PRIMARY KEY,
            table_name VARCHAR NOT NULL,
            data_version BIGINT NOT NULL,
            partitions VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL)""",
    ]),
    # DuckDB 1.5 can leave a non-unique ART index out of step with its table after
    # replaying the write-ahead log of a killed process; the next transaction that
    # deletes those rows then fails at COMMIT ("Failed to delete all rows from
    # index") and invalidates the database (duckdb/duckdb#23645). The store's
    # tables are small enough to scan, so DuckDB stores keep no secondary index;
    # PostgreSQL stores keep theirs.
    (7, "no secondary indexes in DuckDB stores", [
        ("duckdb", f"DROP INDEX IF EXISTS {name}") for name in _DUCKDB_SECONDARY_INDEXES
    ]),
    # MAX(id) + 1 in two concurrent transactions on PostgreSQL gives both the same id:
    # one incident overwrote the other. Ids come from the database instead.
    (8, "incident and feedback ids from sequences", _ids_from_sequences()),
    # Pipelines: runs, what each registered model version read, its stage history, and
    # which version produced each prediction batch.
    # MLflow keeps the models and their metrics; these keep what MLflow does not.
    (9, "pipeline runs, model lineage, stage changes and prediction batches", [
        """CREATE TABLE wk_pipeline_runs (
            run_id VARCHAR PRIMARY KEY,
            pipeline VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            model_version VARCHAR,
            mlflow_run_id VARCHAR,
            selection VARCHAR NOT NULL,
            params VARCHAR NOT NULL,
            metrics VARCHAR NOT NULL,
            skipped VARCHAR NOT NULL,
            reasons VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL,
            finished_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE wk_model_lineage (
            model_name VARCHAR NOT NULL,
            model_version VARCHAR NOT NULL,
            run_id VARCHAR NOT NULL,
            table_name VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            role VARCHAR NOT NULL,
            row_count BIGINT,
            fingerprint VARCHAR,
            snapshot_id VARCHAR)""",
        """CREATE TABLE wk_model_stages (
            change_id VARCHAR PRIMARY KEY,
            model_name VARCHAR NOT NULL,
            alias VARCHAR NOT NULL,
            model_version VARCHAR,
            previous_version VARCHAR,
            action VARCHAR NOT NULL,
            reason VARCHAR,
            user_name VARCHAR NOT NULL,
            changed_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE wk_prediction_batches (
            batch_id VARCHAR PRIMARY KEY,
            pipeline VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            model_version VARCHAR NOT NULL,
            shadow_version VARCHAR,
            rows_in BIGINT NOT NULL,
            rows_served BIGINT NOT NULL,
            table_name VARCHAR NOT NULL,
            ingest_id VARCHAR,
            inputs VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL)""",
    ]),
    # Delayed labels: performance per partition of each model version and stage, realised
    # (labels joined to logged predictions) or estimated (from calibrated probabilities,
    # before labels land); the calibration map a classifier's run learned on its eval
    # window; the classes of the model that scored a batch.
    (10, "model performance per partition, calibration maps, batch classes", [
        """CREATE TABLE wk_model_performance (
            pipeline VARCHAR NOT NULL,
            model_version VARCHAR NOT NULL,
            stage VARCHAR NOT NULL,
            partition_start TIMESTAMP NOT NULL,
            kind VARCHAR NOT NULL,
            metric VARCHAR NOT NULL,
            value DOUBLE PRECISION,
            row_count BIGINT NOT NULL,
            computed_at TIMESTAMP NOT NULL,
            PRIMARY KEY (pipeline, model_version, stage, partition_start, kind, metric))""",
        """CREATE TABLE wk_model_calibration (
            model_name VARCHAR NOT NULL,
            model_version VARCHAR NOT NULL,
            positive_class VARCHAR NOT NULL,
            thresholds VARCHAR NOT NULL,
            probabilities VARCHAR NOT NULL,
            row_count BIGINT NOT NULL,
            PRIMARY KEY (model_name, model_version))""",
        "ALTER TABLE wk_prediction_batches ADD COLUMN classes VARCHAR",
    ]),
    # The detector a partition's stored verdict was judged by (its version and parameters,
    # ``detect.detector_key``): the verdict stands only under the same one.
    (11, "the detector of each checked partition's verdict", [
        "ALTER TABLE wk_alert_checked ADD COLUMN detector VARCHAR",
    ]),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]

META_DDL = "CREATE TABLE IF NOT EXISTS wk_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"
