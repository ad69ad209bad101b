"""Queries on a PostgreSQL source run under WK_STATEMENT_TIMEOUT: a runaway one is
cancelled by the server."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from watchkeeper.engine import open_source
from watchkeeper.errors import SourceError


def _table(pg_dsn, pg_schema) -> str:
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(sql.SQL("CREATE TABLE {}.t (d date, x int)").format(
            sql.Identifier(pg_schema)))
    return f"{pg_dsn}#{pg_schema}.t"


def test_a_runaway_query_is_cancelled(pg_dsn, pg_schema, monkeypatch):
    monkeypatch.setenv("WK_STATEMENT_TIMEOUT", "0.3")
    relation = open_source(_table(pg_dsn, pg_schema))
    try:
        with pytest.raises(Exception, match="statement timeout"):
            relation.table._find_backend().raw_sql("SELECT pg_sleep(3)").fetchall()
    finally:
        relation.close()


def test_a_bad_timeout_is_a_user_error(pg_dsn, pg_schema, monkeypatch):
    monkeypatch.setenv("WK_STATEMENT_TIMEOUT", "soon")
    with pytest.raises(SourceError, match="WK_STATEMENT_TIMEOUT"):
        open_source(_table(pg_dsn, pg_schema))
