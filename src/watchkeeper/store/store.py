"""The metadata store: registered tables, partition summaries and their history.

Default: a DuckDB file at ``.watchkeeper/store.duckdb`` under the project root.
Teams set ``WK_STORE_URL=postgresql://...`` (``?schema=NAME`` picks a schema).
Every write is one transaction: a crash leaves the previous refresh intact.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd

from .._version import __version__
from ..errors import StoreError, StoreLockedError, UnknownTableError
from . import _db
from .migrations import META_DDL, MIGRATIONS, SCHEMA_VERSION

DEFAULT_STORE = Path(".watchkeeper") / "store.duckdb"
T = TypeVar("T")


@dataclass(frozen=True)
class TableRecord:
    name: str
    source: str
    partition_column: str
    granularity: str


class Store:
    """Open with :meth:`Store.open`; each call opens and closes its own connection,
    so a DuckDB store file is locked only while watchkeeper reads or writes it."""

    def __init__(self, url: str, *, lock_timeout: float | None = None) -> None:
        self.url = url
        self.lock_timeout = lock_timeout
        self._migrated = False
        self._held: _db.Database | None = None

    @classmethod
    def open(cls, url: str | os.PathLike | None = None, *, root: Path | None = None,
             lock_timeout: float | None = None, lazy: bool = False) -> "Store":
        """The store at ``url`` (default: ``WK_STORE_URL``, else the DuckDB file under
        ``root``), migrated. A DuckDB file another process holds is waited for up to
        ``lock_timeout`` seconds (default: ``WK_LOCK_TIMEOUT``, else 30). ``lazy``:
        connected (and migrated) by its first use instead of now, for a caller about to
        use it once (a connection to a DuckDB file costs milliseconds)."""
        if url is None:
            url = os.environ.get("WK_STORE_URL")
            if url:
                _require_folder(url)
            else:
                url = str((root or Path.cwd()) / DEFAULT_STORE)
        store = cls(str(url), lock_timeout=lock_timeout)
        if not lazy:
            with store._connect():
                pass
        return store

    def __repr__(self) -> str:
        from .._util import redact_url

        return f"Store({redact_url(self.url)!r})"

    # -- connection and schema ----------------------------------------------
    @contextlib.contextmanager
    def _connect(self) -> Iterator[_db.Database]:
        if self._held is not None:  # inside atomic(): the same connection and transaction
            yield self._held
            return
        db = _db.connect(self.url, lock_timeout=self.lock_timeout)
        try:
            if not self._migrated:
                migrate(db)
                self._migrated = True
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Every store call inside shares one connection, opened once (a dashboard
        request makes a dozen reads; opening DuckDB costs milliseconds each). Writes
        inside still commit each as its own transaction. Not for concurrent use: one
        thread's calls at a time, which is how the dashboard serves a DuckDB store."""
        if self._held is not None:
            yield
            return
        with self._connect() as db:
            self._held = db
            try:
                yield
            finally:
                self._held = None

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Every store write inside is one transaction on one connection: an operation
        made of several writes (feedback and the status it sets, an ingest and its
        verdicts) commits whole or not at all, so a failure reported is nothing done."""
        if self._held is not None:  # joins an outer atomic(), or begins one in a session()
            with self._held.transaction():
                yield
            return
        with self._connect() as db, db.transaction():
            self._held = db
            try:
                yield
            finally:
                self._held = None

    def transact(self, work: Callable[[_db.Database], T], attempts: int = 6) -> T:
        """Run ``work(db)`` in one transaction; a transaction that lost a race with
        another process (a key it inserted first, a serialization failure) is rolled
        back and run again, never surfaced. Inside :meth:`atomic` it joins the outer
        transaction."""
        if self._held is not None:
            with self._held.transaction():
                return work(self._held)
        for attempt in range(attempts):
            try:
                with self._connect() as db, db.transaction():
                    return work(db)
            except Exception as exc:
                if attempt == attempts - 1 or not _db.is_lost_race(exc):
                    raise
                time.sleep(0.01 * 2 ** attempt * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def atomically(self, work: Callable[[], T], attempts: int = 6) -> T:
        """Run ``work()`` with every store write inside as one transaction (as in
        :meth:`atomic`): it commits whole or not at all. A transaction that lost a race
        with another process is rolled back and ``work`` run again, so ``work`` must
        only write (what it writes is decided before)."""
        if self._held is not None:
            return work()
        for attempt in range(attempts):
            try:
                with self.atomic():
                    return work()
            except Exception as exc:
                if attempt == attempts - 1 or not _db.is_lost_race(exc):
                    raise
                time.sleep(0.01 * 2 ** attempt * (0.5 + random.random()))
        raise AssertionError("unreachable")

    def schema_version(self) -> int:
        with self._connect() as db:
            return _current_version(db)

    # -- tables -------------------------------------------------------------
    def register_table(self, record: TableRecord) -> None:
        now = pd.Timestamp.utcnow().tz_localize(None).to_pydatetime()
        self.transact(lambda db: _upsert_table(db, record, now))

    def table(self, name: str) -> TableRecord | None:
        with self._connect() as db:
            rows = db.execute("SELECT name, source, partition_column, granularity FROM wk_tables"
                              " WHERE name = ?", [name])
        return TableRecord(*rows[0]) if rows else None

    def tables(self) -> list[TableRecord]:
        with self._connect() as db:
            rows = db.execute("SELECT name, source, partition_column, granularity FROM wk_tables"
                              " ORDER BY name")
        return [TableRecord(*r) for r in rows]

    # -- summaries ----------------------------------------------------------
    def partition_state(self, table: str) -> pd.DataFrame:
        """Per stored partition: ``partition``, ``row_count``, ``fingerprint``."""
        with self._connect() as db:
            frame = db.fetch_frame(
                "SELECT partition_start AS partition, row_count, fingerprint FROM wk_partitions"
                " WHERE table_name = ? ORDER BY partition_start", [table])
        frame["partition"] = pd.to_datetime(frame["partition"])
        return frame

    def save_profile(self, record: TableRecord, *, partitions: pd.DataFrame, fingerprint: str,
                     columns: Sequence[tuple[str, str, str]], statistics: pd.DataFrame,
                     top_values: pd.DataFrame, replace_all: bool = False) -> None:
        """Replace the summaries of ``partitions`` (or of every partition) in one transaction.

        ``partitions`` has ``partition`` and ``row_count``; ``statistics`` has
        ``partition, column, statistic, value``; ``top_values`` has
        ``partition, column, rank, value, ratio``; ``columns`` is the schema as
        ``(name, kind, dtype)``.
        """
        now = pd.Timestamp.utcnow().tz_localize(None)
        name = record.name
        part_rows = pd.DataFrame({
            "table_name": name,
            "partition_start": pd.to_datetime(partitions["partition"]),
            "row_count": partitions["row_count"].astype("int64"),
            "fingerprint": fingerprint,
            "profiled_at": now,
            "watchkeeper_version": __version__,
        })
        stat_rows = pd.DataFrame({
            "table_name": name,
            "partition_start": pd.to_datetime(statistics["partition"]),
            "column_name": statistics["column"].astype(str),
            "statistic": statistics["statistic"].astype(str),
            "value": pd.to_numeric(statistics["value"], errors="coerce").astype("float64"),
        })
        top_rows = pd.DataFrame({
            "table_name": name,
            "partition_start": pd.to_datetime(top_values["partition"]),
            "column_name": top_values["column"].astype(str),
            "rank": top_values["rank"].astype("int32"),
            "value": top_values["value"].astype(object),
            "ratio": top_values["ratio"].astype("float64"),
        })
        schema_rows = pd.DataFrame(
            [(name, fingerprint, c, i, kind, dtype) for i, (c, kind, dtype) in enumerate(columns)],
            columns=["table_name", "fingerprint", "column_name", "position", "kind", "dtype"],
        )
        computed = [p.to_pydatetime() for p in part_rows["partition_start"]]

        def work(db: _db.Database) -> None:
            _upsert_table(db, record, now.to_pydatetime())
            starts = computed
            if not replace_all:
                # Only partitions stored before have rows to replace: a refresh that adds a
                # new day skips three DELETEs that would each scan the table's whole history.
                stored = {pd.Timestamp(r[0]) for r in db.execute(
                    "SELECT partition_start FROM wk_partitions WHERE table_name = ?", [name])}
                starts = [s for s in starts if pd.Timestamp(s) in stored]
            for table in ("wk_partitions", "wk_statistics", "wk_top_values"):
                if replace_all:
                    db.execute(f"DELETE FROM {table} WHERE table_name = ?", [name])
                elif starts:
                    _delete_partitions(db, table, name, starts)
            db.execute("DELETE FROM wk_schemas WHERE table_name = ? AND fingerprint = ?",
                       [name, fingerprint])
            db.insert_frame("wk_schemas", schema_rows)
            db.insert_frame("wk_partitions", part_rows)
            db.insert_frame("wk_statistics", stat_rows)
            db.insert_frame("wk_top_values", top_rows)

        self.transact(work)

    def load_statistics(self, table: str, *, column: str | None = None,
                        statistics: Sequence[str] | None = None,
                        partition=None) -> pd.DataFrame:
        """Long frame ``partition, column, statistic, value``, oldest partition first
        (``partition``: that one partition only)."""
        self._require(table)
        start = None if partition is None else pd.Timestamp(partition).to_pydatetime()
        return self.fetch_filtered(
            "SELECT partition_start AS partition, column_name AS column, statistic, value"
            " FROM wk_statistics",
            {"table_name": table, "column_name": column, "statistic": statistics or None,
             "partition_start": start},
            "partition_start, column_name, statistic")

    def load_top_values(self, table: str, *, column: str | None = None) -> pd.DataFrame:
        self._require(table)
        return self.fetch_filtered(
            "SELECT partition_start AS partition, column_name AS column, rank, value, ratio"
            " FROM wk_top_values", {"table_name": table, "column_name": column},
            "partition_start, column_name, rank")

    def fetch_filtered(self, select: str, filters: dict, order_by: str) -> pd.DataFrame:
        """``select`` with ``WHERE`` one bound condition per filter whose value is not None
        (a list or tuple means ``IN``); ``partition`` comes back as datetimes. Filter keys
        are the store's own column names, never user text."""
        clauses, params = [], []
        for name, value in filters.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                clauses.append(f"{name} IN ({', '.join('?' for _ in value)})")
                params.extend(value)
            else:
                clauses.append(f"{name} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as db:
            frame = db.fetch_frame(f"{select}{where} ORDER BY {order_by}", params)
        frame["partition"] = pd.to_datetime(frame["partition"])
        return frame

    def columns(self, table: str) -> pd.DataFrame:
        """The newest stored schema of a table: ``column, kind, dtype`` in table order."""
        with self._connect() as db:
            return db.fetch_frame(
                "SELECT s.column_name AS column, s.kind, s.dtype FROM wk_schemas s"
                " JOIN (SELECT fingerprint FROM wk_partitions WHERE table_name = ?"
                "       ORDER BY profiled_at DESC, partition_start DESC LIMIT 1) p"
                "   ON s.fingerprint = p.fingerprint"
                " WHERE s.table_name = ? ORDER BY s.position", [table, table])

    def _require(self, table: str) -> None:
        if self.table(table) is None:
            tables = self.tables()
            known = ", ".join(t.name for t in tables) or "none yet"
            raise UnknownTableError(
                f"no summaries for table {table!r} in the store (profiled tables: {known}): "
                + _profile_hint(table, tables))


def _profile_hint(table: str, tables) -> str:
    """Where to go from a name with no summaries: the name a path was profiled under when
    one matches, else how to profile it (registered or not)."""
    same = [t.name for t in tables if table in (_stem(t.name), _stem(t.source))]
    if same:
        return (f"it was profiled under the name {same[0]!r}: use that name, or profile it "
                f"as {table!r} (wk table add {table} ..., then wk profile {table}; or "
                f"watchkeeper.profile(PATH, name={table!r}))")
    return (f"profile it first: wk profile {table} if it is registered (wk table list), "
            f"else wk table add {table} ... or watchkeeper.profile(PATH, name={table!r})")


def _stem(location: str) -> str:
    """``events`` for ``data/events.parquet``, ``data/events/*.parquet`` or ``events.csv``."""
    path = Path(str(location))
    while path.name and any(ch in path.name for ch in "*?["):
        path = path.parent
    return path.name.split(".")[0]


def _upsert_table(db: _db.Database, record: TableRecord, now) -> None:
    # An upsert, not DELETE + INSERT: two processes profiling a new table at once would
    # both find no row to delete and collide on the primary key.
    db.execute(
        "INSERT INTO wk_tables (name, source, partition_column, granularity, registered_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET source = excluded.source,"
        " partition_column = excluded.partition_column, granularity = excluded.granularity,"
        " registered_at = excluded.registered_at",
        [record.name, record.source, record.partition_column, record.granularity, now])


def _require_folder(url: str) -> None:
    """A DuckDB store named by WK_STORE_URL lives in a folder that exists: a typo in
    the variable must not silently start an empty store somewhere else."""
    if url.startswith(("postgresql://", "postgres://")):
        return
    folder = Path(url.removeprefix("duckdb://").removeprefix("duckdb:")).expanduser().parent
    if not folder.is_dir():
        raise StoreError(f"WK_STORE_URL names a store in {folder}, which does not exist: "
                         "create the folder, or fix WK_STORE_URL")


def _delete_partitions(db: _db.Database, table: str, name: str, starts: list) -> None:
    # Batched so that a long refresh does not build one enormous statement.
    for i in range(0, len(starts), 500):
        batch = starts[i:i + 500]
        marks = ", ".join("?" for _ in batch)
        db.execute(f"DELETE FROM {table} WHERE table_name = ? AND partition_start IN ({marks})",
                   [name, *batch])


def _current_version(db: _db.Database) -> int:
    if db.dialect == "postgres":
        with db.transaction():  # CREATE ... IF NOT EXISTS races too: under the lock
            db.lock_schema()
            db.execute(META_DDL)
    else:
        db.execute(META_DDL)
    rows = db.execute("SELECT value FROM wk_meta WHERE key = 'schema_version'")
    return int(rows[0][0]) if rows else 0


def migrate(db: _db.Database, up_to: int | None = None) -> int:
    """Bring the store's schema up to ``up_to`` (default: this package's version)."""
    target = SCHEMA_VERSION if up_to is None else up_to
    current = _current_version(db)
    if current > SCHEMA_VERSION:
        written_by = db.execute("SELECT value FROM wk_meta WHERE key = 'written_by'")
        who = f" by watchkeeper {written_by[0][0]}" if written_by else ""
        raise StoreLockedError(
            f"the store was migrated to schema {current}{who}, newer than this watchkeeper "
            f"{__version__} (schema {SCHEMA_VERSION}) understands: upgrade with "
            "pip install -U watchkeeper"
        )
    if current >= target:
        return current
    with db.transaction():
        db.lock_schema()
        current = _current_version(db)  # another process may have migrated meanwhile
        if current >= target:
            return current
        for version, _title, statements in MIGRATIONS:
            if current < version <= target:
                for statement in statements:
                    if isinstance(statement, tuple):  # (dialect, sql): one dialect only
                        dialect, statement = statement
                        if dialect != db.dialect:
                            continue
                    if callable(statement):
                        statement(db)
                    else:
                        db.execute(statement)
        db.execute("DELETE FROM wk_meta WHERE key IN ('schema_version', 'written_by')")
        db.execute("INSERT INTO wk_meta (key, value) VALUES ('schema_version', ?),"
                   " ('written_by', ?)", [str(target), __version__])
    return target
