"""Sources: where a table's rows live, and how to open them as a :class:`Relation`.

A source is written as a string in ``watchkeeper.yaml`` and on the command line:

- ``data/events.parquet``, ``data/*.parquet``, ``data/events.csv``: files, read by DuckDB;
- ``duckdb:warehouse.duckdb#events``: a table in a DuckDB database file;
- ``postgresql://user@host:5432/db#schema.table``: a PostgreSQL table;
- ``spark:events``: a table in the active (or a new local) Spark session's catalog.

The Python API also takes in-memory frames (pandas, Polars, Arrow), Spark
DataFrames and Ibis tables.
"""

from __future__ import annotations

import glob
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import ibis

from . import duck, staging
from .._util import redact_url
from ..errors import EngineUnavailableError, SourceError
from .relation import Relation

from .staging import CSV_DATE_FORMAT  # noqa: E402  (one rule, also for staged files)
"""The only text a CSV reader takes as a date (docs/sources.md)."""

_FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv",
                 ".csv.gz": "csv"}


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source string."""

    kind: str  # "file" | "duckdb" | "postgres" | "spark"
    location: str
    table: str | None = None
    format: str | None = None

    def __str__(self) -> str:
        if self.kind == "file":
            return self.location
        if self.kind == "spark":
            return f"spark:{self.table}"
        prefix = "duckdb:" if self.kind == "duckdb" else ""
        return f"{prefix}{self.location}#{self.table}"


def folder_hint(path, shown: str | None = None) -> str | None:
    """When ``path`` is a folder: the message that says which glob reads its files."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        return None
    shown = (shown or str(path)).rstrip("/")
    found = sorted({ext for f in folder.iterdir() for ext in _FILE_FORMATS
                    if f.name.lower().endswith(ext)})
    if not found:
        return (f"{shown!r} is a folder with no .parquet or .csv file in it: pass a file, or a "
                "glob such as 'data/*.parquet'")
    example = f"{shown}/*{found[0]}"
    return f"{shown!r} is a folder: pass a glob of its files, e.g. '{example}' (quoted)"


def parse_source(text: str, root: Path | None = None) -> SourceSpec:
    """Parse a source string; relative file paths are resolved against ``root``."""
    text = str(text).strip()
    if not text:
        raise SourceError("the source is empty: pass a path such as data/events.parquet")
    if text.startswith(("postgresql://", "postgres://")):
        url, sep, table = text.partition("#")
        if not sep or not table:
            raise SourceError(
                f"postgres source {text!r} names no table: append #schema.table to the URL"
            )
        return SourceSpec("postgres", url, table)
    if text.startswith("duckdb:"):
        path, sep, table = text[len("duckdb:"):].removeprefix("//").partition("#")
        if not sep or not table:
            raise SourceError(f"duckdb source {text!r} names no table: write duckdb:FILE#TABLE")
        return SourceSpec("duckdb", str(_resolve(path, root)), table)
    if text.startswith("spark:"):
        table = text[len("spark:"):]
        if not table:
            raise SourceError("spark source names no table: write spark:TABLE")
        return SourceSpec("spark", "", table)
    path = str(_resolve(text, root))
    folder = folder_hint(path, text)
    if folder:
        raise SourceError(folder)
    fmt = next((f for ext, f in _FILE_FORMATS.items() if path.lower().endswith(ext)), None)
    if fmt is None:
        raise SourceError(
            f"cannot tell the format of {text!r}: use a .parquet or .csv path, "
            "duckdb:FILE#TABLE, postgresql://...#TABLE or spark:TABLE"
        )
    return SourceSpec("file", path, format=fmt)


def missing_files(spec: SourceSpec) -> str | None:
    """Why a file source has nothing to read yet (None when it has): a plain path that
    does not exist is a mistake; a glob that matches nothing may be a landing zone
    waiting for its first file, so callers may only warn about it."""
    if spec.kind == "duckdb" and not Path(spec.location).is_file():
        return f"no DuckDB database at {spec.location!r}"
    if spec.kind != "file":
        return None
    if any(ch in spec.location for ch in "*?["):
        return None if glob.glob(spec.location) else f"no file matches {spec.location!r} yet"
    return None if Path(spec.location).is_file() else f"no file at {spec.location!r}"


def _resolve(path: str, root: Path | None) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() or root is None else root / p


def open_source(source, *, root: Path | None = None, label: str | None = None) -> Relation:
    """Open a source string, spec, frame or Ibis table as a :class:`Relation`."""
    if isinstance(source, Relation):
        return source
    if isinstance(source, (str, os.PathLike)):
        source = parse_source(str(source), root)
    if isinstance(source, SourceSpec):
        opener = {"file": _open_file, "duckdb": _open_duckdb, "postgres": _open_postgres,
                  "spark": _open_spark}[source.kind]
        return opener(source, label or str(source))
    return _open_object(source, label or type(source).__name__)


def _open_file(spec: SourceSpec, label: str) -> Relation:
    has_glob = any(ch in spec.location for ch in "*?[")
    if has_glob and not glob.glob(spec.location):
        raise SourceError(f"no file matches {spec.location!r}: check the pattern")
    if not has_glob and not Path(spec.location).is_file():
        raise SourceError(f"no file at {spec.location!r}: check the path")
    con = duck.connect()
    staged = None
    try:
        if spec.format == "parquet":
            table = con.read_parquet(spec.location)
        else:
            # One rule for every file: a date is ISO 8601 (YYYY-MM-DD) or stays text,
            # and timestamps are read in one format for the whole source (declared, or
            # detected alike in every file and decided by the values, a day above 12:
            # staging.csv_options). DuckDB's sniffer
            # otherwise guesses day- or month-first per file, from the values in it,
            # so 01/02/2024 meant February in one file, January in the next. The file
            # is staged once (parsed by that rule) when it can be.
            staged = staging.stage_csv(con, spec.location)
            table = con.read_parquet(staged.path) if staged else \
                con.read_csv(spec.location, **staging.csv_options(con, spec.location))
        table.schema()
    except Exception as exc:
        con.disconnect()
        if staged is not None:
            staged.remove()
        if duck.is_interrupt(exc):
            raise KeyboardInterrupt from exc
        if isinstance(exc, SourceError):  # the reading rule's own one-line answer
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(
            f"cannot read {spec.location!r} as {spec.format.upper()} ({first}): "
            "check that the file is a valid, complete " + spec.format.upper() + " file"
        ) from None
    if staged is not None:
        files = [staged.path]
        close = staging.closing(con.disconnect, staged)
    else:
        files = _parquet_files(con, spec) if spec.format == "parquet" else []
        close = con.disconnect
    return Relation(table, backend="duckdb", label=label, close=close,
                    parquet_files=files, owned_duckdb=con)


def _parquet_files(con, spec: SourceSpec) -> list[str]:
    """The files DuckDB reads for this path or glob (its own glob rules, bound, not pasted).

    They let a refresh count rows from Parquet footers; the metadata cache lets
    the refresh's later queries prune row groups without parsing the footers again.
    """
    try:
        con.raw_sql("SET parquet_metadata_cache = true")
        return [row[0] for row in con.con.execute("SELECT file FROM glob(?)",
                                                  [spec.location]).fetchall()]
    except Exception:  # an optimisation only: the counts fall back to a scan
        return []


def _open_duckdb(spec: SourceSpec, label: str) -> Relation:
    if not Path(spec.location).is_file():
        raise SourceError(f"no DuckDB database at {spec.location!r}: check the path")
    try:
        con = duck.connect(spec.location, read_only=True)
    except Exception as exc:
        raise SourceError(f"cannot open DuckDB database {spec.location!r}: "
                          f"{str(exc).splitlines()[0]}") from None
    return Relation(_lookup(con, spec, label), backend="duckdb", label=label,
                    close=con.disconnect, owned_duckdb=con)


def _open_postgres(spec: SourceSpec, label: str) -> Relation:
    try:
        import ibis.backends.postgres  # noqa: F401  (fails without psycopg)
    except ImportError:
        raise EngineUnavailableError(
            "reading PostgreSQL needs the postgres extra: pip install 'watchkeeper[postgres]'"
        ) from None
    try:
        con = ibis.connect(spec.location)
    except Exception as exc:
        raise SourceError(f"cannot connect to {redact_url(spec.location)}: "
                          f"{str(exc).strip().splitlines()[0]}") from None
    _statement_timeout(con)
    return Relation(_lookup(con, spec, label), backend="postgres", label=label,
                    close=con.disconnect)


STATEMENT_TIMEOUT_VARIABLE = "WK_STATEMENT_TIMEOUT"


def _statement_timeout(con) -> None:
    """No statement on a PostgreSQL source runs longer than ``WK_STATEMENT_TIMEOUT``
    seconds (default 1800): custom SQL checks (``sql_row``, ``sql_aggregate``) run on
    this connection too, and a runaway expression is cancelled by the server."""
    text = os.environ.get(STATEMENT_TIMEOUT_VARIABLE, "").strip() or "1800"
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        con.disconnect()
        raise SourceError(f"{STATEMENT_TIMEOUT_VARIABLE}={text!r} is not a positive number "
                          "of seconds: set it to e.g. 1800")
    con.raw_sql(f"SET statement_timeout = {int(seconds * 1000)}")


def spark_session():
    """The active Spark session, or a small local one (watchkeeper's default for tests)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailableError(
            "reading Spark tables needs the spark extra: pip install 'watchkeeper[spark]'"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (SparkSession.builder.master("local[2]").appName("watchkeeper")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate())


def _open_spark(spec: SourceSpec, label: str) -> Relation:
    con = ibis.pyspark.connect(spark_session())
    return Relation(_lookup(con, spec, label), backend="pyspark", label=label)


def _lookup(con, spec: SourceSpec, label: str):
    """Find the table by its exact name first, then as ``schema.table``."""
    name = spec.table
    try:
        return con.table(name)
    except Exception:
        pass
    schema, dot, bare = name.partition(".")
    if dot:
        try:
            return con.table(bare, database=schema)
        except Exception:
            pass
    raise SourceError(f"table {name!r} not found in {label.partition('#')[0]}: check the name "
                      "(write schema.table for a table outside the default schema)")


def _open_object(obj, label: str) -> Relation:
    module = type(obj).__module__.split(".")[0]
    if isinstance(obj, ibis.Table):
        backend = obj._find_backend(use_default=True).name
        return Relation(obj, backend=backend, label=label)
    if module == "pyspark":
        con = ibis.pyspark.connect(obj.sparkSession)
        name = f"wk_frame_{uuid.uuid4().hex[:12]}"
        obj.createOrReplaceTempView(name)
        return Relation(con.table(name), backend="pyspark", label=label,
                        close=lambda: obj.sparkSession.catalog.dropTempView(name))
    if module in {"pandas", "polars", "pyarrow"}:
        con = duck.connect()
        try:
            if module == "pandas":
                # Ibis's own pandas conversion fails on decimal columns holding NULLs;
                # Arrow's keeps every dtype (and reads NaN in float64 columns as NULL,
                # which is what pandas means by it).
                import pyarrow as pa

                obj = pa.Table.from_pandas(obj, preserve_index=False)
            table = con.create_view(f"wk_frame_{uuid.uuid4().hex[:12]}", ibis.memtable(obj))
        except Exception as exc:
            con.disconnect()
            raise SourceError(f"cannot read the {module} frame: {str(exc).splitlines()[0]}") from None
        return Relation(table, backend="duckdb", label=label, close=con.disconnect,
                        owned_duckdb=con)
    raise SourceError(
        f"cannot summarize a {type(obj).__name__}: pass a path, a source URL, a pandas/Polars/"
        "Arrow frame, a Spark DataFrame or an Ibis table"
    )

