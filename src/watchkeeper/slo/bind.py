"""Binding: a declared check meets the table's schema and becomes engine probes.

Everything that can be wrong in a spec without running a query is raised here,
before the first scan: unknown columns, a string column compared with numeric
bounds, a regex on numbers, custom SQL that reads unknown columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..engine.checks import Probe, SQLExpressionError, parse_sql_expression
from ..engine.types import ColumnInfo, Kind
from .kinds import SLOSpecError, coerce_literal, require_kind, statistic_kinds
from .spec import Check

_ANY = {Kind.NUMERIC, Kind.FLOAT, Kind.STRING, Kind.BOOLEAN, Kind.TEMPORAL}


@dataclass
class Bound:
    """A check ready to evaluate: its row probe and/or partition metric, by key."""

    check: Check
    row: Probe | None = None
    metric: Probe | None = None
    params: dict = field(default_factory=dict)


def bind(checks: Sequence[Check], columns: Sequence[ColumnInfo], table: str) -> list[Bound]:
    by_name = {c.name: c for c in columns}
    return [_bind_one(i, check, by_name, table) for i, check in enumerate(checks)]


def _column(name: str, by_name: dict[str, ColumnInfo], where: str) -> ColumnInfo:
    if name not in by_name:
        shown = ", ".join(list(by_name)[:15])
        raise SLOSpecError(f"{where}: unknown column {name!r} (columns: {shown}): fix the name")
    return by_name[name]


def _bind_one(i: int, check: Check, by_name: dict[str, ColumnInfo], table: str) -> Bound:
    where = f"table {table!r} check {check.name!r}"
    key = f"k{i}"
    cols = [_column(c, by_name, where) for c in check.targets]
    params = dict(check.params)
    kind = check.kind
    out = Bound(check, params=params)
    if kind in {"between", "length_between"}:
        col = cols[0]
        if kind == "length_between":
            require_kind(col, {Kind.STRING}, "length_between", where)
        else:
            require_kind(col, _ANY - {Kind.BOOLEAN}, "between", where)
            for bound in ("min", "max"):
                if params.get(bound) is not None:
                    params[bound] = coerce_literal(params[bound], col, where)
        out.row = Probe(key, kind, (col.name,), params)
    elif kind in {"in_set", "not_in_set"}:
        col = cols[0]
        params["values"] = [coerce_literal(v, col, where) for v in params["values"]]
        out.row = Probe(key, kind, (col.name,), params)
    elif kind == "regex":
        require_kind(cols[0], {Kind.STRING}, "regex", where)
        out.row = Probe(key, kind, (cols[0].name,), params)
    elif kind == "not_null":
        out.row = Probe(key, kind, (cols[0].name,))
    elif kind == "sql_row" or kind == "sql_aggregate":
        try:
            parse_sql_expression(str(params["expression"]), list(by_name),
                                 dialect=params.get("dialect"), aggregate=kind == "sql_aggregate")
        except SQLExpressionError as exc:
            raise SLOSpecError(f"{where}: expression {params['expression']!r} {exc}") from None
        probe = Probe(key, kind, (), params)
        if kind == "sql_row":
            out.row = probe
        else:
            out.metric = probe
    elif kind in {"coverage", "referential"}:
        out.metric = Probe(key, "non_null", (cols[0].name,))
    elif kind == "statistic":
        require_kind(cols[0], statistic_kinds(params["statistic"]),
                     f"statistic {params['statistic']}", where)
        out.metric = Probe(key, "statistic", (cols[0].name,), params)
    elif kind == "freshness" and "column" in params:
        col = _column(str(params["column"]), by_name, where)
        require_kind(col, {Kind.TEMPORAL}, "freshness max_lag", where)
        out.metric = Probe(key, "newest", (col.name,))
    elif kind == "schema":
        _check_schema_spec(params["columns"], where)
    return out


def _check_schema_spec(columns, where: str) -> None:
    if isinstance(columns, dict):
        return
    if isinstance(columns, list) and all(isinstance(c, str) for c in columns):
        return
    raise SLOSpecError(f"{where}: columns must list names, or map names to types "
                       "(e.g. {price: float64, name: string})")


_FAMILIES = {"integer": ("int", "uint"), "float": ("float",), "decimal": ("decimal",),
             "timestamp": ("timestamp",), "date": ("date",)}


def schema_problems(params: dict, columns: Sequence[ColumnInfo]) -> list[str]:
    """What breaks a schema check: missing columns, wrong types, unexpected columns."""
    expected = params["columns"]
    wanted = expected if isinstance(expected, dict) else {c: None for c in expected}
    by_name = {c.name: c for c in columns}
    problems = []
    for name, dtype in wanted.items():
        col = by_name.get(name)
        if col is None:
            problems.append(f"missing column {name}")
        elif dtype is not None and not type_matches(str(dtype), col):
            problems.append(f"column {name} is {col.dtype.lstrip('!')}, expected {dtype}")
    if params.get("exact"):
        problems.extend(f"unexpected column {c}" for c in by_name if c not in wanted)
    return problems


def type_matches(expected: str, column: ColumnInfo) -> bool:
    """Exact Ibis type (``int64``), a kind (``numeric``, ``string``) or a family (``integer``)."""
    expected = expected.lower().lstrip("!")
    actual = column.dtype.lower().lstrip("!")
    if expected in {actual, column.kind.value}:
        return True
    if expected == "numeric" and column.kind is Kind.FLOAT:
        return True
    return any(actual.startswith(prefix) for prefix in _FAMILIES.get(expected, ()))
