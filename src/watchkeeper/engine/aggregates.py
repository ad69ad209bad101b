"""Aggregate *states* per column kind, compiled to Ibis expressions.

A state is a raw aggregate (a count, a mean, an array of quantiles) that the
engine computes inside one fused GROUP BY. ``summaries`` turns states into the
public statistics (fractions, percentiles). The mapping is a table, as in Ibis's
own compilers: adding a state is one line, not a new code path.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Sequence

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from .types import Kind

StateBuilder = Callable[[ir.Column, "StateContext"], ir.Scalar]


class StateContext:
    """What a builder may need beyond the column: the quantile probabilities, the
    engine's capabilities (exact distinct counts at little cost; sampled quantiles),
    and which rows lie in small partitions (``small``, see ``EXACT_ROWS``)."""

    def __init__(self, quantiles: Sequence[float], exact_distinct: bool = True,
                 sampled_quantiles: bool = False, float_modulo: bool = False,
                 duckdb_builtins: bool = False,
                 integer_bounds: dict[str, tuple[int, int]] | None = None,
                 small: bool | ir.BooleanValue = True) -> None:
        self.quantiles = list(quantiles)
        self.exact_distinct = exact_distinct
        self.sampled_quantiles = sampled_quantiles
        # True when every partition of the query has at most EXACT_ROWS rows, False when
        # none has, else a row predicate: "this row's partition is small".
        self.small = small
        self.float_modulo = float_modulo
        self.duckdb_builtins = duckdb_builtins  # count_if, trunc, bit_count, histogram, ...
        # (min, max) of integer columns from Parquet footers: which ones a histogram
        # summarizes, which ones have their distinct values counted as bits, and whose
        # int64 squares fit a BIGINT.
        self.integer_bounds = integer_bounds or {}

    def bounds(self, x: ir.Column) -> tuple[int, int] | None:
        """``(min, max)`` the footers give for integer column ``x``, or None."""
        return self.integer_bounds.get(x.get_name()) if x.type().is_integer() else None


COUNTED_STRING_STATES = frozenset(
    {"non_null", "empty", "distinct", "length_mean", "length_min", "length_max"})
"""States of a string column that its value counts (value, rows) give exactly.

When the value-count query runs (it must group by every value for the top values
anyway), a string column is left out of the fused scan entirely, and an integer
column's exact distinct count comes from there too (``Relation.counted_states``)."""


EXACT_ROWS = 10_000
"""Partitions of at most this many rows get exact quantiles and exact distinct counts on
every engine: linear interpolation between order statistics (Hyndman and Fan's type 7,
numpy's default) and ``COUNT(DISTINCT)``. Their states hold at most this many values, so
memory stays bounded; larger partitions use the sketches below (``_small_or_sketch``)."""

QUANTILE_SAMPLE = 4096
"""Values kept per (column, partition) by a sampled quantile (DuckDB, partitions larger
than ``EXACT_ROWS``)."""


@ibis.udf.agg.builtin(name="reservoir_quantile")
def _reservoir_quantile(arg: dt.float64, q: dt.Array(dt.float64),
                        sample_size: dt.int32) -> dt.Array(dt.float64):
    """DuckDB's ``reservoir_quantile``: quantiles of a uniform sample of the values."""


def _small_or_sketch(x: ir.Column, c: StateContext, exact: StateBuilder,
                     sketch: StateBuilder, counts: bool = False) -> ir.Scalar:
    """``exact`` over the rows of small partitions, ``sketch`` over the others.

    A partition is all small or all large, so in a query that holds both kinds each
    aggregate sees only NULLs in the partitions that are not its own: it returns NULL
    (quantiles), which COALESCE passes over, or 0 (``counts``), which adds nothing.
    One scan, bounded state.
    """
    if c.small is True:
        return exact(x, c)
    if c.small is False:
        return sketch(x, c)
    nothing = ibis.null(x.type())
    mine = exact(ibis.ifelse(c.small, x, nothing), c)
    theirs = sketch(ibis.ifelse(c.small, nothing, x), c)
    return mine + theirs if counts else ibis.coalesce(mine, theirs)


def _exact_quantiles(x: ir.Column, c: StateContext) -> ir.Scalar:
    # quantile_cont (DuckDB), percentile_cont (PostgreSQL), percentile (Spark): type 7
    return x.quantile(c.quantiles)


def _sketched_quantiles(x: ir.Column, c: StateContext) -> ir.Scalar:
    # DuckDB's T-Digest took two thirds of the fused scan (2.0 s of 3.2 s on the 2M-row
    # benchmark, 18 numeric columns); a reservoir of 4,096 values per partition takes
    # about 0.5 s and its rank error (standard deviation 0.0016 at p01) is far inside
    # the documented 0.02 tolerance. Spark: percentile_approx (Greenwald-Khanna).
    if c.sampled_quantiles:
        probabilities = ibis.literal(c.quantiles, type=dt.Array(dt.float64))
        return _reservoir_quantile(x, probabilities, QUANTILE_SAMPLE)
    return x.approx_quantile(c.quantiles)


def _quantiles(x: ir.Column, c: StateContext) -> ir.Scalar:
    return _small_or_sketch(x.cast("float64"), c, _exact_quantiles, _sketched_quantiles)


_POS_INF = ibis.literal(float("inf"))
_NEG_INF = ibis.literal(float("-inf"))


def _isinf(x: ir.Column) -> ir.BooleanValue:
    # Not ``x.isinf()``: Ibis 12 compiles it to FALSE on PySpark (it compares sqlglot
    # nodes with Python's ==), so infinities leaked into min/max/mean there.
    return (x == _POS_INF) | (x == _NEG_INF)


@ibis.udf.scalar.builtin(name="isfinite")
def _isfinite(x: dt.float64) -> dt.boolean:
    """DuckDB's ``isfinite``: false for NaN and ±inf (NULL for NULL)."""


def _finite(x: ir.Column, c: StateContext | None = None) -> ir.BooleanValue:
    # One call on DuckDB instead of three comparisons: it appears in six aggregates per
    # float column, and the size of the SQL is what a wide table's queries pay for
    # most (writing, parsing and binding it).
    if c is not None and c.duckdb_builtins:
        return _isfinite(x)
    return ~(x.isnan() | _isinf(x))


@ibis.udf.agg.builtin(name="count_if")
def _count_if(arg: dt.boolean) -> dt.int64:
    """DuckDB's ``count_if``: the rows where ``arg`` is true (0 for none)."""


def _count_where(condition: ir.BooleanValue, c: StateContext) -> ir.Scalar:
    # SUM of a 0/1 flag, not COUNT(x) FILTER (WHERE ...): DuckDB re-slices every
    # aggregate input once per FILTER clause, which made the fused query quadratic
    # in its number of aggregates (3x slower at 30 columns; docs/benchmarks.md).
    # NULL conditions are skipped by both; COALESCE keeps 0 for an all-NULL group.
    # DuckDB's count_if takes the condition as it is, without the cast: 4% of the scan.
    if c.duckdb_builtins:
        return _count_if(condition)
    return condition.sum().fill_null(0)


def _finite_or_null(x: ir.Column, c: StateContext) -> ir.Column:
    # NaN and ±inf become NULL, which every aggregate skips: the same rows as a
    # FILTER on finite values, as one expression shared by five aggregates.
    return ibis.ifelse(_finite(x, c), x, ibis.null())


def _distinct(x: ir.Column, c: StateContext) -> ir.Scalar:
    # Integers are often codes, where a change of one must be visible: count them
    # exactly where the engine does so cheaply (DuckDB's HyperLogLog errs by up to
    # ~25%). Floats are nearly all distinct and exact counting doubled the scan: a
    # sketch. Strings and integers are normally counted exactly by the value-count
    # query instead (integers of a small known range here, as bit masks); this is
    # the fallback when it does not run.
    # Every column is counted exactly in small partitions (EXACT_ROWS); a sketch's count
    # is capped at the non-NULL count afterwards (finish_states).
    bounds = c.bounds(x)
    if bounds is not None and bounds[1] - bounds[0] < SMALL_INTEGER_RANGE:
        return _distinct_by_bits(x, *bounds)
    if c.exact_distinct and x.type().is_integer():
        return x.nunique()
    return _small_or_sketch(x, c, lambda v, _: v.nunique(), lambda v, _: v.approx_nunique(),
                            counts=True)


MASK_RANGE = 62
"""Integers with at most this many possible values: distinct values as one BIGINT bit mask.
Wider small ranges take one bit string (``_distinct_by_bits``)."""

SMALL_INTEGER_RANGE = 2**18
"""Integer columns with at most this many possible values (max - min + 1, from Parquet
footers) have their distinct values counted exactly in the fused scan, as bits: in one
BIGINT mask up to ``MASK_RANGE``, in one bit string beyond (32 KiB per partition)."""


@ibis.udf.scalar.builtin(name="bit_count")
def _bit_count(x: dt.int64) -> dt.int8:
    """DuckDB's ``bit_count`` of an integer: the number of set bits."""


@ibis.udf.scalar.builtin(name="bit_count")
def _bit_count_string(x: dt.binary) -> dt.int64:
    """DuckDB's ``bit_count`` of a ``BIT`` string (typed binary here: Ibis has no BIT)."""


@ibis.udf.agg.builtin(name="bitstring_agg")
def _bitstring_agg(arg: dt.int64, low: dt.int64, high: dt.int64) -> dt.binary:
    """DuckDB's ``bitstring_agg``: a bit string with the bit of every value set."""


def _distinct_by_bits(x: ir.Column, low: int, high: int) -> ir.Scalar:
    """Exact distinct count of an integer column whose values lie in ``[low, high]``.

    Up to ``MASK_RANGE`` values, each value sets its bit in a BIGINT word, OR-ed per
    partition (``BIT_OR``). Wider ranges (codes, ages, ids up to
    ``SMALL_INTEGER_RANGE``) set theirs in one ``bitstring_agg``, a quarter of the
    cost of grouping by every value, and cheaper than several words, whose CASE per
    row and word cost 0.1 s more of the benchmark's fused scan (7 columns). The set
    bits are counted at the end. ``COUNT(DISTINCT)`` would build a hash table (about
    3 MiB per column) and take DuckDB off its perfect-hash GROUP BY.

    A value outside ``[low, high]`` (footers that understate the range) makes the
    engine fail the query: a shift by a negative amount or into the sign bit (one
    value past a mask's range still sets a bit of its own), or ``bitstring_agg``'s
    range check. The caller then counts the column the general way, never silently
    short.
    """
    wide = x.cast("int64")
    if high - low >= MASK_RANGE:
        bits = _bitstring_agg(wide, ibis.literal(low, type="int64"),
                              ibis.literal(high, type="int64"))
        return _bit_count_string(bits).fill_null(0)
    one = ibis.literal(1, type="int64")
    return _bit_count((one << (wide - low)).bit_or()).cast("int64").fill_null(0)


_INTEGRAL_LIMIT = 2.0 ** 52  # every float64 at or beyond this magnitude is a whole number


@ibis.udf.scalar.builtin(name="trunc")
def _trunc(x: dt.float64) -> dt.float64:
    """DuckDB's ``trunc`` of a double: towards zero, still a double (no BIGINT cast)."""


def _integral(x: ir.Column, c: StateContext) -> ir.BooleanValue:
    if c.duckdb_builtins:
        # On the finite values the mean and extremes already compute (one shared
        # expression): NULL for NaN and ±inf, which count_if skips. TRUNC is cheaper
        # than the modulo below (6% of DuckDB's fused scan on the benchmark).
        finite = _finite_or_null(x, c)
        return finite == _trunc(finite)
    if c.float_modulo:
        # x % 1 is NaN for NaN and ±inf, so this needs no finiteness test: a third of
        # the cost of the form below on DuckDB (0.33 s against 1.0 s for 10 columns).
        return (x % 1) == 0
    # Clamped before FLOOR because engines cast FLOOR's result to BIGINT, which
    # overflows past 9.2e18; clamping keeps the answer (huge floats are integral).
    y = x.clip(lower=-_INTEGRAL_LIMIT, upper=_INTEGRAL_LIMIT)
    return _finite(x, c) & (y == y.floor())


def _numeric(x: ir.Column) -> ir.Column:
    # Decimals are summarized as doubles: every engine agrees on float arithmetic.
    return x.cast("float64") if x.type().is_decimal() else x


_COMMON: dict[str, StateBuilder] = {
    "non_null": lambda x, c: x.count(),
}

_NUMERIC: dict[str, StateBuilder] = {
    **_COMMON,
    "zeros": lambda x, c: _count_where(_numeric(x) == 0, c),
    "negatives": lambda x, c: _count_where(_numeric(x) < 0, c),
    "mean": lambda x, c: _numeric(x).mean(),
    "std": lambda x, c: _numeric(x).std(),
    "min": lambda x, c: _numeric(x).min(),
    "max": lambda x, c: _numeric(x).max(),
    "quantiles": lambda x, c: _quantiles(_numeric(x), c),
    "distinct": _distinct,
}

_FLOAT: dict[str, StateBuilder] = {
    **_NUMERIC,
    "nan": lambda x, c: _count_where(x.isnan(), c),
    "posinf": lambda x, c: _count_where(x == _POS_INF, c),
    "neginf": lambda x, c: _count_where(x == _NEG_INF, c),
    "mean": lambda x, c: _finite_or_null(x, c).mean(),
    "std": lambda x, c: _finite_or_null(x, c).std(),
    "min": lambda x, c: _finite_or_null(x, c).min(),
    "max": lambda x, c: _finite_or_null(x, c).max(),
    "quantiles": lambda x, c: _quantiles(_finite_or_null(x, c), c),
    "integral": lambda x, c: _count_where(_integral(x, c), c),
}

_STRING: dict[str, StateBuilder] = {
    **_COMMON,
    "empty": lambda x, c: _count_where(x == "", c),
    "distinct": _distinct,
    "length_mean": lambda x, c: x.length().mean(),
    "length_min": lambda x, c: x.length().min(),
    "length_max": lambda x, c: x.length().max(),
}

_BOOLEAN: dict[str, StateBuilder] = {
    **_COMMON,
    "trues": lambda x, c: _count_where(x, c),
}

_TEMPORAL: dict[str, StateBuilder] = {
    **_COMMON,
    "min": lambda x, c: x.min(),
    "max": lambda x, c: x.max(),
}

_SQUARE_LIMIT = 3_037_000_499  # the largest |x| whose square fits a BIGINT


def _exact_moments(x: ir.Column, c: StateContext) -> bool:
    """Whether an integer column's mean and std come from exact sums (``_INTEGER_SUMS``).

    On DuckDB, when every square fits a BIGINT: always for integers of 32 bits or
    fewer, for 64-bit ones when their footers bound them. The sums are HUGEINTs,
    exact, and cheaper than ``stddev_samp``'s per-row division (0.14 of 0.23 CPU-s for
    the benchmark's 8 integer columns); a value past its footer's bound overflows,
    the engine fails the query, and the caller retries without the footers.
    """
    dtype = x.type()
    if not (c.duckdb_builtins and dtype.is_integer()):
        return False
    if dtype.nbytes <= 4:
        return True
    bounds = c.bounds(x)
    return bounds is not None and -_SQUARE_LIMIT <= bounds[0] and bounds[1] <= _SQUARE_LIMIT


_HUGE = dt.Decimal(38, 0)  # a HUGEINT sum, read back exactly (not as a 64-bit integer)


def _wide(x: ir.Column) -> ir.Column:
    return x.cast("int64")


_INTEGER_SUMS: dict[str, StateBuilder] = {
    "sum": lambda x, c: _wide(x).sum().cast(_HUGE),
    "sum_squares": lambda x, c: (_wide(x) * _wide(x)).sum().cast(_HUGE),
}
"""What replaces ``mean`` and ``std`` where ``_exact_moments`` holds; ``finish_states``
turns them back into those two states."""


HISTOGRAM_RANGE = 1024
"""Integer columns with at most this many possible values (from Parquet footers) are
summarized on DuckDB from one ``histogram`` per partition: every state, exactly."""


@ibis.udf.agg.builtin(name="histogram")
def _histogram(arg: dt.int64) -> dt.Map(dt.int64, dt.int64):
    """DuckDB's ``histogram``: a map from each value to the number of rows holding it."""


def _by_histogram(x: ir.Column, c: StateContext) -> bool:
    """Whether an integer column is summarized from its value counts (``_HISTOGRAM``).

    On DuckDB, when the footers bound it to ``HISTOGRAM_RANGE`` values (codes, ages,
    counts, statuses): the map per partition is smaller than the quantile sample it
    replaces, one aggregate instead of nine (bits, sample, zero and negative counts,
    extremes, sums), and every state exact, the quantiles included. A footer that
    understates the range costs memory, never correctness: the counts are the data's.
    """
    bounds = c.bounds(x)
    return c.duckdb_builtins and bounds is not None and bounds[1] - bounds[0] < HISTOGRAM_RANGE


_HISTOGRAM: dict[str, StateBuilder] = {
    "non_null": lambda x, c: x.count(),
    "histogram": lambda x, c: _histogram(_wide(x)),
}


def column_states(kind: Kind, x: ir.Column, c: StateContext) -> dict[str, StateBuilder]:
    """The states the fused query computes for column ``x`` (``STATES`` of its kind, in
    a cheaper exact form where the engine and the column allow it; ``finish_states``
    turns them into ``STATES``' own)."""
    states = STATES[kind]
    if kind is Kind.NUMERIC and _by_histogram(x, c):
        return dict(_HISTOGRAM)
    if kind is Kind.NUMERIC and _exact_moments(x, c):
        states = {name: build for name, build in states.items() if name not in ("mean", "std")}
        states.update(_INTEGER_SUMS)
    return states


def finish_states(states: dict[str, object], quantiles: Sequence[float]) -> None:
    """Turn the raw states of one column and partition into ``STATES``' own, in place:
    every numeric state from a histogram, or ``mean`` and ``std`` from exact integer
    sums. Python integers: no rounding until the final division, where ``avg`` and
    ``stddev_samp`` round at every row. A sketched distinct count is capped at the
    non-NULL count: HyperLogLog may overshoot a small set, but never a count we know."""
    distinct, non_null = states.get("distinct"), states.get("non_null")
    if distinct is not None and non_null is not None and distinct > non_null:
        states["distinct"] = non_null
    if "histogram" in states:
        states.update(_from_histogram(states.pop("histogram") or {}, quantiles))
        return
    if "sum_squares" not in states:
        return
    total, squares = states.pop("sum"), states.pop("sum_squares")
    n = int(states.get("non_null") or 0)
    if n == 0 or total is None or squares is None:
        states["mean"] = states["std"] = None
        return
    states.update(_moments(n, int(total), int(squares)))


def _moments(n: int, total: int, squares: int) -> dict[str, float | None]:
    """Mean and sample std of ``n`` integers from their exact sum and sum of squares."""
    return {"mean": total / n,  # int / int: correctly rounded
            "std": math.sqrt((n * squares - total * total) / (n * (n - 1))) if n > 1 else None}


def _from_histogram(counts: dict[int, int], quantiles: Sequence[float]) -> dict[str, object]:
    """Every numeric state of an integer column from its value counts.

    Quantiles as everywhere else (``_exact_quantiles``): linear interpolation between
    the order statistics at ranks ``floor(h)`` and ``floor(h) + 1``, ``h = q * (n - 1)``.
    """
    values = sorted(counts)
    n = sum(counts.values())
    out: dict[str, object] = {"zeros": counts.get(0, 0),
                              "negatives": sum(counts[v] for v in values if v < 0),
                              "distinct": len(values)}
    if n == 0:
        return {**out, "mean": None, "std": None, "min": None, "max": None, "quantiles": None}
    total = sum(v * counts[v] for v in values)
    squares = sum(v * v * counts[v] for v in values)
    below = list(itertools.accumulate(counts[v] for v in values))  # rows up to each value

    def ranked(rank: int) -> float:  # the order statistic at 0-based ``rank``
        return float(values[bisect.bisect_right(below, min(rank, n - 1))])

    picked = []
    for q in quantiles:
        h = q * (n - 1)
        low = math.floor(h)
        picked.append(ranked(low) + (h - low) * (ranked(low + 1) - ranked(low)))
    return {**out, **_moments(n, total, squares), "min": values[0], "max": values[-1],
            "quantiles": picked}


STATES: dict[Kind, dict[str, StateBuilder]] = {
    Kind.NUMERIC: _NUMERIC,
    Kind.FLOAT: _FLOAT,
    Kind.STRING: _STRING,
    Kind.BOOLEAN: _BOOLEAN,
    Kind.TEMPORAL: _TEMPORAL,
}


def kind_of(dtype: ibis.DataType) -> Kind:
    """Decide how a column of this Ibis type is summarized."""
    if dtype.is_boolean():
        return Kind.BOOLEAN
    if dtype.is_floating():
        return Kind.FLOAT
    if dtype.is_integer() or dtype.is_decimal():
        return Kind.NUMERIC
    if dtype.is_string():
        return Kind.STRING
    if dtype.is_timestamp() or dtype.is_date():
        return Kind.TEMPORAL
    return Kind.UNSUPPORTED
