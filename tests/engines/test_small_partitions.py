"""Small partitions (1 to 20 rows) and tie-heavy data, where quantile definitions diverge most.

Every engine must give the same quantiles (linear interpolation between order
statistics, numpy's default) and the same distinct counts as numpy in partitions of
at most ``EXACT_ROWS`` rows, and stay within the documented sketch tolerance, never
above the non-NULL count, in a larger partition summarized by the same query.
"""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from watchkeeper import Kind, profile
from watchkeeper.engine.aggregates import EXACT_ROWS
from watchkeeper.summaries import QUANTILES
from watchkeeper.summaries.tolerance import SKETCH, within

START = dt.datetime(2024, 3, 1)
SMALL_DAYS = 20  # day k (1-based) holds k rows
LARGE_ROWS = EXACT_ROWS + 500  # one more day, summarized by the sketches


def _rows() -> dict[str, list]:
    rng = np.random.default_rng(7)
    ts, ties, codes, wide, words = [], [], [], [], []
    sizes = [*range(1, SMALL_DAYS + 1), LARGE_ROWS]
    for day, size in enumerate(sizes):
        for k in range(size):
            ts.append(START + dt.timedelta(days=day, seconds=k))
            # ties: four values, a NULL now and then, one infinity in a few days
            tie = [0.0, 1.5, 1.5, 7.25][int(rng.integers(0, 4))]
            ties.append(None if k % 7 == 3 else float("inf") if (day, k) == (9, 2) else tie)
            codes.append(int(rng.integers(-2, 3)))
            wide.append(None if k % 5 == 4 else int(rng.choice([-10**9, 3, 3, 10**12])))
            words.append(["a", "b", "b", ""][int(rng.integers(0, 4))])
    return {"ts": ts, "ties": ties, "codes": codes, "wide": wide, "words": words}


ROWS = _rows()
TYPES = {"ts": pa.timestamp("us"), "ties": pa.float64(), "codes": pa.int64(),
         "wide": pa.int64(), "words": pa.string()}
KINDS = {"ties": Kind.FLOAT, "codes": Kind.NUMERIC, "wide": Kind.NUMERIC, "words": Kind.STRING}
_PG = {"ts": "timestamp", "ties": "double precision", "codes": "bigint", "wide": "bigint",
       "words": "text"}


def _parquet(tmp_path) -> str:
    path = tmp_path / "small.parquet"
    pq.write_table(pa.table({c: pa.array(v, TYPES[c]) for c, v in ROWS.items()}), path)
    return str(path)


def _postgres(dsn: str, schema: str) -> str:
    import psycopg
    from psycopg import sql

    columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_PG[c]))
                                 for c in ROWS)
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(sql.SQL("CREATE TABLE {}.small ({})").format(sql.Identifier(schema), columns))
        copy = sql.SQL("COPY {}.small FROM STDIN").format(sql.Identifier(schema))
        with con.cursor() as cur, cur.copy(copy) as out:
            for row in zip(*ROWS.values()):
                out.write_row(row)
    return f"{dsn}#{schema}.small"


def _spark(spark, tmp_path) -> str:
    from pyspark.sql import types as T

    schema = T.StructType([
        T.StructField("ts", T.TimestampNTZType()), T.StructField("ties", T.DoubleType()),
        T.StructField("codes", T.LongType()), T.StructField("wide", T.LongType()),
        T.StructField("words", T.StringType())])
    frame = spark.createDataFrame([tuple(r) for r in zip(*ROWS.values())], schema)
    name = f"wk_small_{uuid.uuid4().hex[:8]}"
    frame.write.option("path", str(tmp_path / name)).format("parquet").saveAsTable(name)
    return f"spark:{name}"


@pytest.fixture(scope="module", params=[
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("spark", id="spark", marks=pytest.mark.spark)])
def result(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp(request.param)
    if request.param == "duckdb":
        source = _parquet(tmp_path)
    elif request.param == "postgres":
        dsn = request.getfixturevalue("pg_dsn")
        import psycopg
        from psycopg import sql

        schema = f"wk_small_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dsn, autocommit=True) as con:
            con.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield profile(_postgres(dsn, schema), partition_column="ts")
        finally:
            with psycopg.connect(dsn, autocommit=True) as con:
                con.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        return
    else:
        source = _spark(request.getfixturevalue("spark"), tmp_path)
    yield profile(source, partition_column="ts")


def _days() -> dict[dt.date, list[int]]:
    out: dict[dt.date, list[int]] = {}
    for k, t in enumerate(ROWS["ts"]):
        out.setdefault(t.date(), []).append(k)
    return out


def _stat(result, day: dt.date, column: str, statistic: str):
    s = result.statistics
    found = s[(s["partition"] == np.datetime64(day)) & (s["column"] == column)
              & (s["statistic"] == statistic)]["value"]
    assert len(found) == 1, (day, column, statistic)
    value = found.iloc[0]
    return None if value is None or value != value else float(value)


def _finite(column: str, rows: list[int]) -> np.ndarray:
    x = np.array([float(ROWS[column][k]) for k in rows if ROWS[column][k] is not None])
    return np.sort(x[np.isfinite(x)])


@pytest.mark.parametrize("column", ["ties", "codes", "wide"])
def test_quantiles_interpolate_between_order_statistics(result, column):
    """p01 … p99 of every partition of 1-20 rows equal numpy's default (type 7) quantiles;
    the large partition's lie in the documented rank band."""
    for day, rows in _days().items():
        finite = _finite(column, rows)
        for name, q in QUANTILES.items():
            expected = float(np.quantile(finite, q)) if finite.size else None
            actual = _stat(result, day, column, name)
            assert within(name, KINDS[column], actual, expected, finite, rows=len(rows)), \
                (day, len(rows), column, name, actual, expected)


@pytest.mark.parametrize("column", ["ties", "codes", "wide", "words"])
def test_distinct_counts_exact_when_small_and_capped_when_large(result, column):
    """Distinct counts equal numpy's in small partitions; in the large one, within the
    sketch tolerance and never above the non-NULL count."""
    for day, rows in _days().items():
        present = [ROWS[column][k] for k in rows if ROWS[column][k] is not None]
        truth = len(set(present))
        actual = _stat(result, day, column, "distinct_count")
        if len(rows) <= EXACT_ROWS:
            assert actual == truth, (day, column, actual, truth)
        else:
            assert actual <= len(present)
            assert abs(actual - truth) <= SKETCH.value * truth, (day, column, actual, truth)


def test_one_row_partition(result):
    """A partition of one row: every quantile is that row's value, std is NULL."""
    day = START.date()
    value = ROWS["codes"][0]
    assert [_stat(result, day, "codes", q) for q in QUANTILES] == [float(value)] * len(QUANTILES)
    assert _stat(result, day, "codes", "std") is None
    assert _stat(result, day, "codes", "distinct_count") == 1.0
