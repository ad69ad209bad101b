"""``duplicate_fraction`` through ``watchkeeper.profile``: counted only where it must be."""

from __future__ import annotations

import pandas as pd
import pytest

import watchkeeper
from watchkeeper.engine.relation import QueryFailed, Relation


def _frame(copies: int = 0) -> pd.DataFrame:
    day1 = pd.DataFrame({"ts": pd.Timestamp("2024-01-01 10:00"),
                         "shop": ["a", "b", "c", "a"], "qty": [1, 2, 3, 1]})
    day2 = pd.DataFrame({"ts": pd.Timestamp("2024-01-02 10:00"),
                         "shop": ["a", "b", "c", "d"], "qty": [1, 1, 1, 1]})
    frame = pd.concat([day1, day2, day2.head(copies)], ignore_index=True)
    frame["qty"] = frame["qty"].astype("int64")
    return frame


def _duplicates(result) -> dict[str, float]:
    rows = result.statistics.query("column == '*' and statistic == 'duplicate_fraction'")
    return {p.strftime("%Y-%m-%d"): v for p, v in zip(rows["partition"], rows["value"])}


class TestDuplicateFraction:
    def test_counts_extra_copies_of_rows(self):
        """Day 1 repeats ("a", 1) once: 1 of 4 rows. Day 2 gets two copies of its first two
        rows: 2 of 6."""
        result = watchkeeper.profile(_frame(copies=2), partition_column="ts")
        got = _duplicates(result)
        assert got["2024-01-01"] == pytest.approx(1 / 4)
        assert got["2024-01-02"] == pytest.approx(2 / 6)

    def test_no_query_where_a_column_is_unique(self, monkeypatch):
        """Day 2's shop is unique: no row can repeat, so only day 1 is counted."""
        asked = []
        original = Relation.distinct_rows

        def spy(self, column, grain, columns, partitions=None):
            asked.append(list(partitions))
            return original(self, column, grain, columns, partitions)

        monkeypatch.setattr(Relation, "distinct_rows", spy)
        got = _duplicates(watchkeeper.profile(_frame(), partition_column="ts"))
        assert got == {"2024-01-01": pytest.approx(0.25), "2024-01-02": 0.0}
        assert asked == [[pd.Timestamp("2024-01-01")]]

    def test_a_failed_count_is_a_notice_not_an_abort(self, monkeypatch):
        def fail(*args, **kwargs):
            raise QueryFailed("boom")

        monkeypatch.setattr(Relation, "distinct_rows", fail)
        result = watchkeeper.profile(_frame(), partition_column="ts")
        assert _duplicates(result) == {"2024-01-02": 0.0}
        assert [n.message for n in result.notices] == [
            "duplicate rows could not be counted (boom)"]


# Rows that SELECT DISTINCT calls equal only with care: NULL in different columns,
# NaN and -0.0, strings with the characters a row's text form quotes, decimals.
_TRICKY = [
    # (day, a, b, f, s, dec)
    (1, None, 1, 0.0, "a,b", "1.50"),
    (1, 1, None, -0.0, "a,b", "1.5"),     # NULL moved to the other column: a new row
    (1, 1, None, 0.0, "a,b", "1.50"),     # -0.0 equals 0.0: a repeat of the row above
    (1, None, None, float("nan"), "", None),
    (1, None, None, float("nan"), "", None),  # NaN equals NaN: a repeat
    (1, None, None, float("nan"), None, None),  # NULL is not "": a new row
    (1, None, None, None, None, None),      # NULL is not NaN: a new row
    (2, 7, 7, 1.25, '"q" (x)', "2.000"),
    (2, 7, 7, 1.25, '"q" (x)', "2.000"),  # a repeat
    (2, 7, 7, 1.25, '"q"  (x)', "2.000"),  # one more space: a new row
    (2, 7, 7, 1.25, '"q" (x)', "2.001"),
    (2, 77, None, 1.25, '"q" (x)', "2.000"),  # 7|7 against 77|NULL
]
_NAMES = ["a", "b", "f", "s", "dec"]


def _tricky_expected() -> dict[pd.Timestamp, int]:
    import decimal
    import math

    def key(row):
        a, b, f, s, dec = row
        f = "NaN" if f is not None and math.isnan(f) else (f + 0.0 if f is not None else None)
        return a, b, f, s, None if dec is None else decimal.Decimal(dec)

    days: dict[pd.Timestamp, set] = {}
    for day, *row in _TRICKY:
        days.setdefault(pd.Timestamp(2024, 1, day), set()).add(key(row))
    return {p: len(rows) for p, rows in days.items()}


def _tricky_arrow():
    import datetime as dt
    import decimal

    import pyarrow as pa

    return pa.table({
        "ts": pa.array([dt.datetime(2024, 1, r[0], 12) for r in _TRICKY], pa.timestamp("us")),
        "a": pa.array([r[1] for r in _TRICKY], pa.int64()),
        "b": pa.array([r[2] for r in _TRICKY], pa.int64()),
        "f": pa.array([r[3] for r in _TRICKY], pa.float64()),
        "s": pa.array([r[4] for r in _TRICKY], pa.string()),
        "dec": pa.array([None if r[5] is None else decimal.Decimal(r[5]) for r in _TRICKY],
                        pa.decimal128(12, 3)),
    })


def _tricky_postgres(dsn: str, schema: str) -> str:
    import psycopg
    from psycopg import sql

    frame = _tricky_arrow().to_pylist()
    with psycopg.connect(dsn, autocommit=True) as con:
        # dec without a declared scale: 1.5 and 1.50 are equal values with different texts
        con.execute(sql.SQL("CREATE TABLE {}.tricky (ts timestamp, a bigint, b bigint, "
                            "f double precision, s text, dec numeric)").format(
            sql.Identifier(schema)))
        with con.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {}.tricky VALUES (%s, %s, %s, %s, %s, %s)")
                            .format(sql.Identifier(schema)),
                            [tuple(row.values()) for row in frame])
    return f"{dsn}#{schema}.tricky"


def _tricky_spark(spark):
    from pyspark.sql import types as T

    schema = T.StructType([
        T.StructField("ts", T.TimestampNTZType()), T.StructField("a", T.LongType()),
        T.StructField("b", T.LongType()), T.StructField("f", T.DoubleType()),
        T.StructField("s", T.StringType()), T.StructField("dec", T.DecimalType(12, 3))])
    rows = [tuple(row.values()) for row in _tricky_arrow().to_pylist()]
    return spark.createDataFrame(rows, schema)


@pytest.fixture(params=[pytest.param("duckdb"),
                        pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("spark", marks=pytest.mark.spark)])
def tricky(request):
    """The rows above as each engine's source: ``(engine, source)``."""
    if request.param == "postgres":
        return "postgres", _tricky_postgres(request.getfixturevalue("pg_dsn"),
                                            request.getfixturevalue("pg_schema"))
    if request.param == "spark":
        return "spark", _tricky_spark(request.getfixturevalue("spark"))
    return "duckdb", _tricky_arrow()


_HASH_FUNCTION = {"duckdb": "HASH(", "postgres": "HASHTEXTEXTENDED(", "spark": "XXHASH64("}


class TestRowHashesAcrossEngines:
    """Duplicate rows are distinct 64-bit row hashes per partition, on every engine, and
    count what ``SELECT DISTINCT`` would: NULLs equal wherever they are, NaN equal to NaN,
    -0.0 equal to 0.0, strings with commas, quotes and parentheses told apart."""

    def test_distinct_rows_are_hashes_that_count_like_distinct(self, tricky, queries):
        """Each engine's own hash function, and the same counts as a Python set of rows."""
        from watchkeeper.engine import Granularity, open_source

        engine, source = tricky
        with open_source(source) as relation:
            columns = [c for c in relation.columns() if c.name in _NAMES]
            found = relation.distinct_rows("ts", Granularity.DAY, columns)
        assert found == _tricky_expected() == {pd.Timestamp(2024, 1, 1): 5,
                                               pd.Timestamp(2024, 1, 2): 4}
        sql = queries[-1].upper()
        assert _HASH_FUNCTION[engine] in sql and "DISTINCT" in sql

    def test_profiles_agree_on_duplicate_fraction(self, tricky):
        """``profile`` reports the same duplicate fraction on every engine: 2 of 7, 1 of 5."""
        engine, source = tricky
        got = _duplicates(watchkeeper.profile(source, partition_column="ts"))
        assert got == {"2024-01-01": pytest.approx(2 / 7), "2024-01-02": pytest.approx(1 / 5)}
