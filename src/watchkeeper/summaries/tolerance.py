"""How closely engines agree on each statistic: the documented tolerance.

The conformance suite (``tests/engines/``) holds every engine to this table, and
``docs/statistics.md`` cites it. Counts and fractions are exact; moments are
exact up to float rounding; percentiles and distinct counts are approximate by
design (sketches), so they get a rank band and a relative error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.aggregates import EXACT_ROWS
from ..engine.types import Kind
from .vocabulary import QUANTILES


@dataclass(frozen=True)
class Tolerance:
    """``mode`` is ``relative`` (|a - e| <= value * max(|e|, 1e-300) + 1e-12),
    ``absolute`` (|a - e| <= value), or ``rank`` (the result lies between the
    true quantiles at q - value and q + value of the finite, non-NULL values)."""

    mode: str
    value: float
    why: str


EXACT = Tolerance("relative", 1e-9, "counts, fractions and moments: float rounding only")
TEMPORAL = Tolerance("absolute", 1e-6, "seconds since the epoch: exact to the microsecond")
SMALL = Tolerance("relative", 1e-9, f"quantiles (type 7) and distinct counts of partitions of "
                  f"at most {EXACT_ROWS:,} rows: exact on every engine, up to float rounding")
RANK = Tolerance("rank", 0.02, f"quantiles of partitions of more than {EXACT_ROWS:,} rows: "
                 "a 4,096-value reservoir sample (DuckDB), Greenwald-Khanna (Spark)")
DISTINCT = Tolerance("relative", 1e-9, "distinct_count of strings and integers (every engine, "
                     "counted by the value-count query): exact")
SKETCH = Tolerance("relative", 0.30, f"distinct_count of floats and decimals in partitions of "
                   f"more than {EXACT_ROWS:,} rows (DuckDB, Spark): DuckDB's HyperLogLog errs by "
                   "up to ~25% (measured), Spark's HLL++ has a 5% relative standard deviation; "
                   "never above the non-NULL count")

KNOWN_GAPS: dict[tuple[str, str], str] = {}
"""Where an engine misses a target tolerance, and why (the conformance suite marks them)."""

_SPECIAL = {**{name: RANK for name in QUANTILES}, "distinct_count": DISTINCT}


def tolerance_for(statistic: str, kind: Kind, rows: int | None = None) -> Tolerance:
    """The tolerance of one statistic of a column of this kind, in a partition of
    ``rows`` rows (None: of any size)."""
    if kind is Kind.TEMPORAL and statistic in ("min", "max", "lag_seconds"):
        return TEMPORAL
    if rows is not None and rows <= EXACT_ROWS and statistic in _SPECIAL:
        return SMALL
    return _SPECIAL.get(statistic, EXACT)


def within(statistic: str, kind: Kind, actual: float | None, expected: float | None,
           finite_sorted: np.ndarray | None = None, rows: int | None = None) -> bool:
    """Whether an engine's ``actual`` value agrees with the reference ``expected``.

    Missing values agree only with missing values. Percentiles of large partitions
    need the sorted finite values (``finite_sorted``) to find the rank band.
    """
    missing = [v is None or (isinstance(v, float) and math.isnan(v)) for v in (actual, expected)]
    if any(missing):
        return all(missing)
    tol = tolerance_for(statistic, kind, rows)
    if tol.mode == "rank":
        q = QUANTILES[statistic]
        low = np.quantile(finite_sorted, max(0.0, q - tol.value), method="lower")
        high = np.quantile(finite_sorted, min(1.0, q + tol.value), method="higher")
        slack = 1e-9 * max(abs(low), abs(high), 1.0)
        return low - slack <= actual <= high + slack
    if tol.mode == "absolute":
        return abs(actual - expected) <= tol.value
    return abs(actual - expected) <= tol.value * abs(expected) + 1e-12


TABLE = [
    ("non_null_count, null_fraction, nan/posinf/neginf_count, zero/negative/empty/true/integral "
     "fraction, top_ratio, length_*, mean, std, min, max (numeric)", EXACT),
    ("min, max, lag_seconds (dates and timestamps)", TEMPORAL),
    (f"p01 … p99 and distinct_count in partitions of at most {EXACT_ROWS:,} rows", SMALL),
    ("p01 … p99 in larger partitions", RANK),
    ("distinct_count of strings and integers (every engine)", DISTINCT),
    ("distinct_count of floats and decimals in larger partitions", SKETCH),
]
"""The tolerance table as the docs show it."""
