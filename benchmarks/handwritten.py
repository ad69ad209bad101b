"""The baseline: the same partition statistics as one hand-written DuckDB SQL aggregate.

This is what an engineer would write by hand for the statistics of
``docs/statistics.md`` on one Parquet file: one ``GROUP BY day`` with counts,
FILTER counts, ``avg``, ``stddev_samp``, ``min``, ``max``, a ``reservoir_quantile``
list, ``approx_count_distinct`` and string length stats, plus a second query
for the top-k values. It shares no code with watchkeeper: the SQL is written
here and the statistics are derived here, so the smoke test comparing the two
checks watchkeeper against an independent implementation.

Two spellings of the same aggregate are kept:

- ``filter``: ``agg(x) FILTER (WHERE ...)`` -- the textbook form;
- ``case``: ``agg(CASE WHEN ... THEN x END)`` and ``count_if(cond)`` -- the form
  watchkeeper compiles to, because DuckDB runs it faster (see
  ``docs/benchmarks.md``). Comparing against both keeps the ratio honest.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

QUANTILES = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95,
             "p99": 0.99}
TOP_K = 10
QUANTILE_SAMPLE = 4096  # as watchkeeper.engine.aggregates.QUANTILE_SAMPLE
EXACT_ROWS = 10_000  # as watchkeeper.engine.aggregates.EXACT_ROWS: exact quantiles and counts


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # numeric | float | string | boolean | temporal


def columns_of(path: str) -> list[Column]:
    """Column kinds from the Parquet schema (the partition column included)."""
    out = []
    for field in pq.read_schema(path):
        t = field.type
        if pa.types.is_boolean(t):
            kind = "boolean"
        elif pa.types.is_floating(t):
            kind = "float"
        elif pa.types.is_integer(t):
            kind = "numeric"
        elif pa.types.is_decimal(t):
            kind = "decimal"
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            kind = "string"
        elif pa.types.is_timestamp(t) or pa.types.is_date(t):
            kind = "temporal"
        else:
            continue
        out.append(Column(field.name, kind))
    return out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _count_if(cond: str, form: str, col: str) -> str:
    if form == "filter":
        return f"count({col}) FILTER (WHERE {cond})"
    return f"count_if({cond})"


def _finite_agg(fn: str, col: str, form: str, extra: str = "") -> str:
    finite = f"NOT (isnan({col}) OR isinf({col}))"
    if form == "filter":
        return f"{fn}({col}{extra}) FILTER (WHERE {finite})"
    return f"{fn}(CASE WHEN {finite} THEN {col} END{extra})"


def _split(exact: str, sketch: str, value: str, small: str | None, counts: bool) -> str:
    """``exact`` aggregate over days of at most EXACT_ROWS rows, ``sketch`` over the others
    (``small``: SQL true on the rows of small days; None: every day is large)."""
    if small is None:
        return sketch.format(value)
    if small == "TRUE":
        return exact.format(value)
    mine = exact.format(f"CASE WHEN {small} THEN {value} END")
    theirs = sketch.format(f"CASE WHEN NOT ({small}) THEN {value} END")
    return f"({mine} + {theirs})" if counts else f"coalesce({mine}, {theirs})"


def _aggregates(c: Column, form: str, small: str | None = None) -> dict[str, str]:
    x = _q(c.name)
    quantiles = "[" + ", ".join(str(q) for q in QUANTILES.values()) + "]"
    exact_q = "quantile_cont({}, " + quantiles + ")"
    sampled_q = "reservoir_quantile({}, " + quantiles + f", {QUANTILE_SAMPLE})"
    aggs = {"non_null": f"count({x})"}
    if c.kind in ("numeric", "decimal", "float"):
        aggs["zeros"] = _count_if(f"{x} = 0", form, x)
        aggs["negatives"] = _count_if(f"{x} < 0", form, x)
        # Exact for integers (and strings below); for floats and decimals exact on small
        # days and a sketch on the others, as docs/statistics.md defines distinct_count.
        aggs["distinct"] = (f"count(DISTINCT {x})" if c.kind == "numeric" else
                            _split("count(DISTINCT {})", "approx_count_distinct({})", x, small,
                                   counts=True))
    if c.kind in ("numeric", "decimal"):
        aggs.update(mean=f"avg({x})", std=f"stddev_samp({x})", min=f"min({x})", max=f"max({x})",
                    quantiles=_split(exact_q, sampled_q, f"CAST({x} AS DOUBLE)", small, False))
    elif c.kind == "float":
        finite = f"CASE WHEN NOT (isnan({x}) OR isinf({x})) THEN {x} END"
        aggs.update(nan=_count_if(f"isnan({x})", form, x),
                    posinf=_count_if(f"{x} = 'inf'::DOUBLE", form, x),
                    neginf=_count_if(f"{x} = '-inf'::DOUBLE", form, x),
                    integral=_count_if(f"{x} % 1 = 0", form, x),
                    mean=_finite_agg("avg", x, form), std=_finite_agg("stddev_samp", x, form),
                    min=_finite_agg("min", x, form), max=_finite_agg("max", x, form),
                    quantiles=_split(exact_q, sampled_q, finite, small, False))
    elif c.kind == "string":
        # Strings' exact distinct count comes from the top-k query (it groups by every
        # value anyway), as in watchkeeper.
        aggs.update(empty=_count_if(f"{x} = ''", form, x),
                    length_mean=f"avg(length({x}))", length_min=f"min(length({x}))",
                    length_max=f"max(length({x}))")
    elif c.kind == "boolean":
        aggs["trues"] = _count_if(x, form, x)
    elif c.kind == "temporal":
        aggs.update(min=f"min({x})", max=f"max({x})")
    return aggs


def aggregate_sql(path: str, partition_column: str, columns: list[Column], form: str,
                  small_days: list | None = None, days: int = 0) -> str:
    """The single fused GROUP BY day query, one output column per (column, state).

    ``small_days``: the days of at most EXACT_ROWS rows (of ``days`` in all), whose
    quantiles and float distinct counts are exact."""
    day = f"date_trunc('day', {_q(partition_column)})"
    if not small_days:
        small = None
    elif len(small_days) == days:
        small = "TRUE"
    else:
        small = f"{day} IN (" + ", ".join(f"TIMESTAMP '{d.isoformat(sep=' ')}'"
                                          for d in small_days) + ")"
    parts = [f"{day} AS wk_day", "count(*) AS wk_rows"]
    for i, c in enumerate(columns):
        parts += [f"{sql} AS c{i}__{state}" for state, sql in _aggregates(c, form, small).items()]
    select = ",\n  ".join(parts)
    return (f"SELECT\n  {select}\nFROM read_parquet('{path}')\n"
            f"WHERE {_q(partition_column)} IS NOT NULL\nGROUP BY 1")


def top_k_sql(path: str, partition_column: str, columns: list[Column], k: int = TOP_K) -> str:
    """Top-k values per (string column, day) in one UNION ALL query with a window rank."""
    day = f"date_trunc('day', {_q(partition_column)})"
    branches = [
        f"SELECT {day} AS wk_day, {i} AS col, {_q(c.name)} AS value, count(*) AS n "
        f"FROM src WHERE {_q(c.name)} IS NOT NULL AND {_q(partition_column)} IS NOT NULL "
        f"GROUP BY 1, 3"
        for i, c in enumerate(columns) if c.kind == "string"
    ]
    union = "\n  UNION ALL ".join(branches)
    return (f"WITH src AS (SELECT * FROM read_parquet('{path}')),\nv AS (\n  {union}\n)\n"
            "SELECT wk_day, col, value, n, count(*) OVER (PARTITION BY col, wk_day) AS distinct_n"
            "\nFROM v\n"
            f"QUALIFY row_number() OVER (PARTITION BY col, wk_day ORDER BY n DESC, value) <= {k}")


def run(path: str, partition_column: str, form: str = "filter",
        con: duckdb.DuckDBPyConnection | None = None):
    """Run both queries; return ``(columns, aggregate rows, top-k rows)`` as Python tuples."""
    columns = columns_of(path)
    own = con is None
    con = con or duckdb.connect()
    try:
        # Which days are small enough for exact quantiles: the row count per day, which
        # DuckDB answers from the Parquet metadata and one column.
        counts = con.execute(f"SELECT date_trunc('day', {_q(partition_column)}), count(*) "
                             f"FROM read_parquet('{path}') WHERE {_q(partition_column)} "
                             "IS NOT NULL GROUP BY 1").fetchall()
        small = [d for d, n in counts if n <= EXACT_ROWS]
        agg = con.execute(aggregate_sql(path, partition_column, columns, form, small,
                                        len(counts)))
        names = [d[0] for d in agg.description]
        rows = [dict(zip(names, r)) for r in agg.fetchall()]
        top = con.execute(top_k_sql(path, partition_column, columns)).fetchall()
        _count_distinct_rows(con, path, partition_column, columns, rows, top)
    finally:
        if own:
            con.close()
    return columns, rows, top


def _count_distinct_rows(con, path: str, partition_column: str, columns: list[Column],
                         rows: list[dict], top: list[tuple]) -> None:
    """``wk_distinct_rows`` for the days where no string or integer column is unique.

    A day with a unique column has no repeated row (``statistics`` then says 0), as
    watchkeeper does it; the other days take one count of distinct 64-bit row hashes.
    """
    top_distinct = {(day, col): distinct for day, col, _v, _n, distinct in top}
    needs = []
    for row in rows:
        day, n = row["wk_day"], row["wk_rows"]
        exact = [top_distinct.get((day, i)) for i, c in enumerate(columns) if c.kind == "string"]
        exact += [row[f"c{i}__distinct"] for i, c in enumerate(columns) if c.kind == "numeric"]
        if n not in exact:
            needs.append(day)
    if not needs:
        return
    day = f"date_trunc('day', {_q(partition_column)})"
    listed = ", ".join(f"TIMESTAMP '{d.isoformat(sep=' ')}'" for d in needs)
    cols = ", ".join(f"{_q(c.name)}" for c in columns)
    found = dict(con.execute(
        f"SELECT wk_day, count(*) FROM (SELECT DISTINCT {day} AS wk_day, hash(({cols})) "
        f"FROM read_parquet('{path}') WHERE {day} IN ({listed})) GROUP BY 1").fetchall())
    for row in rows:
        if row["wk_day"] in found:
            row["wk_distinct_rows"] = found[row["wk_day"]]


def _ratio(part, whole):
    return None if part is None or not whole else part / whole


def _epoch(ts) -> float | None:
    return None if ts is None else (ts - _EPOCH).total_seconds()


_EPOCH = __import__("datetime").datetime(1970, 1, 1)
_DAY = __import__("datetime").timedelta(days=1)


def statistics(columns: list[Column], rows: list[dict], top: list[tuple]) -> dict:
    """``{(day, column, statistic): value}`` from the raw query results, per docs/statistics.md."""
    top_count: dict[tuple, int] = {}
    top_distinct: dict[tuple, int] = {}
    for day, col, _value, n, distinct in top:
        key = (day, columns[col].name)
        top_count[key] = max(top_count.get(key, 0), n)
        top_distinct[key] = distinct
    out: dict[tuple, float | None] = {}
    for row in rows:
        day, n = row["wk_day"], row["wk_rows"]
        out[(day, "*", "row_count")] = float(n)
        distinct_rows = row.get("wk_distinct_rows", n)  # absent: a column is unique that day
        out[(day, "*", "duplicate_fraction")] = 1.0 - distinct_rows / n
        for i, c in enumerate(columns):
            s = {k.split("__", 1)[1]: v for k, v in row.items() if k.startswith(f"c{i}__")}
            nn = s["non_null"]
            stats = {"non_null_count": nn, "null_fraction": _ratio(n - nn, n)}
            if c.kind in ("numeric", "decimal", "float"):
                stats.update(mean=s["mean"], std=s["std"], min=s["min"], max=s["max"],
                             zero_fraction=_ratio(s["zeros"], nn),
                             negative_fraction=_ratio(s["negatives"], nn),
                             distinct_count=min(s["distinct"], nn))
                values = s["quantiles"] or [None] * len(QUANTILES)
                stats.update(zip(QUANTILES, values))
            if c.kind == "float":
                stats.update(nan_count=s["nan"], posinf_count=s["posinf"],
                             neginf_count=s["neginf"],
                             integral_fraction=_ratio(s["integral"], nn))
            elif c.kind == "string":
                stats.update(empty_fraction=_ratio(s["empty"], nn),
                             distinct_count=top_distinct.get((day, c.name), 0),
                             top_ratio=_ratio(top_count.get((day, c.name)), nn),
                             length_mean=s["length_mean"], length_min=s["length_min"],
                             length_max=s["length_max"])
            elif c.kind == "boolean":
                stats["true_fraction"] = _ratio(s["trues"], nn)
            elif c.kind == "temporal":
                low, high = _epoch(s["min"]), _epoch(s["max"])
                stats.update(min=low, max=high,
                             lag_seconds=None if high is None else _epoch(day + _DAY) - high)
            for name, value in stats.items():
                out[(day, c.name, name)] = None if value is None else float(value)
    return out
