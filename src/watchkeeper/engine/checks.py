"""Data checks compiled to Ibis: the engine half of watchkeeper's SLOs.

The SLO layer describes checks as plain data (:class:`Probe`); this module turns
them into Ibis expressions. All row-level probes and partition metrics of a table
become FILTER-counts and aggregates of ONE ``GROUP BY partition`` query, like the
summary scan. Only what cannot be fused runs separately: duplicate counts,
custom aggregate SQL, references into another table, and samples of violating
rows (only for probes that found violations).

Custom SQL is parsed by sqlglot, checked to be a single scalar expression over
known columns, and re-generated in the engine's dialect; user identifiers are
never pasted into SQL text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
import sqlglot
from sqlglot import expressions as exp

from . import staging
from ..errors import SourceError
from .read_only import execute_read_only
from .relation import Relation, internal_name, to_utc_naive
from .sources import SourceSpec
from .types import Granularity

_SQL_DIALECT = {"duckdb": "duckdb", "postgres": "postgres", "pyspark": "spark"}


class SQLExpressionError(ValueError):
    """Custom SQL that is not a single expression over the table's own columns."""


@dataclass(frozen=True)
class Probe:
    """One check as the engine sees it: a kind, the columns it reads, its parameters."""

    key: str
    kind: str
    columns: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


# -- row-level probes: (violation, denominator) per kind -----------------------
def _value(x: ir.Column) -> ir.Column:
    return x.cast("float64") if x.type().is_decimal() else x


def is_null(x: ir.Column) -> ir.BooleanValue:
    """SQL NULL only. Ibis on Spark also calls NaN null; NaN is a value to us (as COUNT says)."""
    if x.type().is_floating():
        return x.isnull() & ~x.isnan().fill_null(False)
    return x.isnull()


def not_null(x: ir.Column) -> ir.BooleanValue:
    return ~is_null(x)


def _between(x: ir.Column, p: Mapping) -> ir.BooleanValue:
    x = _value(x)
    ok = ibis.literal(True)
    if p.get("min") is not None:
        lo = ibis.literal(p["min"])
        ok = ok & ((x > lo) if p.get("strict_min") else (x >= lo))
    if p.get("max") is not None:
        hi = ibis.literal(p["max"])
        ok = ok & ((x < hi) if p.get("strict_max") else (x <= hi))
    if x.type().is_floating():  # NaN sorts above every number in our engines: never "in range"
        ok = ok & ~x.isnan()
    return ok


def _length(x: ir.Column, p: Mapping) -> ir.BooleanValue:
    return _between(x.length(), p)


_PASSES: dict[str, Callable[[ir.Column, Mapping], ir.BooleanValue]] = {
    "between": _between,
    "in_set": lambda x, p: x.isin(list(p["values"])),
    "not_in_set": lambda x, p: ~x.isin(list(p["values"])),
    "regex": lambda x, p: x.re_search(p["pattern"]),
    "length_between": _length,
}

ROW_KINDS = frozenset({*_PASSES, "not_null", "sql_row"})


def _row_terms(table: ir.Table, probe: Probe, sql: Mapping[str, str] | None = None
               ) -> tuple[ir.BooleanValue, ir.Scalar]:
    """The violation predicate and the count of rows the probe judges.

    NULLs are neither passes nor failures for value checks, so both the
    violation and the denominator only see non-NULL values. ``sql`` maps a custom-SQL
    probe's key to its column (:func:`_with_sql_columns`).
    """
    if probe.kind == "not_null":
        x = table[probe.columns[0]]
        return is_null(x), table.count()
    if probe.kind == "sql_row":
        flag = table[(sql or {})[probe.key]]
        return flag == ibis.literal(False), flag.count()
    x = table[probe.columns[0]]
    passes = _PASSES[probe.kind](x, probe.params)
    return not_null(x) & ~passes, x.count()


def violation_flags(table: ir.Table, probes: Sequence[Probe], backend: str, *,
                    order_by: str | None = None) -> tuple[ir.Table, dict[str, ir.BooleanValue]]:
    """Per row, whether it violates each row-level probe (quarantine on write needs rows).

    Returns the table (with any custom-SQL columns added) and one never-NULL boolean
    per probe key, true for exactly the rows :func:`fused_counts` counts as
    violations. ``unique`` / ``compound_unique`` flag each row beyond the first of
    its value, first in ``order_by`` order (every column if None).
    """
    table, sql = _with_sql_columns(table, [p for p in probes if p.kind == "sql_row"], backend)
    flags: dict[str, ir.BooleanValue] = {}
    for probe in probes:
        if probe.kind in {"unique", "compound_unique"}:
            present = ibis.and_(*(not_null(table[c]) for c in probe.columns))
            order = [table[order_by]] if order_by else [table[c] for c in table.columns]
            rank = ibis.row_number().over(group_by=[table[c] for c in probe.columns],
                                          order_by=order)
            flags[probe.key] = present & (rank > 0)
        else:
            flags[probe.key] = _row_terms(table, probe, sql)[0].fill_null(False)
    return table, flags


# -- partition metrics fused into the same query -------------------------------
def _finite(x: ir.Column) -> ir.BooleanValue | None:
    return ~(x.isnan() | x.isinf()) if x.type().is_floating() else None


_STATISTICS: dict[str, Callable[[ir.Column], ir.Scalar]] = {
    "mean": lambda x: _value(x).mean(where=_finite(x)),
    "std": lambda x: _value(x).std(where=_finite(x)),
    "min": lambda x: _value(x).min(where=_finite(x)),
    "max": lambda x: _value(x).max(where=_finite(x)),
    "sum": lambda x: _value(x).sum(where=_finite(x)),
    "median": lambda x: _value(x).approx_median(where=_finite(x)),
    "non_null_count": lambda x: x.count(),
    "distinct_count": lambda x: x.nunique(),
    "length_mean": lambda x: x.length().mean(),
    "length_max": lambda x: x.length().max(),
    "length_min": lambda x: x.length().min(),
}
STATISTIC_NAMES = frozenset(_STATISTICS)

METRIC_KINDS = frozenset({"non_null", "newest", "statistic"})


def _metric(table: ir.Table, probe: Probe) -> ir.Scalar:
    x = table[probe.columns[0]]
    if probe.kind == "non_null":
        return x.count()
    if probe.kind == "newest":
        return x.max()
    return _STATISTICS[probe.params["statistic"]](x)


# -- custom SQL ----------------------------------------------------------------
_FORBIDDEN = (exp.Query, exp.Subquery, exp.Command, exp.DDL, exp.DML, exp.Star,
              exp.Placeholder, exp.Parameter, exp.Window)


def parse_sql_expression(text: str, columns: Sequence[str], *, dialect: str | None = None,
                         aggregate: bool = False) -> exp.Expression:
    """Parse a user's SQL expression and check that it only reads the table's columns."""
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.ParseError as exc:
        raise SQLExpressionError(f"is not valid SQL ({str(exc).splitlines()[0]})") from None
    for node in tree.walk():
        if isinstance(node, exp.Star) and isinstance(node.parent, exp.Count):
            continue  # COUNT(*) is the one harmless star
        if isinstance(node, _FORBIDDEN):
            raise SQLExpressionError(f"may not contain {node.key.upper()}: write one expression "
                                     "over the table's columns")
        if isinstance(node, exp.Column):
            if node.table:
                raise SQLExpressionError(f"names another table in {node.sql()!r}: "
                                         "use bare column names")
            if node.name not in columns:
                raise SQLExpressionError(f"reads unknown column {node.name!r}")
    has_agg = any(isinstance(n, exp.AggFunc) for n in tree.walk())
    if aggregate and not has_agg:
        raise SQLExpressionError("has no aggregate function: use kind sql_row for a row predicate")
    if not aggregate and has_agg:
        raise SQLExpressionError("uses an aggregate function: use kind sql_aggregate")
    return tree


def _with_sql_columns(table: ir.Table, probes: Sequence[Probe], backend: str,
                      group_by: str | None = None) -> tuple[ir.Table, dict[str, str]]:
    """Add one boolean column per custom-SQL probe; return the table and each probe's
    column name (none is a user column's name).

    The SQL text is built by sqlglot from parsed trees: column names are
    re-quoted identifiers, and the only table name is our own alias, which the
    compiled query defines as a CTE over ``table``. The result's schema is known
    (the table's columns, or the partition key's, plus booleans), so nothing is
    created in the database to learn it: the query stays a pure read, which a
    read-only transaction accepts. With ``group_by`` (the partition key's column),
    the expressions are aggregates.
    """
    if not probes:
        return table, {}
    columns = list(table.columns)
    aliases = {p.key: internal_name(f"sql_{p.key}", columns) for p in probes}
    dialect = _SQL_DIALECT.get(backend, backend)
    select = exp.select(exp.to_identifier(group_by, quoted=True) if group_by else exp.Star())
    select = select.from_(exp.to_identifier("wk_t", quoted=True))
    for probe in probes:
        tree = parse_sql_expression(probe.params["expression"], columns,
                                    dialect=probe.params.get("dialect"),
                                    aggregate=group_by is not None)
        select = select.select(exp.cast(exp.paren(tree), "boolean")
                               .as_(exp.to_identifier(aliases[probe.key], quoted=True)),
                               append=True)
    if group_by:
        select = select.group_by(exp.to_identifier(group_by, quoted=True))
    schema = table.schema()
    kept = {group_by: schema[group_by]} if group_by else dict(schema.items())
    schema = ibis.schema({**kept, **{name: "boolean" for name in aliases.values()}})
    view = ops.SQLStringView(parent=table.alias("wk_t").op(),
                             query=select.sql(dialect=dialect), schema=schema)
    return view.to_expr(), aliases


# -- queries -------------------------------------------------------------------
def _scope(relation: Relation, column: str, grain: Granularity,
           partitions: Sequence[pd.Timestamp] | None) -> tuple[ir.Table, ir.Value]:
    table = relation._restricted(column, grain, partitions)
    return table, relation._partition_key(column, grain, table)


def fused_counts(relation: Relation, column: str, grain: Granularity, row: Sequence[Probe],
                 metrics: Sequence[Probe], partitions: Sequence[pd.Timestamp] | None = None
                 ) -> list[dict]:
    """ONE GROUP BY partition query for every row probe and partition metric.

    Returns per partition ``{"partition", "row_count", "row": {key: (bad, n)},
    "metric": {key: value}}``.
    """
    table, key = _scope(relation, column, grain, partitions)
    table, sql = _with_sql_columns(table, [p for p in row if p.kind == "sql_row"],
                                   relation.backend)
    if sql:
        key = relation._partition_key(column, grain, table)
    aggs: dict[str, ir.Scalar] = {"row_count": table.count()}
    for i, probe in enumerate(row):
        bad, n = _row_terms(table, probe, sql)
        aggs[f"b{i}"] = table.count(where=bad)
        aggs[f"n{i}"] = n
    for i, probe in enumerate(metrics):
        aggs[f"m{i}"] = _metric(table, probe)
    frame = execute_read_only(relation, table.group_by(key).aggregate(**aggs))
    out = []
    for rec in frame.to_dict("records"):
        if _missing(rec[relation.key]):
            continue
        out.append({
            "partition": to_utc_naive(rec[relation.key]), "row_count": int(rec["row_count"]),
            "row": {p.key: (_int(rec[f"b{i}"]), _int(rec[f"n{i}"])) for i, p in enumerate(row)},
            "metric": {p.key: _plain(rec[f"m{i}"]) for i, p in enumerate(metrics)},
        })
    return sorted(out, key=lambda r: r["partition"])


def violation_samples(relation: Relation, column: str, grain: Granularity,
                      probes: Sequence[Probe], key_columns: Sequence[str], limit: int,
                      partitions: Sequence[pd.Timestamp] | None = None) -> pd.DataFrame:
    """Up to ``limit`` violating rows per (probe, partition), in one UNION ALL query.

    Returns ``probe, partition, row_key, values``; keys and values are JSON text.
    """
    if not probes or limit <= 0:
        return pd.DataFrame(columns=["probe", "partition", "row_key", "values"])
    table, key = _scope(relation, column, grain, partitions)
    table, sql = _with_sql_columns(table, [p for p in probes if p.kind == "sql_row"],
                                   relation.backend)
    key = relation._partition_key(column, grain, table).name("wk_partition")
    shown = list(dict.fromkeys([*key_columns, *(c for p in probes for c in p.columns)]))
    parts = []
    for i, probe in enumerate(probes):
        bad, _ = _row_terms(table, probe, sql)
        # Positional aliases: the projection holds no user name, so none can collide.
        cols = {f"v_{j}": table[c].cast("string") for j, c in enumerate(shown)}
        parts.append(table.filter(bad).select(key, probe=ibis.literal(i, type="int32"), **cols))
    union = ibis.union(*parts, distinct=False)
    rank = ibis.row_number().over(group_by=[union.probe, union.wk_partition],
                                  order_by=[union[f"v_{j}"] for j in range(len(shown))])
    frame = execute_read_only(relation, union.mutate(rank=rank).filter(ibis._.rank < limit))
    rows = []
    for rec in frame.to_dict("records"):
        probe = probes[int(rec["probe"])]
        values = {c: _plain(rec[f"v_{j}"]) for j, c in enumerate(shown)}
        rows.append({"probe": probe.key, "partition": to_utc_naive(rec["wk_partition"]),
                     "row_key": json.dumps({c: values[c] for c in key_columns}),
                     "values": json.dumps({c: values[c] for c in probe.columns})})
    return pd.DataFrame(rows, columns=["probe", "partition", "row_key", "values"])


def duplicate_counts(relation: Relation, column: str, grain: Granularity,
                     columns: Sequence[str], partitions: Sequence[pd.Timestamp] | None = None
                     ) -> pd.DataFrame:
    """Per partition: ``judged`` rows (no key column NULL) and ``duplicates``, the rows whose
    value another row shares (every copy, the first too, as Great Expectations counts).

    Rows with a NULL in any key column are skipped, as SQL UNIQUE constraints do.
    """
    table, key = _scope(relation, column, grain, partitions)
    present = None
    for c in columns:
        term = not_null(table[c])
        present = term if present is None else present & term
    # Positional aliases: the projection holds no user name, so none can collide.
    narrow = table.filter(present).select(key.name("wk_partition"),
                                          **{f"c{i}": table[c] for i, c in enumerate(columns)})
    groups = (narrow.group_by(list(narrow.columns)).aggregate(wk_n=ibis._.count()))
    shared = ibis.ifelse(groups.wk_n > 1, groups.wk_n, 0)
    expr = groups.group_by("wk_partition").aggregate(judged=groups.wk_n.sum(),
                                                    duplicates=shared.sum())
    frame = execute_read_only(relation, expr)
    return pd.DataFrame({
        "partition": [to_utc_naive(v) for v in frame["wk_partition"]],
        "judged": frame["judged"].astype("int64").to_numpy(),
        "duplicates": frame["duplicates"].astype("int64").to_numpy(),
    })


def sql_aggregates(relation: Relation, column: str, grain: Granularity, probes: Sequence[Probe],
                   partitions: Sequence[pd.Timestamp] | None = None) -> dict:
    """Per partition, the boolean value of each aggregate SQL predicate (one query)."""
    table, key = _scope(relation, column, grain, partitions)
    grouped, sql = _with_sql_columns(table.mutate(key), probes, relation.backend,
                                     group_by=relation.key)
    frame = execute_read_only(relation, grouped)
    out: dict = {}
    for rec in frame.to_dict("records"):
        if _missing(rec[relation.key]):
            continue
        out[to_utc_naive(rec[relation.key])] = {p.key: _plain(rec[sql[p.key]]) for p in probes}
    return out


def missing_references(relation: Relation, column: str, grain: Granularity, probe: Probe,
                       other: ir.Table, partitions: Sequence[pd.Timestamp] | None = None
                       ) -> pd.DataFrame:
    """Per partition, non-NULL values of ``probe.columns[0]`` absent from ``other``'s column."""
    table, key = _scope(relation, column, grain, partitions)
    x = probe.columns[0]
    known = other.select(wk_ref=other[probe.params["other_column"]]).distinct()
    orphans = table.filter(not_null(table[x])).anti_join(known, table[x] == known.wk_ref)
    key = relation._partition_key(column, grain, orphans)
    frame = execute_read_only(relation, orphans.group_by(key).aggregate(missing=ibis._.count()))
    return pd.DataFrame({
        "partition": [to_utc_naive(v) for v in frame[relation.key]],
        "missing": frame["missing"].astype("int64").to_numpy(),
    })


def open_beside(relation: Relation, source: SourceSpec) -> ir.Table | None:
    """``source``'s table through ``relation``'s own connection, or None if impossible.

    A referential check joins two tables, so both must live in one engine: a
    file is re-read by this DuckDB connection, a Spark table comes from the same
    session, a Postgres table from the same database.
    """
    con = relation.table._find_backend(use_default=True)
    try:
        if relation.backend == "duckdb" and source.kind == "file":
            if source.format == "parquet":
                return con.read_parquet(source.location)
            return con.read_csv(source.location, **staging.csv_options(con, source.location))
        if (relation.backend, source.kind) in {("postgres", "postgres"), ("pyspark", "spark")}:
            schema, dot, bare = source.table.partition(".")
            return con.table(bare, database=schema) if dot else con.table(source.table)
    except SourceError:
        raise  # the CSV reading rule's own answer (staging.csv_options), not "impossible"
    except Exception:
        return None
    return None


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def _int(value) -> int:
    return 0 if _missing(value) else int(value)


def _plain(value):
    """Engine scalars (numpy, Decimal, pandas) as plain Python values."""
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return to_utc_naive(value)
    if hasattr(value, "item"):
        return value.item()
    if type(value).__name__ == "Decimal":
        return float(value)
    return value
