"""Check queries run in read-only transactions: a check reads the data, never changes it.

Custom SQL checks (``sql_row``, ``sql_aggregate``) put the user's expression into
the query, and an expression may call a function with side effects (a PL/pgSQL
function that deletes rows, ``nextval``). Every check query therefore runs in a
transaction the engine itself keeps read-only, so such a write fails (the check
gets the ``error`` verdict) and the data stays as it was:

- PostgreSQL: the connection's transactions start as ``BEGIN READ ONLY`` (set on
  the client, so no SQL inside can turn it off), under the source's statement
  timeout (``WK_STATEMENT_TIMEOUT``);
- DuckDB: ``BEGIN TRANSACTION READ ONLY`` around the query. Database sources are
  opened read-only besides; files and frames live in a private in-memory database.

Other engines (Spark) run the query as it is.
"""

from __future__ import annotations

from contextlib import contextmanager, suppress

import ibis.expr.types as ir
import pandas as pd

from .relation import QueryFailed, Relation


def execute_read_only(relation: Relation, expr: ir.Table) -> pd.DataFrame:
    """``relation._execute(expr)`` inside a read-only transaction of its engine."""
    with read_only(relation):
        return relation._execute(expr)


@contextmanager
def read_only(relation: Relation):
    """The block's queries on ``relation``'s connection run in read-only transactions."""
    if relation.backend not in {"postgres", "duckdb"}:
        yield
        return
    raw = relation.table._find_backend(use_default=True).con
    if relation.backend == "postgres":
        before = raw.read_only
        raw.read_only = True  # psycopg: every transaction of the block begins READ ONLY
        try:
            yield
        finally:
            raw.read_only = before
        return
    try:
        raw.execute("BEGIN TRANSACTION READ ONLY")
    except Exception as exc:  # a caller's connection already inside its own transaction
        raise QueryFailed("cannot run the check in a read-only transaction "
                          f"({str(exc).splitlines()[0]})") from None
    try:
        yield
    finally:
        # Nothing to keep: the block only read. A failed query may have ended the
        # transaction already, and that must not hide the query's own error.
        with suppress(Exception):
            raw.execute("ROLLBACK")
