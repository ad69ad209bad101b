"""A thin DB-API adapter over DuckDB and psycopg for the store's own, fixed schema.

The store's statements are written once with ``?`` placeholders; the adapter
translates them for psycopg. No user identifier ever appears in this SQL: table
and column names of user data are stored as *values*.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import time
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

    _depth = 0

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; a nested one joins the outer (all or nothing together)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self.execute("ROLLBACK")
            raise
        self._depth = 0
        self.execute("COMMIT")

    def lock_schema(self) -> None:
        """Inside a transaction: wait until no other process migrates this store."""

    def close(self) -> None:
        raise NotImplementedError


LOCK_TIMEOUT_VARIABLE = "WK_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0
"""Seconds a process waits for a DuckDB store another process holds (WK_LOCK_TIMEOUT)."""


def lock_timeout(value: float | None = None) -> float:
    """The seconds to wait for a locked DuckDB store: ``value``, else ``WK_LOCK_TIMEOUT``,
    else 30."""
    if value is not None:
        return max(0.0, float(value))
    text = os.environ.get(LOCK_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise StoreError(f"{LOCK_TIMEOUT_VARIABLE}={text!r} is not a number of seconds: "
                         "set it to e.g. 30 (0 fails at once)")
    return seconds


class DuckDatabase(Database):
    dialect = "duckdb"

    def __init__(self, path: Path, timeout: float | None = None) -> None:
        import duckdb

        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
        wait = lock_timeout(timeout)
        deadline = time.monotonic() + wait
        pause = 0.02
        while True:
            try:
                self.con = duckdb.connect(str(path))
                return
            except duckdb.IOException as exc:
                text = str(exc)
                if "lock" not in text.lower():
                    raise StoreError(f"cannot open store {path}: {text.splitlines()[0]}"
                                     ) from None
                left = deadline - time.monotonic()
                if left <= 0:
                    pid = re.search(r"PID (\d+)", text)
                    holder = f" (process {pid.group(1)})" if pid else ""
                    raise StoreLockedError(
                        f"store {path} is locked by another watchkeeper{holder}, still after "
                        f"{wait:g} s: wait for it to finish, raise {LOCK_TIMEOUT_VARIABLE}, or "
                        "set WK_STORE_URL to a PostgreSQL store for concurrent use"
                    ) from None
                # Jittered backoff, so that two waiting processes do not retry in step.
                time.sleep(min(left, pause * (0.5 + random.random())))
                pause = min(pause * 1.6, 0.5)
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
        with self.con.transaction():  # nested: a savepoint inside the outer transaction
            yield

    def lock_schema(self) -> None:
        # Four processes opening a new store at once would race to create its tables
        # (UniqueViolation on pg_type): the first migrates, the others wait, then see it.
        self.execute("SELECT pg_advisory_xact_lock(hashtext('watchkeeper.migrate.' ||"
                     " current_schema()))")

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


def connect(url: str, *, lock_timeout: float | None = None) -> Database:
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url)
    path = url.removeprefix("duckdb://").removeprefix("duckdb:")
    return DuckDatabase(Path(path), lock_timeout)


def is_lost_race(exc: BaseException) -> bool:
    """A write that lost a race with another process, and succeeds when run again:
    a unique key the other inserted first, a serialization failure, a deadlock, or
    DuckDB's write-write conflict."""
    try:
        import psycopg.errors as pg
    except ImportError:
        pg = None
    if pg is not None and isinstance(exc, (pg.UniqueViolation, pg.SerializationFailure,
                                           pg.DeadlockDetected)):
        return True
    try:
        import duckdb
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()
