"""Run one user-written statement with bound parameters (the ``sql`` trigger action).

The statement comes from the project file and uses ``?`` placeholders; values
(taken from events) are always bound, never pasted into the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .._util import redact_url
from ..errors import EngineUnavailableError


def execute_statement(database: str, statement: str, params: Sequence = ()) -> int:
    """Run ``statement`` on a DuckDB file or a PostgreSQL URL; the affected row count or -1."""
    if database.startswith(("postgresql://", "postgres://")):
        return _postgres(database, statement, params)
    return _duckdb(Path(database.removeprefix("duckdb:").removeprefix("//")), statement, params)


def _duckdb(path: Path, statement: str, params: Sequence) -> int:
    import duckdb

    con = duckdb.connect(str(path))
    try:
        cur = con.execute(statement, list(params))
        # DuckDB reports DML row counts as a one-row result named "Count".
        if cur.description and cur.description[0][0] == "Count":
            row = cur.fetchone()
            return int(row[0]) if row else -1
        return -1
    finally:
        con.close()


def _postgres(url: str, statement: str, params: Sequence) -> int:
    try:
        import psycopg
    except ImportError:
        raise EngineUnavailableError(
            "a sql action on PostgreSQL needs the postgres extra: pip install "
            "'watchkeeper[postgres]'") from None
    # psycopg placeholders are %s; a literal % must be doubled first.
    text = statement.replace("%", "%%").replace("?", "%s")
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as con:
            cur = con.execute(text, list(params))
            return cur.rowcount
    except psycopg.OperationalError as exc:
        # Connection errors can echo the URL; keep only the first line, redacted.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise ConnectionError(f"cannot reach {redact_url(url)}: "
                              f"{first.replace(url, redact_url(url))}") from None
