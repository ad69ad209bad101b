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
]

SCHEMA_VERSION = MIGRATIONS[-1][0]

META_DDL = "CREATE TABLE IF NOT EXISTS wk_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)"
