"""The metadata store: registered tables, partition summaries and their history.

Default: a DuckDB file at ``.watchkeeper/store.duckdb`` under the project root.
Teams set ``WK_STORE_URL=postgresql://...`` (``?schema=NAME`` picks a schema).
Every write is one transaction: a crash leaves the previous refresh intact.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .._version import __version__
from ..errors import StoreLockedError, UnknownTableError
from . import _db
from .migrations import META_DDL, MIGRATIONS, SCHEMA_VERSION

DEFAULT_STORE = Path(".watchkeeper") / "store.duckdb"


@dataclass(frozen=True)
class TableRecord:
    name: str
    source: str
    partition_column: str
    granularity: str


class Store:
    """Open with :meth:`Store.open`; each call opens and closes its own connection,
    so a DuckDB store file is locked only while watchkeeper reads or writes it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._migrated = False

    @classmethod
    def open(cls, url: str | os.PathLike | None = None, *, root: Path | None = None) -> "Store":
        if url is None:
            url = os.environ.get("WK_STORE_URL") or str((root or Path.cwd()) / DEFAULT_STORE)
        store = cls(str(url))
        with store._connect():
            pass
        return store

    def __repr__(self) -> str:
        from .._util import redact_url

        return f"Store({redact_url(self.url)!r})"

    # -- connection and schema ----------------------------------------------
    @contextlib.contextmanager
    def _connect(self) -> Iterator[_db.Database]:
        db = _db.connect(self.url)
        try:
            if not self._migrated:
                migrate(db)
                self._migrated = True
            yield db
        finally:
            db.close()

    def schema_version(self) -> int:
        with self._connect() as db:
            return _current_version(db)

    # -- tables -------------------------------------------------------------
    def register_table(self, record: TableRecord) -> None:
        with self._connect() as db, db.transaction():
            db.execute("DELETE FROM wk_tables WHERE name = ?", [record.name])
            db.execute(
                "INSERT INTO wk_tables (name, source, partition_column, granularity, registered_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [record.name, record.source, record.partition_column, record.granularity,
                 pd.Timestamp.utcnow().tz_localize(None).to_pydatetime()],
            )

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
        starts = [p.to_pydatetime() for p in part_rows["partition_start"]]
        with self._connect() as db, db.transaction():
            db.execute("DELETE FROM wk_tables WHERE name = ?", [name])
            db.execute(
                "INSERT INTO wk_tables (name, source, partition_column, granularity, registered_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [name, record.source, record.partition_column, record.granularity,
                 now.to_pydatetime()])
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
            known = ", ".join(t.name for t in self.tables()) or "none yet"
            raise UnknownTableError(
                f"no summaries for table {table!r} in the store (profiled tables: {known}): "
                f"run `wk profile {table}` first"
            )


def _delete_partitions(db: _db.Database, table: str, name: str, starts: list) -> None:
    # Batched so that a long refresh does not build one enormous statement.
    for i in range(0, len(starts), 500):
        batch = starts[i:i + 500]
        marks = ", ".join("?" for _ in batch)
        db.execute(f"DELETE FROM {table} WHERE table_name = ? AND partition_start IN ({marks})",
                   [name, *batch])


def _current_version(db: _db.Database) -> int:
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
        for version, _title, statements in MIGRATIONS:
            if current < version <= target:
                for statement in statements:
                    if isinstance(statement, tuple):  # (dialect, sql): one dialect only
                        dialect, statement = statement
                        if dialect != db.dialect:
                            continue
                    db.execute(statement)
        db.execute("DELETE FROM wk_meta WHERE key IN ('schema_version', 'written_by')")
        db.execute("INSERT INTO wk_meta (key, value) VALUES ('schema_version', ?),"
                   " ('written_by', ?)", [str(target), __version__])
    return target
