"""The check kinds: what each one targets, which parameters it takes, and how it is validated.

The registry is data: the YAML parser, the Python builder, the evaluator and
``docs/slos.md`` (checked by a test) all read it, so a kind is declared once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Real

import pandas as pd

from ..engine.types import ColumnInfo, Kind
from ..errors import ConfigError


class SLOSpecError(ConfigError):
    """An SLO check is malformed or does not fit the table it is declared on."""


@dataclass(frozen=True)
class KindDef:
    name: str
    target: str  # "column", "columns" (several) or "table"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    row_level: bool = False  # row-level kinds take ``mostly``
    summary: str = ""


KINDS: dict[str, KindDef] = {k.name: k for k in (
    KindDef("schema", "table", ("columns",), ("exact",),
            summary="Columns are present with the given types; with exact, no others."),
    KindDef("not_null", "column", row_level=True, summary="No NULL values."),
    KindDef("coverage", "column", ("min",),
            summary="The share of non-NULL rows is at least min."),
    KindDef("between", "column", (), ("min", "max", "strict_min", "strict_max"), True,
            "Values lie between min and max, inclusive unless strict at that end."),
    KindDef("in_set", "column", ("values",), row_level=True, summary="Values are in the set."),
    KindDef("not_in_set", "column", ("values",), row_level=True,
            summary="Values are not in the set."),
    KindDef("regex", "column", ("pattern",), row_level=True,
            summary="Values contain a match of the pattern (anchor with ^ and $)."),
    KindDef("length_between", "column", (), ("min", "max"), True,
            "String lengths, in characters, lie between min and max inclusive."),
    KindDef("unique", "column", row_level=True, summary="No value occurs twice in a partition."),
    KindDef("compound_unique", "columns", row_level=True,
            summary="No combination of the columns occurs twice in a partition."),
    KindDef("row_count", "table", (), ("min", "max"),
            summary="The partition's row count lies between min and max inclusive."),
    KindDef("freshness", "table", (), ("column", "deadline", "max_lag"),
            summary="The partition exists deadline after its end; its newest timestamp is "
                    "within max_lag of the partition's end (or of now, if sooner)."),
    KindDef("statistic", "column", ("statistic",), ("min", "max"),
            summary="A statistic of the column (e.g. mean) lies between min and max inclusive."),
    KindDef("sql_row", "table", ("expression",), ("dialect",), True,
            "A SQL predicate over a row; rows where it is false are violations."),
    KindDef("sql_aggregate", "table", ("expression",), ("dialect",),
            summary="A SQL aggregate predicate over the partition must be true."),
    KindDef("referential", "column", ("table",), ("other_column",), True,
            "Every value exists in a column of another registered table."),
    KindDef("row_count_match", "table", ("table",), ("min_ratio", "max_ratio"),
            summary="Rows / the other table's rows in the same partition lie between the "
                    "ratios (default 1 and 1)."),
)}

STATISTICS = ("mean", "std", "min", "max", "sum", "median", "non_null_count", "distinct_count",
              "length_mean", "length_min", "length_max")
_NUMERIC_STATS = {"mean", "std", "min", "max", "sum", "median"}
_STRING_STATS = {"length_mean", "length_min", "length_max"}


def _is_number(v) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def duration(value, where: str) -> pd.Timedelta:
    """``6h``, ``30m``, ``2d``, ``1 day`` or a number of seconds."""
    try:
        out = pd.Timedelta(seconds=value) if _is_number(value) else pd.Timedelta(str(value))
    except (ValueError, TypeError):
        raise SLOSpecError(f"{where}: {value!r} is not a duration: write e.g. 6h, 30m or 2d") \
            from None
    if out < pd.Timedelta(0):
        raise SLOSpecError(f"{where}: duration {value!r} is negative: use a positive one")
    return out


def check_static(kind: KindDef, params: Mapping, where: str) -> None:
    """Errors visible without the table: bad parameter types, ``min > max``, bad regex."""
    for flag in ("strict_min", "strict_max", "exact"):
        if flag in params and not isinstance(params[flag], bool):
            raise SLOSpecError(f"{where}: {flag} must be true or false")
    for name, value in params.items():
        if isinstance(value, float) and value != value:
            raise SLOSpecError(f"{where}: {name} is NaN, which no value lies beside: give a "
                               "number, or leave it out")
    lo, hi = params.get("min"), params.get("max")
    if kind.name in {"between", "length_between", "row_count", "statistic"}:
        if lo is None and hi is None:
            raise SLOSpecError(f"{where}: give min, max or both")
    if lo is not None and hi is not None:
        try:
            inverted = lo > hi
        except TypeError:
            raise SLOSpecError(f"{where}: min {lo!r} and max {hi!r} are not comparable: "
                               "give both as numbers, or both as strings") from None
        if inverted:
            raise SLOSpecError(f"{where}: min {lo!r} > max {hi!r}: swap them")
        empty = lo == hi and (params.get("strict_min") or params.get("strict_max"))
        if empty:
            raise SLOSpecError(f"{where}: min = max with a strict end admits no value")
    if kind.name in {"length_between", "row_count", "coverage"}:
        for bound in ("min", "max"):
            if params.get(bound) is not None and not _is_number(params[bound]):
                raise SLOSpecError(f"{where}: {bound} must be a number")
    if kind.name == "coverage" and not (_is_number(params["min"]) and 0 <= params["min"] <= 1):
        raise SLOSpecError(f"{where}: coverage min must lie in [0, 1], e.g. 0.95")
    if kind.name in {"in_set", "not_in_set"}:
        values = params["values"]
        if not isinstance(values, (list, tuple, set, frozenset)) or not values:
            raise SLOSpecError(f"{where}: values must be a non-empty list")
    if kind.name == "regex":
        try:
            re.compile(str(params["pattern"]))
        except re.error as exc:
            raise SLOSpecError(f"{where}: pattern {params['pattern']!r} is not a valid regular "
                               f"expression ({exc})") from None
    if kind.name == "statistic" and params["statistic"] not in STATISTICS:
        raise SLOSpecError(f"{where}: unknown statistic {params['statistic']!r}: use one of "
                           f"{', '.join(STATISTICS)}")
    if kind.name == "freshness":
        if "deadline" not in params and "max_lag" not in params:
            raise SLOSpecError(f"{where}: give deadline, max_lag or both")
        if "max_lag" in params and "column" not in params:
            raise SLOSpecError(f"{where}: max_lag needs the timestamp column to look at")
        for p in ("deadline", "max_lag"):
            if p in params:
                duration(params[p], where)
    if kind.name == "row_count_match":
        lo, hi = params.get("min_ratio", 1.0), params.get("max_ratio", 1.0)
        if not (_is_number(lo) and _is_number(hi)) or lo > hi:
            raise SLOSpecError(f"{where}: min_ratio and max_ratio must be numbers, min <= max")


# -- checks against the table's schema ----------------------------------------
def _literal_kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if _is_number(value):
        return "number"
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return "temporal"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


_ACCEPTS = {Kind.NUMERIC: {"number"}, Kind.FLOAT: {"number"}, Kind.STRING: {"string"},
            Kind.BOOLEAN: {"boolean"}, Kind.TEMPORAL: {"temporal", "string"}}


def coerce_literal(value, column: ColumnInfo, where: str):
    """``value`` as a literal comparable with ``column``; a type mismatch is a spec error."""
    got = _literal_kind(value)
    if got not in _ACCEPTS.get(column.kind, set()):
        raise SLOSpecError(f"{where}: column {column.name!r} is {column.dtype} but {value!r} is a "
                           f"{got}: compare it with {_describe(column.kind)}")
    if column.kind is Kind.TEMPORAL:
        try:
            ts = pd.Timestamp(value)
        except ValueError:
            raise SLOSpecError(f"{where}: {value!r} is not a date or timestamp: write "
                               "ISO 8601, e.g. 2024-01-31") from None
        return ts.date() if column.dtype.startswith("date") else ts.to_pydatetime()
    if isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63:
        return float(value)  # beyond 64-bit integers: compared as a double, like 1e30
    return value


def _describe(kind: Kind) -> str:
    return {Kind.NUMERIC: "numbers", Kind.FLOAT: "numbers", Kind.STRING: "strings",
            Kind.BOOLEAN: "true/false", Kind.TEMPORAL: "ISO 8601 dates"}.get(kind, "nothing")


def require_kind(column: ColumnInfo, allowed: set[Kind], what: str, where: str) -> None:
    if column.kind not in allowed:
        raise SLOSpecError(f"{where}: {what} needs a {' or '.join(sorted(k.value for k in allowed))}"
                           f" column, but {column.name!r} is {column.dtype}")


def statistic_kinds(name: str) -> set[Kind]:
    if name in _NUMERIC_STATS:
        return {Kind.NUMERIC, Kind.FLOAT}
    if name in _STRING_STATS:
        return {Kind.STRING}
    return {Kind.NUMERIC, Kind.FLOAT, Kind.STRING, Kind.BOOLEAN, Kind.TEMPORAL}
