"""A thin DB-API adapter over DuckDB and psycopg for the store's own, fixed schema.

The store's statements are written once with ``?`` placeholders; the adapter
translates them for psycopg. No user identifier ever appears in this SQL: table
and column names of user data are stored as *values*.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

from .._util import redact_url
from ..errors import EngineUnavailableError, StoreError, StoreLockedError


class Database:
    """One open connection to the store's database."""

    dialect: str

    def execute(self, sql: str, params: Sequence = ()) -> list[tuple]:
        raise NotImplementedError

    def insert_frame(self, table: str, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def fetch_frame(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    def close(self) -> None:
        raise NotImplementedError


class DuckDatabase(Database):
    dialect = "duckdb"

    def __init__(self, path: Path) -> None:
        import duckdb

        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(path))
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                pid = re.search(r"PID (\d+)", text)
                holder = f" (process {pid.group(1)})" if pid else ""
                raise StoreLockedError(
                    f"store {path} is locked by another watchkeeper{holder}: "
                    "wait for it to finish, or set WK_STORE_URL to a PostgreSQL store for "
                    "concurrent use"
                ) from None
            raise StoreError(f"cannot open store {path}: {text.splitlines()[0]}") from None
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot open store {path}: {str(exc).splitlines()[0]}; "
                "is it a DuckDB file written by watchkeeper?"
            ) from None

    def execute(self, sql, params=()):
        cur = self.con.execute(sql, list(params))
        return cur.fetchall() if cur.description else []

    def insert_frame(self, table, frame):
        if frame.empty:
            return
        cols = ", ".join(frame.columns)
        self.con.register("wk_insert_frame", frame)
        try:
            self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM wk_insert_frame")
        finally:
            self.con.unregister("wk_insert_frame")

    def fetch_frame(self, sql, params=()):
        return self.con.execute(sql, list(params)).df()

    def close(self):
        self.con.close()


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
            from psycopg import sql as psql
        except ImportError:
            raise EngineUnavailableError(
                "a PostgreSQL store needs the postgres extra: pip install 'watchkeeper[postgres]'"
            ) from None
        url, schema = _split_schema(url)
        try:
            self.con = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to store {redact_url(url)}: "
                             f"{str(exc).strip().splitlines()[0]}") from None
        if schema:
            ident = psql.Identifier(schema)
            self.con.execute(psql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
            self.con.execute(psql.SQL("SET search_path TO {}").format(ident))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.con.transaction():
            yield

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql, params=()):
        cur = self.con.execute(self._sql(sql), list(params))
        return cur.fetchall() if cur.description else []

    def insert_frame(self, table, frame):
        if frame.empty:
            return
        cols = ", ".join(frame.columns)
        rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        with self.con.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def fetch_frame(self, sql, params=()):
        cur = self.con.execute(self._sql(sql), list(params))
        names = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=names)

    def close(self):
        self.con.close()


def _split_schema(url: str) -> tuple[str, str | None]:
    """``?schema=NAME`` selects (and creates) a schema for the store's tables."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def connect(url: str) -> Database:
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url)
    path = url.removeprefix("duckdb://").removeprefix("duckdb:")
    return DuckDatabase(Path(path))
