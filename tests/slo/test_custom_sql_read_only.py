"""Custom SQL checks read the data and never change it: each check query runs in a
read-only transaction, so an expression that writes gets the ``error`` verdict and the
table keeps every row; ordinary custom SQL still works on DuckDB and PostgreSQL."""

from __future__ import annotations

import uuid

import duckdb
import ibis
import pandas as pd
import pytest
from psycopg import sql

from watchkeeper.errors import UserError
from watchkeeper.slo import SLOSpec, evaluate

NOW = pd.Timestamp("2024-01-05")


def _slo(*checks):
    return SLOSpec.from_dict({"tables": {"t": {"checks": list(checks)}}}).tables["t"]


def _verdicts(result) -> dict[str, tuple]:
    rows = result.results
    return {name: (list(group["passed"]), list(group["error"].notna()))
            for name, group in rows.groupby("check")}


# -- PostgreSQL ----------------------------------------------------------------
@pytest.fixture
def pg_table(pg_dsn, pg_schema):
    """``schema.t`` with three rows over two days, a function that deletes them all
    and returns true, and a sequence; the function is dropped afterwards."""
    import psycopg

    wipe = f"wk_wipe_{uuid.uuid4().hex[:8]}"
    table = sql.Identifier(pg_schema, "t")
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(sql.SQL("CREATE TABLE {} (d date, x int)").format(table))
        con.execute(sql.SQL("INSERT INTO {} VALUES ('2024-01-01', 1), ('2024-01-01', 2), "
                            "('2024-01-02', 3)").format(table))
        con.execute(sql.SQL("CREATE SEQUENCE {}").format(sql.Identifier(pg_schema, "s")))
        con.execute(sql.SQL("CREATE FUNCTION {}() RETURNS boolean LANGUAGE plpgsql AS "
                            "$$ BEGIN DELETE FROM {}; RETURN true; END $$")
                    .format(sql.Identifier("public", wipe), table))
    yield f"{pg_dsn}#{pg_schema}.t", wipe
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(sql.SQL("DROP FUNCTION IF EXISTS {}()").format(
            sql.Identifier("public", wipe)))


def _pg_rows(pg_dsn, pg_schema) -> int:
    import psycopg

    with psycopg.connect(pg_dsn) as con:
        return con.execute(sql.SQL("SELECT count(*) FROM {}").format(
            sql.Identifier(pg_schema, "t"))).fetchone()[0]


def test_a_postgres_function_that_deletes_gets_the_error_verdict(pg_table, pg_dsn, pg_schema):
    """sql_row and sql_aggregate calling a deleting function: error verdicts, every row
    still there, and the plain checks beside them still judged."""
    source, wipe = pg_table
    result = evaluate(source, _slo(
        {"kind": "sql_row", "expression": f"{wipe}()", "name": "wipe_rows"},
        {"kind": "sql_aggregate", "expression": f"bool_and({wipe}())", "name": "wipe_agg"},
        {"kind": "not_null", "column": "x"}), partition_column="d", now=NOW)
    verdicts = _verdicts(result)
    for name in ("wipe_rows", "wipe_agg"):
        assert verdicts[name][1] == [True, True], verdicts
    errors = " ".join(result.results["error"].dropna())
    assert "read-only transaction" in errors
    assert verdicts["not_null_x"] == ([True, True], [False, False])
    assert _pg_rows(pg_dsn, pg_schema) == 3


def test_a_postgres_sequence_is_not_advanced(pg_table, pg_dsn, pg_schema):
    import psycopg

    source, _ = pg_table
    result = evaluate(source, _slo({"kind": "sql_row", "name": "seq",
                                    "expression": f"nextval('{pg_schema}.s') > 0"}),
                      partition_column="d", now=NOW)
    assert _verdicts(result)["seq"][1] == [True, True]
    with psycopg.connect(pg_dsn) as con:
        assert con.execute(sql.SQL("SELECT nextval({})").format(
            sql.Literal(f"{pg_schema}.s"))).fetchone()[0] == 1


def test_a_data_modifying_cte_is_refused_before_it_runs(pg_table, pg_dsn, pg_schema):
    source, _ = pg_table
    expression = f"(WITH d AS (DELETE FROM {pg_schema}.t RETURNING 1) SELECT count(*) FROM d) = 0"
    with pytest.raises(UserError, match="may not contain"):
        evaluate(source, _slo({"kind": "sql_row", "expression": expression}),
                 partition_column="d", now=NOW)
    assert _pg_rows(pg_dsn, pg_schema) == 3


def test_ordinary_custom_sql_works_on_postgres(pg_table):
    source, _ = pg_table
    result = evaluate(source, _slo(
        {"kind": "sql_row", "expression": "x > 1", "name": "big", "mostly": 0.1},
        {"kind": "sql_aggregate", "expression": "sum(x) >= 3", "name": "total"}),
        partition_column="d", now=NOW)
    verdicts = _verdicts(result)
    assert verdicts["big"] == ([True, True], [False, False])
    assert verdicts["total"] == ([True, True], [False, False])


def test_the_source_connection_is_writable_again_after_the_checks(pg_table, pg_dsn):
    """The read-only mode is the check queries', not left on a caller's connection."""
    source, _ = pg_table
    con = ibis.connect(source.partition("#")[0])
    try:
        table = con.table("t", database=source.partition("#")[2].split(".")[0])
        evaluate(table, _slo({"kind": "sql_row", "expression": "x > 0"}),
                 partition_column="d", now=NOW)
        assert con.con.read_only is None
        con.raw_sql("CREATE TEMPORARY TABLE wk_after (x int)").close()
    finally:
        con.disconnect()


# -- DuckDB --------------------------------------------------------------------
def _duck_database(path) -> str:
    con = duckdb.connect(str(path))
    con.execute("CREATE SEQUENCE s")
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES (DATE '2024-01-01', 1), "
                "(DATE '2024-01-01', 2), (DATE '2024-01-02', 3)) v(d, x)")
    con.close()
    return str(path)


def test_a_duckdb_expression_that_writes_gets_the_error_verdict(tmp_path):
    path = _duck_database(tmp_path / "w.duckdb")
    result = evaluate(f"duckdb:{path}#t", _slo(
        {"kind": "sql_row", "expression": "nextval('s') > 0", "name": "seq"},
        {"kind": "sql_row", "expression": "x > 0", "name": "positive"}),
        partition_column="d", now=NOW)
    verdicts = _verdicts(result)
    assert verdicts["seq"][1] == [True, True]
    assert verdicts["positive"] == ([True, True], [False, False])
    con = duckdb.connect(path)
    assert con.execute("SELECT nextval('s')").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 3


def test_a_callers_writable_duckdb_connection_is_not_written_either(tmp_path):
    """An Ibis table on the caller's own writable connection: the check's transaction
    is read-only, so the sequence does not move, and the connection works afterwards."""
    con = ibis.duckdb.connect(_duck_database(tmp_path / "w.duckdb"))
    try:
        result = evaluate(con.table("t"), _slo(
            {"kind": "sql_aggregate", "expression": "max(nextval('s')) > 0", "name": "seq"},
            {"kind": "sql_aggregate", "expression": "sum(x) > 0", "name": "total"}),
            partition_column="d", now=NOW)
        verdicts = _verdicts(result)
        assert verdicts["seq"][1] == [True, True]
        assert verdicts["total"] == ([True, True], [False, False])
        assert con.con.execute("SELECT nextval('s')").fetchone()[0] == 1
    finally:
        con.disconnect()


def test_ordinary_custom_sql_works_on_files(tmp_path):
    frame = pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-01-02"]), "x": [1, -1]})
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    result = evaluate(str(tmp_path / "t.parquet"), _slo(
        {"kind": "sql_row", "expression": "x > 0", "name": "positive"},
        {"kind": "sql_aggregate", "expression": "count(*) = 1", "name": "one"}),
        partition_column="d", now=NOW)
    verdicts = _verdicts(result)
    assert verdicts["positive"] == ([True, False], [False, False])
    assert verdicts["one"] == ([True, True], [False, False])
