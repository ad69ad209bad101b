"""ONE table of check cases, run against every engine (DuckDB, Postgres, Spark).

Each case is (check as YAML-like data, expected verdict per partition). The data
is two small partitions of an ``orders`` table plus a ``refs`` table for
cross-table checks, built with explicit Arrow types so that NULL and NaN stay
distinct on every engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

P1, P2, P3 = "2024-01-01", "2024-01-02", "2024-01-03"
NOW = "2024-01-04 03:00"  # P3 was due (deadline 2h after its end) and never arrived


def _ts(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour)


ORDERS = pa.table({
    "day": pa.array([_ts(1, 0)] * 4 + [_ts(2, 0)] * 3, pa.timestamp("us")),
    "id": pa.array([1, 2, 3, 4, 5, 5, None], pa.int64()),
    "amount": pa.array([0.0, 5.0, 10.0, None, -1.0, float("nan"), 2.5], pa.float64()),
    "qty": pa.array([1, 2, 3, None, 7, 7, 8], pa.int64()),
    "name": pa.array(["ann", "bob", None, "cy", "dave", "", "e"], pa.string()),
    "code": pa.array(["A", "B", "A", "B", "C", "A", None], pa.string()),
    "ts": pa.array([_ts(1, 6), _ts(1, 12), _ts(1, 18), _ts(1, 20), _ts(2, 1), _ts(2, 2),
                    _ts(2, 3)], pa.timestamp("us")),
})

REFS = pa.table({
    "day": pa.array([_ts(1, 0)] * 3 + [_ts(2, 0)] * 2, pa.timestamp("us")),
    "ref_id": pa.array([1, 2, 3, 5, 6], pa.int64()),
})

TABLES = {"orders": ORDERS, "refs": REFS}


@dataclass(frozen=True)
class Case:
    id: str
    check: dict
    expect: dict | type  # partition -> Verdict, or the exception type a bad spec raises


@dataclass(frozen=True)
class Verdict:
    passed: bool
    unexpected: int | None = None
    n: int | None = None
    observed: float | None = None


def ok(unexpected=None, n=None, observed=None):
    return Verdict(True, unexpected, n, observed)


def fail(unexpected=None, n=None, observed=None):
    return Verdict(False, unexpected, n, observed)


def case(id: str, expect, **check) -> Case:
    return Case(id, {"name": id, **check}, expect)


def _spec_error():
    from watchkeeper.slo import SLOSpecError

    return SLOSpecError


CASES: list[Case] = [
    # -- null handling ---------------------------------------------------------
    case("not_null", {P1: ok(0, 4), P2: fail(1, 3)}, kind="not_null", column="id"),
    case("not_null_nan_is_a_value", {P1: fail(1, 4), P2: ok(0, 3)}, kind="not_null",
         column="amount"),
    case("not_null_mostly", {P1: ok(0, 4), P2: ok(1, 3)}, kind="not_null", column="id",
         mostly=0.6),
    case("coverage_boundary_inclusive", {P1: ok(observed=0.75), P2: ok(observed=1.0)},
         kind="coverage", column="amount", min=0.75),
    case("coverage_fails", {P1: fail(observed=0.75), P2: ok(observed=1.0)},
         kind="coverage", column="name", min=0.8),
    # -- between: NULLs are skipped, NaN is a violation, strictness per end -----
    case("between_inclusive", {P1: ok(0, 3), P2: fail(2, 3)},
         kind="between", column="amount", min=0, max=10),
    case("between_strict_min", {P1: fail(1, 3), P2: fail(2, 3)},
         kind="between", column="amount", min=0, max=10, strict_min=True),
    case("between_strict_max", {P1: fail(1, 3), P2: fail(2, 3)},
         kind="between", column="amount", min=0, max=10, strict_max=True),
    case("between_min_only", {P1: ok(0, 3), P2: fail(2, 3)},
         kind="between", column="amount", min=-0.5),
    case("between_int_mostly", {P1: ok(0, 3), P2: ok(1, 3, observed=2 / 3)},
         kind="between", column="qty", min=1, max=7, mostly=0.6),
    case("between_int_fails", {P1: ok(0, 3), P2: fail(1, 3)},
         kind="between", column="qty", min=1, max=7),
    case("between_timestamp_iso", {P1: ok(0, 4), P2: fail(3, 3)},
         kind="between", column="ts", min="2024-01-01 05:00", max="2024-01-01 23:59"),
    # -- sets, regex, lengths ----------------------------------------------------
    case("in_set", {P1: ok(0, 4), P2: fail(1, 2)}, kind="in_set", column="code",
         values=["A", "B"]),
    case("not_in_set", {P1: ok(0, 4), P2: fail(1, 2)}, kind="not_in_set", column="code",
         values=["C"]),
    case("in_set_int", {P1: ok(0, 3), P2: fail(1, 3)}, kind="in_set", column="qty",
         values=[1, 2, 3, 7]),
    case("regex", {P1: ok(0, 3), P2: fail(2, 3)}, kind="regex", column="name",
         pattern="^[a-d]"),
    case("length_between", {P1: ok(0, 3), P2: fail(2, 3)}, kind="length_between",
         column="name", min=1, max=3),
    # -- uniqueness (NULL keys are skipped; every row sharing its value is unexpected, the
    #    first copy too, as Great Expectations counts) -----------------------------------
    case("unique", {P1: ok(0, 4), P2: fail(2, 2)}, kind="unique", column="id"),
    case("unique_counts_every_copy", {P1: ok(0, 3), P2: fail(2, 3)}, kind="unique",
         column="qty"),
    case("compound_unique_ok", {P1: ok(0, 3), P2: ok(0, 2)}, kind="compound_unique",
         columns=["qty", "code"]),
    case("compound_unique_fails", {P1: ok(0, 3), P2: fail(2, 2)}, kind="compound_unique",
         columns=["id", "qty"]),
    # -- partition level -------------------------------------------------------------
    case("row_count_min", {P1: ok(observed=4), P2: fail(observed=3)}, kind="row_count", min=4),
    case("row_count_max", {P1: fail(observed=4), P2: ok(observed=3)}, kind="row_count", max=3),
    case("statistic_mean", {P1: ok(observed=2.0), P2: fail(observed=22 / 3)},
         kind="statistic", column="qty", statistic="mean", min=1, max=3),
    case("statistic_mean_skips_nan", {P1: ok(observed=5.0), P2: ok(observed=0.75)},
         kind="statistic", column="amount", statistic="mean", min=0),
    case("freshness_lag", {P1: ok(observed=4 * 3600), P2: fail(observed=21 * 3600)},
         kind="freshness", column="ts", max_lag="6h"),
    case("freshness_deadline", {P1: ok(observed=4), P2: ok(observed=3), P3: fail(observed=0)},
         kind="freshness", deadline="2h"),
    case("schema_ok", {P1: ok(observed=0), P2: ok(observed=0)}, kind="schema",
         columns={"id": "integer", "amount": "float", "name": "string", "day": "timestamp"}),
    case("schema_exact_fails", {P1: fail(observed=5), P2: fail(observed=5)}, kind="schema",
         columns=["id", "day"], exact=True),
    case("schema_type_fails", {P1: fail(observed=2), P2: fail(observed=2)}, kind="schema",
         columns={"id": "string", "missing": None}),
    # -- custom SQL --------------------------------------------------------------------
    case("sql_row", {P1: ok(0, 3), P2: fail(1, 3)}, kind="sql_row",
         expression="amount >= 0 OR name = 'e'"),
    case("sql_row_ok", {P1: ok(0, 3), P2: ok(0, 3)}, kind="sql_row",
         expression="qty < 8 OR name = 'e'"),
    case("sql_aggregate", {P1: fail(observed=0), P2: ok(observed=1)}, kind="sql_aggregate",
         expression="SUM(qty) >= 10"),
    case("sql_aggregate_count", {P1: ok(observed=1), P2: fail(observed=0)},
         kind="sql_aggregate", expression="COUNT(*) = 4"),
    # -- cross-table -------------------------------------------------------------------
    case("referential", {P1: fail(1, 4), P2: ok(0, 2)}, kind="referential", column="id",
         table="refs", other_column="ref_id"),
    case("row_count_match_ratio", {P1: ok(observed=4 / 3), P2: ok(observed=1.5)},
         kind="row_count_match", table="refs", min_ratio=1.0, max_ratio=1.5),
    case("row_count_match_equal", {P1: fail(observed=4 / 3), P2: fail(observed=1.5)},
         kind="row_count_match", table="refs"),
]

# Spec errors found against the table's schema: raised before any scan, on every engine.
ERROR_CASES: list[Case] = [
    case("string_vs_numeric_bounds", "SLOSpecError", kind="between", column="name", min=0),
    case("mixed_set_types", "SLOSpecError", kind="in_set", column="qty", values=[1, "a"]),
    case("regex_on_number", "SLOSpecError", kind="regex", column="qty", pattern="^1"),
    case("unknown_column", "SLOSpecError", kind="not_null", column="nope"),
    case("sql_unknown_column", "SLOSpecError", kind="sql_row", expression="nope > 1"),
    case("sql_subquery", "SLOSpecError", kind="sql_row",
         expression="id IN (SELECT ref_id FROM refs)"),
    case("mean_of_strings", "SLOSpecError", kind="statistic", column="name", statistic="mean",
         min=0),
]
