"""The same ``watchkeeper.profile`` call on Spark (local mode) and on DuckDB, same file.

Spark reads the Parquet file as a DataFrame; watchkeeper takes it through the
same code path (Relation -> one fused GROUP BY + one top-k query, compiled by
Ibis for Spark SQL). We time both engines and check that they agree on the
statistics that are exact (counts, fractions, mean, min, max), so the run shows
the same job, not merely a job. Local mode on 2 cores is not a cluster: the
time is reported, not compared to a target.

    .venv/bin/python benchmarks/spark_bench.py benchmarks/.data/events-200000x30.parquet
"""

from __future__ import annotations

import math
import sys

from measure import emit, timed

import watchkeeper

EXACT = {"row_count", "non_null_count", "null_fraction", "nan_count", "zero_fraction",
         "negative_fraction", "true_fraction", "empty_fraction", "mean", "min", "max",
         "length_min", "length_max", "top_ratio"}


def _by_key(result) -> dict:
    frame = result.statistics
    return {(p, c, s): v for p, c, s, v in frame.itertuples(index=False, name=None)}


def compare(left, right) -> tuple[int, float]:
    """Number of exact statistics compared and the largest relative difference."""
    a, b = _by_key(left), _by_key(right)
    worst, n = 0.0, 0
    for key, x in a.items():
        if key[2] not in EXACT or key not in b:
            continue
        y = b[key]
        if x is None or y is None or (isinstance(x, float) and math.isnan(x)):
            continue
        n += 1
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-12))
    return n, worst


def run(path: str, *, repeat: int = 2, progress=print) -> dict:
    from watchkeeper.engine import spark_session

    progress("Spark: starting a local[2] session")
    start, spark = timed(spark_session)
    progress("Spark: watchkeeper.profile on a Spark DataFrame")
    frame = spark.read.parquet(path)
    t_spark, on_spark = timed(lambda: watchkeeper.profile(frame, partition_column="event_time"),
                              repeat=repeat)
    progress("DuckDB: watchkeeper.profile on the same file")
    t_duck, on_duck = timed(lambda: watchkeeper.profile(path, partition_column="event_time"),
                            repeat=repeat)
    compared, worst = compare(on_duck, on_spark)
    spark.stop()
    return {"file": path, "session_start": start.as_dict(), "spark": t_spark.as_dict(),
            "duckdb": t_duck.as_dict(), "partitions": len(on_spark.partitions),
            "statistics": len(on_spark.statistics), "exact_compared": compared,
            "max_relative_difference": worst}


if __name__ == "__main__":
    emit(run(sys.argv[1], progress=lambda s: print(s, file=sys.stderr)))
