"""The store's schema, as an ordered list of migrations.

A migration is never edited once released: a new schema is a new entry. Opening a
store applies the missing ones in one transaction; a store whose version is newer
than this package knows is refused, so an old watchkeeper never corrupts it.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
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
]

SCHEMA_VERSION = MIGRATIONS[-1][0]

META_DDL = "CREATE TABLE IF NOT EXISTS wk_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"
