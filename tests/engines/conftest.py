"""The ``engine`` fixture: the same dataset on every engine, as Ibis's backend suite does.

Each parameter yields an :class:`EngineCase` whose ``source`` is what a user
would pass to :func:`watchkeeper.profile`. Known gaps are declared on a test with
``@pytest.mark.notimpl([...], reason=...)`` (watchkeeper has not done it yet) or
``@pytest.mark.notyet([...], reason=...)`` (the engine cannot do it yet); both
become ``xfail(strict=True)``, so a gap that closes fails the suite until the
marker goes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from conformance_data import ARROW_TYPES, ROWS, arrow_table

DUCKDB = ["duckdb-parquet", "duckdb-pandas", "duckdb-polars", "duckdb-arrow"]
ALL = [*DUCKDB, "postgres", "spark-table", "spark-dataframe"]


@dataclass
class EngineCase:
    name: str  # e.g. "postgres", "spark-table"
    source: object

    @property
    def family(self) -> str:
        return self.name.split("-")[0]


def pytest_configure(config):
    config.addinivalue_line("markers", "notimpl(engines, reason): watchkeeper does not do it "
                                       "on these engines yet (strict xfail)")
    config.addinivalue_line("markers", "notyet(engines, reason): the engine itself cannot do it "
                                       "(strict xfail)")


FAMILIES = ["duckdb-parquet", "postgres", "spark-table"]
"""One source per engine: enough for cases that exercise SQL, not the input adapters."""


def _params(names):
    for name in names:
        marks = []
        if name == "postgres":
            marks.append(pytest.mark.postgres)
        if name.startswith("spark"):
            marks.append(pytest.mark.spark)
        yield pytest.param(name, id=name, marks=marks)


@pytest.fixture(params=list(_params(ALL)))
def engine(request, tmp_path) -> EngineCase:
    """The dataset on every engine and every kind of source (files, frames, tables)."""
    return _engine_case(request, request.param, tmp_path)


@pytest.fixture(params=list(_params(FAMILIES)))
def engine_family(request, tmp_path) -> EngineCase:
    """The dataset once per engine (DuckDB, PostgreSQL, Spark), to keep Spark compact."""
    return _engine_case(request, request.param, tmp_path)


def _engine_case(request, name: str, tmp_path) -> EngineCase:
    for kind in ("notimpl", "notyet"):
        for marker in request.node.iter_markers(kind):
            engines = marker.args[0]
            if name in engines or name.split("-")[0] in engines:
                request.applymarker(pytest.mark.xfail(
                    strict=True, reason=f"{kind}: {marker.kwargs['reason']}",
                    raises=marker.kwargs.get("raises")))
    if name == "postgres":
        return EngineCase(name, _postgres_source(request.getfixturevalue("pg_dsn"),
                                                 request.getfixturevalue("pg_schema")))
    if name.startswith("spark"):
        frame = request.getfixturevalue("spark_frame")
        if name == "spark-dataframe":
            return EngineCase(name, frame)
        return EngineCase(name, request.getfixturevalue("spark_table"))
    return EngineCase(name, _duckdb_source(name, tmp_path))


def _duckdb_source(name: str, tmp_path):
    import pandas as pd
    import pyarrow.parquet as pq

    table = arrow_table()
    if name == "duckdb-parquet":
        path = tmp_path / "conformance.parquet"
        pq.write_table(table, path)
        return str(path)
    if name == "duckdb-pandas":
        # Arrow-backed dtypes keep NaN apart from NULL; classic float64 cannot.
        return table.to_pandas(types_mapper=pd.ArrowDtype)
    if name == "duckdb-polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


_PG_TYPES = {"ts": "timestamp", "ts_tz": "timestamptz", "d": "date", "iso": "text",
             "i": "bigint", "dec": "numeric(12, 3)", "f": "double precision", "b": "boolean"}


def _pg_type(column: str) -> str:
    arrow = ARROW_TYPES[column]
    if column in _PG_TYPES:
        return _PG_TYPES[column]
    return {"int64": "bigint", "double": "double precision", "string": "text"}[str(arrow)]


def _postgres_source(dsn: str, schema: str) -> str:
    import psycopg
    from psycopg import sql

    table = "conformance"
    names = list(ROWS)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_pg_type(c))) for c in names)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(sql.SQL("CREATE TABLE {}.{} ({})").format(
            sql.Identifier(schema), sql.Identifier(table), columns))
        copy_sql = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
            sql.Identifier(schema), sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, names)))
        with con.cursor() as cur, cur.copy(copy_sql) as copy:
            for row in zip(*ROWS.values()):
                copy.write_row(row)
    return f"{dsn}#{schema}.{table}"


def _spark_schema():
    from pyspark.sql import types as T

    spark_types = {"ts": T.TimestampNTZType(), "ts_tz": T.TimestampType(), "d": T.DateType(),
                   "dec": T.DecimalType(12, 3), "b": T.BooleanType()}
    by_arrow = {"int64": T.LongType(), "double": T.DoubleType(), "string": T.StringType()}
    return T.StructType([T.StructField(c, spark_types.get(c) or by_arrow[str(ARROW_TYPES[c])])
                         for c in ROWS])


@pytest.fixture(scope="session")
def spark_frame(spark):
    """The dataset as a Spark DataFrame, built once from Python values (NaN stays NaN)."""
    rows = [tuple(r) for r in zip(*ROWS.values())]
    return spark.createDataFrame(rows, _spark_schema()).cache()


@pytest.fixture(scope="session")
def spark_table(spark, spark_frame, tmp_path_factory):
    """The dataset as a Parquet-backed table in Spark's catalog, read as ``spark:NAME``."""
    name = f"wk_conformance_{uuid.uuid4().hex[:8]}"
    location = tmp_path_factory.mktemp("spark") / name
    spark_frame.write.option("path", str(location)).format("parquet").saveAsTable(name)
    yield f"spark:{name}"
    spark.sql(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def queries(monkeypatch) -> list[str]:
    """Records the SQL of every query a Relation executes (tests count them)."""
    from watchkeeper.engine import Relation

    seen: list[str] = []

    def counting(method):
        original = getattr(Relation, method)

        def run(self, expr):
            seen.append(self.sql(expr))
            return original(self, expr)

        return run

    for method in ("_execute", "_execute_rows"):
        monkeypatch.setattr(Relation, method, counting(method))
    return seen
