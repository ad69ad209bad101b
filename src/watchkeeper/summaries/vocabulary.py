"""The statistic vocabulary: names, the column kinds they apply to, and definitions.

The names are a stable public contract: stored summaries, JSON output and later
detectors all use them. ``docs/statistics.md`` is checked against this table by a
test, so a new statistic cannot ship undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.types import Kind

TABLE_COLUMN = "*"
"""Column name under which table-level statistics (row count) are stored."""

QUANTILES: dict[str, float] = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.50,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}

TOP_K_DEFAULT = 10


@dataclass(frozen=True)
class Statistic:
    name: str
    kinds: tuple[Kind, ...]
    definition: str


_NUM = (Kind.NUMERIC, Kind.FLOAT)
_ALL = (Kind.NUMERIC, Kind.FLOAT, Kind.STRING, Kind.BOOLEAN, Kind.TEMPORAL)

STATISTICS: tuple[Statistic, ...] = (
    Statistic("row_count", (), "Rows in the partition (table level, column `*`)."),
    Statistic("duplicate_fraction", (),
              "Rows that repeat another row of the partition in every summarized column "
              "(NULLs equal), beyond its first copy / row_count (table level, column `*`). "
              "Exactly 0 without a query when some string or integer column is unique in the "
              "partition; otherwise counted by a `SELECT DISTINCT` of the rows."),
    Statistic("non_null_count", _ALL, "Rows where the column is not NULL (NaN counts as not NULL)."),
    Statistic("null_fraction", _ALL, "NULL rows / row_count. Coverage is 1 - null_fraction."),
    Statistic("nan_count", (Kind.FLOAT,), "Rows whose value is NaN."),
    Statistic("posinf_count", (Kind.FLOAT,), "Rows whose value is +infinity."),
    Statistic("neginf_count", (Kind.FLOAT,), "Rows whose value is -infinity."),
    Statistic("mean", _NUM, "Arithmetic mean of the finite, non-NULL values."),
    Statistic("std", _NUM, "Sample standard deviation (n - 1) of the finite, non-NULL values."),
    Statistic("min", _NUM + (Kind.TEMPORAL,),
              "Smallest finite value; for dates and timestamps, seconds since 1970-01-01 UTC."),
    Statistic("max", _NUM + (Kind.TEMPORAL,),
              "Largest finite value; for dates and timestamps, seconds since 1970-01-01 UTC."),
    *(
        Statistic(name, _NUM, f"Approximate {q:g} quantile of the finite, non-NULL values.")
        for name, q in QUANTILES.items()
    ),
    Statistic("zero_fraction", _NUM, "Rows equal to 0 / non_null_count."),
    Statistic("negative_fraction", _NUM, "Rows below 0 / non_null_count (-infinity included)."),
    Statistic("distinct_count", _NUM + (Kind.STRING,),
              "Number of distinct non-NULL values: exact for strings and integers (every "
              "engine); a HyperLogLog sketch for floats and decimals (exact on PostgreSQL)."),
    Statistic("integral_fraction", (Kind.FLOAT,),
              "Finite values with no fractional part / non_null_count."),
    Statistic("empty_fraction", (Kind.STRING,), "Rows equal to the empty string / non_null_count."),
    Statistic("top_ratio", (Kind.STRING,),
              "Occurrences of the most frequent value / non_null_count (the occurrence ratio)."),
    Statistic("length_mean", (Kind.STRING,), "Mean length in characters of the non-NULL values."),
    Statistic("length_min", (Kind.STRING,), "Shortest length in characters."),
    Statistic("length_max", (Kind.STRING,), "Longest length in characters."),
    Statistic("true_fraction", (Kind.BOOLEAN,), "Rows that are true / non_null_count."),
    Statistic("lag_seconds", (Kind.TEMPORAL,),
              "End of the partition minus the column's max, in seconds: how far the newest value "
              "lags behind the partition. Negative when values lie past the partition's end."),
)

STATISTIC_NAMES: tuple[str, ...] = tuple(s.name for s in STATISTICS)

COUNT_STATISTICS = frozenset({"row_count", "non_null_count", "nan_count", "posinf_count",
                              "neginf_count"})
"""Statistics that are whole numbers; JSON output prints them as integers."""


def statistics_for(kind: Kind) -> tuple[str, ...]:
    """The statistic names computed for a column of this kind, in vocabulary order."""
    return tuple(s.name for s in STATISTICS if kind in s.kinds)
