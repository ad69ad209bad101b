"""Managed tables on disk: a Delta Lake table (delta-rs) per managed table, partitioned by
watchkeeper's own partition column, plus one Parquet file of quarantined rows per ingest.

Delta gives versions, time travel and per-partition rewrites: re-ingesting a
partition overwrites only that partition's files (``predicate`` on the partition
column), so unchanged partitions are never copied. Each commit carries the
ingest id in its metadata. The predicate is built here from watchkeeper's own
column name and a formatted timestamp, never from user text.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from . import duck
from ..errors import ConfigError, EngineUnavailableError, SourceError

PARTITION_FIELD = "_wk_partition"
_PARTITION_TEXT = re.compile(r"^[0-9T:\-]+$")
FORMATS = ("arrow", "pandas", "polars", "ibis")


def _deltalake():
    try:
        import deltalake
    except ImportError:  # pragma: no cover - a core dependency
        raise EngineUnavailableError("managed tables need deltalake: pip install deltalake") \
            from None
    return deltalake


def open_table(path: Path):
    """The Delta table at ``path`` at its newest version, or None: one handle an ingest
    reads the version and schema from and writes through (opening one replays its log)."""
    dl = _deltalake()
    if not dl.DeltaTable.is_deltatable(str(path)):
        return None
    return dl.DeltaTable(str(path))


def latest_version(path: Path) -> int | None:
    """The newest Delta version at ``path`` (committed by watchkeeper or not), or None."""
    table = open_table(path)
    return None if table is None else table.version()


def write_partition(path: Path, rows: pa.Table, partition: str, ingest_id: str,
                    table=None) -> int:
    """Replace ``partition``'s rows with ``rows`` in one Delta commit; return the new version.

    ``table``: the table at ``path`` already open (:func:`open_table`), written through.
    New columns are added to the table schema (older partitions read them as NULL);
    a type the table cannot hold is a one-line :class:`ConfigError`.
    """
    dl = _deltalake()
    if not _PARTITION_TEXT.match(partition):
        raise ValueError(f"not a formatted partition: {partition!r}")
    data = rows.append_column(PARTITION_FIELD, pa.repeat(pa.scalar(partition), rows.num_rows))
    path.mkdir(parents=True, exist_ok=True)
    try:
        dl.write_deltalake(table if table is not None else str(path), data,
                           partition_by=[PARTITION_FIELD], mode="overwrite",
                           predicate=f"{PARTITION_FIELD} = '{partition}'", schema_mode="merge",
                           commit_properties=dl.CommitProperties(
                               custom_metadata={"wk_ingest_id": ingest_id}))
    except Exception as exc:
        if "cast" in str(exc).lower() or "schema" in str(exc).lower():
            raise ConfigError(f"the batch does not fit the managed table's schema "
                              f"({str(exc).splitlines()[0][:200]}): fix the column types, or "
                              "declare a schema check with on_partition_failure: reject") from None
        raise
    if table is not None:  # the write moved the handle to its commit
        return table.version()
    return dl.DeltaTable(str(path)).version()


def restore(path: Path, version: int | None) -> None:
    """Make ``version`` the newest again (a new commit); None removes the table entirely.

    Used to undo commits of an ingest that was killed before watchkeeper recorded it.
    """
    if version is None:
        shutil.rmtree(path, ignore_errors=True)
        return
    _deltalake().DeltaTable(str(path)).restore(version)


def _dataset(path: Path, version: int, partitions: Sequence[str]) -> ds.Dataset:
    dl = _deltalake()
    table = dl.DeltaTable(str(path), version=version)
    return table.to_pyarrow_dataset(
        file_pruning_predicate=[(PARTITION_FIELD, "in", list(partitions))] if partitions else None)


def read_rows(path: Path, version: int | None, partitions: Sequence[str], fmt: str,
              schema_hint: pa.Schema | None = None):
    """The rows of ``partitions`` (oldest first) at ``version``, as ``fmt``.

    ``arrow``, ``pandas`` and ``polars`` materialize; ``ibis`` returns a lazy
    expression over an in-process DuckDB connection that scans the Delta files.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if version is None or not partitions:
        empty = (schema_hint or pa.schema([])).empty_table()
        return as_format(empty, fmt)
    dataset = _dataset(path, version, partitions)
    if fmt == "ibis":
        con = duck.connect()
        name = f"wk_managed_{uuid.uuid4().hex[:12]}"
        con.con.register(name, dataset)
        expr = con.table(name)
        return expr.filter(expr[PARTITION_FIELD].isin(list(partitions))).drop(PARTITION_FIELD)
    # One scan per partition keeps rows grouped and ordered by partition.
    field = ds.field(PARTITION_FIELD)
    parts = [dataset.to_table(filter=field == p) for p in sorted(partitions)]
    table = pa.concat_tables(parts, promote_options="default").drop_columns([PARTITION_FIELD])
    return as_format(table, fmt)


def as_format(table: pa.Table, fmt: str):
    if fmt == "arrow":
        return table
    if fmt == "pandas":
        return table.to_pandas()
    if fmt == "polars":
        try:
            import polars as pl
        except ImportError:
            raise EngineUnavailableError("format='polars' needs Polars: pip install polars") \
                from None
        return pl.from_arrow(table)
    import ibis

    return ibis.memtable(table)


# -- quarantined rows: one Parquet file per ingest ---------------------------------
def write_quarantine(path: Path, rows: pa.Table) -> None:
    """Write atomically: a killed writer leaves a stray temporary file, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    pq.write_table(rows, tmp)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def read_quarantine(files: Sequence[Path]) -> pa.Table:
    """The union of quarantine files (columns matched by name; missing ones are NULL)."""
    present = [str(f) for f in files if Path(f).is_file()]
    if len(present) < len(files):
        missing = sorted(set(map(str, files)) - set(present))[0]
        raise SourceError(f"quarantine file {missing} is missing: was the .watchkeeper folder "
                          "copied only in part?")
    if not present:
        return pa.table({})
    tables = [pq.read_table(f) for f in present]
    return pa.concat_tables(tables, promote_options="permissive")


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path)


def schema_of(path: Path, version: int | None, table=None) -> pa.Schema | None:
    """The user columns of the table at ``version`` (for empty results of the right shape);
    ``table``: the table at ``path`` already open, used when it is at ``version``."""
    if version is None:
        return None
    if table is None or table.version() != version:
        table = _deltalake().DeltaTable(str(path), version=version)
    schema = table.schema().to_arrow()
    schema = pa.schema(schema)
    return schema.remove(schema.get_field_index(PARTITION_FIELD))


__all__ = ["FORMATS", "PARTITION_FIELD", "as_format", "latest_version", "open_table",
           "read_quarantine",
           "read_rows", "restore", "schema_of", "write_parquet", "write_partition",
           "write_quarantine"]
