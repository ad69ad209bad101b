"""SLO specs as data: checks per table, from YAML or from the Python builder.

```yaml
slos:
  target: 0.99                 # attainment target for wk slo status (default 0.99)
  include: [slos/*.yaml]       # optional: more files with a `tables:` mapping
  tables:
    pizza:
      key: [order_id]          # identifies sample rows (default: the partition column)
      checks:
        - {name: price_range, kind: between, column: price, min: 0, max: 100,
           strict_min: true, severity: critical, mostly: 0.99}
        - {kind: not_null, column: order_id}
```

The same spec in Python::

    TableSLO("pizza", key=["order_id"]).between("price", min=0, max=100, strict_min=True,
                                                  mostly=0.99, name="price_range")
"""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .kinds import KINDS, SLOSpecError, check_static

SEVERITIES = ("critical", "warning", "info")
DEFAULT_TARGET = 0.99
_RESERVED = {"name", "kind", "column", "columns", "severity", "mostly", "description", "owner"}


@dataclass(frozen=True)
class Check:
    """One declared check. ``params`` holds the kind's own parameters."""

    name: str
    kind: str
    column: str | None = None
    columns: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: str = "critical"
    mostly: float = 1.0
    description: str | None = None
    owner: str | None = None

    def __post_init__(self) -> None:
        where = f"check {self.name!r}"
        kind = KINDS.get(self.kind)
        if kind is None:
            raise SLOSpecError(f"{where}: unknown kind {self.kind!r}: use one of "
                               f"{', '.join(KINDS)}")
        if self.severity not in SEVERITIES:
            raise SLOSpecError(f"{where}: severity {self.severity!r} is not one of "
                               f"{', '.join(SEVERITIES)}")
        if kind.target == "column" and not self.column:
            raise SLOSpecError(f"{where}: kind {self.kind} needs a column")
        if kind.target == "columns" and len(self.columns) < 1:
            raise SLOSpecError(f"{where}: kind {self.kind} needs columns: [a, b]")
        if kind.target == "table" and (self.column or self.columns):
            raise SLOSpecError(f"{where}: kind {self.kind} applies to the table: remove column")
        unknown = set(self.params) - set(kind.required) - set(kind.optional)
        if unknown:
            allowed = ", ".join(kind.required + kind.optional) or "none"
            raise SLOSpecError(f"{where}: unknown parameter(s) {', '.join(sorted(unknown))} for "
                               f"{self.kind} (allowed: {allowed})")
        missing = [p for p in kind.required if p not in self.params]
        if missing:
            raise SLOSpecError(f"{where}: kind {self.kind} needs {', '.join(missing)}")
        if (not isinstance(self.mostly, (int, float)) or isinstance(self.mostly, bool)
                or not 0 < self.mostly <= 1):
            raise SLOSpecError(f"{where}: mostly must lie in (0, 1], e.g. 0.99")
        if self.mostly != 1.0 and not kind.row_level:
            raise SLOSpecError(f"{where}: mostly applies to row-level checks only, not "
                               f"{self.kind}")
        check_static(kind, self.params, where)

    @property
    def level(self) -> str:
        return "row" if KINDS[self.kind].row_level else "partition"

    @property
    def targets(self) -> tuple[str, ...]:
        """The columns the check reads (empty for table-level kinds)."""
        return (self.column,) if self.column else tuple(self.columns)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "slos") -> "Check":
        if not isinstance(raw, Mapping) or "kind" not in raw:
            raise SLOSpecError(f"{where}: each check is a mapping with at least 'kind'")
        kind = str(raw["kind"])
        # Table-level kinds use column/columns as their own parameters (freshness, schema).
        on_table = kind in KINDS and KINDS[kind].target == "table"
        reserved = _RESERVED - {"column", "columns"} if on_table else _RESERVED
        params = {k: v for k, v in raw.items() if k not in reserved}
        column = None if on_table else raw.get("column")
        if column is not None and not _is_name(column):
            raise SLOSpecError(f"{where}: column must be one column name, e.g. column: price")
        columns = () if on_table else _names(raw.get("columns"), f"{where}: columns")
        column = str(column) if column is not None else None
        for text in ("name", "severity", "description", "owner"):
            if isinstance(raw.get(text), (list, dict)):
                raise SLOSpecError(f"{where}: {text} must be a single value, not a "
                                   f"{type(raw[text]).__name__}")
        return cls(
            name=str(raw.get("name") or default_name(kind, column, columns)), kind=kind,
            column=column, columns=columns, params=params,
            severity=str(raw.get("severity", "critical")), mostly=raw.get("mostly", 1.0),
            description=raw.get("description"), owner=raw.get("owner"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.column:
            out["column"] = self.column
        if self.columns:
            out["columns"] = list(self.columns)
        out.update({k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()})
        out["severity"] = self.severity
        if self.mostly != 1.0:
            out["mostly"] = self.mostly
        for extra in ("description", "owner"):
            if getattr(self, extra):
                out[extra] = getattr(self, extra)
        return out


def default_name(kind: str, column: str | None, columns: Sequence[str] = ()) -> str:
    cols = [column] if column else list(columns)
    return "_".join([kind, *cols]) if cols else kind


class TableSLO:
    """The checks of one table, with a fluent builder: one method per check kind.

    ``TableSLO("t").not_null("id").between("price", min=0)``; each method takes
    the kind's parameters plus ``name``, ``severity``, ``mostly``,
    ``description`` and ``owner``.
    """

    def __init__(self, table: str, checks: Sequence[Check] = (), *,
                 key: Sequence[str] = (), target: float | None = None) -> None:
        self.table = table
        self.key = tuple(key)
        self.target = target
        self.checks: list[Check] = []
        for check in checks:
            self.add_check(check)

    def add_check(self, check: Check) -> "TableSLO":
        if any(c.name == check.name for c in self.checks):
            raise SLOSpecError(f"table {self.table!r}: two checks are named {check.name!r}: "
                               "give one of them a distinct name")
        self.checks.append(check)
        return self

    def add(self, kind: str, target: str | Sequence[str] | None = None, **kwargs) -> "TableSLO":
        raw: dict[str, Any] = {"kind": kind, **kwargs}
        if isinstance(target, str):
            raw["column"] = target
        elif target is not None:
            raw["columns"] = list(target)
        return self.add_check(Check.from_dict(raw, f"table {self.table!r}"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.key:
            out["key"] = list(self.key)
        if self.target is not None:
            out["target"] = self.target
        out["checks"] = [c.to_dict() for c in self.checks]
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump({"slos": {"tables": {self.table: self.to_dict()}}},
                              sort_keys=False, allow_unicode=True)

    @classmethod
    def from_dict(cls, table: str, raw: Any) -> "TableSLO":
        where = f"slos: table {table!r}"
        if isinstance(raw, list):
            raw = {"checks": raw}
        if not isinstance(raw, Mapping):
            raise SLOSpecError(f"{where} must map to {{checks: [...]}}")
        unknown = set(raw) - {"checks", "key", "target"}
        if unknown:
            raise SLOSpecError(f"{where}: unknown keys {sorted(unknown)}: use checks, key, target")
        key = _names(raw.get("key"), f"{where}: key")
        checks = raw.get("checks") or []
        if not isinstance(checks, list):
            raise SLOSpecError(f"{where}: checks must be a list")
        return cls(table, [Check.from_dict(c, f"{where} check #{i + 1}")
                           for i, c in enumerate(checks)],
                   key=key, target=_target(raw.get("target"), where))

    def __repr__(self) -> str:
        return f"TableSLO({self.table!r}, {len(self.checks)} checks)"


def _make_builder(kind: str):
    target = KINDS[kind].target

    def method(self: TableSLO, *args, **kwargs) -> TableSLO:
        if target == "table":
            if args:
                raise SLOSpecError(f"{kind} applies to the table: pass parameters by name")
            return self.add(kind, None, **kwargs)
        return self.add(kind, *args, **kwargs)

    method.__name__ = kind
    method.__doc__ = KINDS[kind].summary
    return method


for _kind in KINDS:  # the builder's methods come from the registry, one per kind
    setattr(TableSLO, _kind, _make_builder(_kind))


@dataclass
class SLOSpec:
    """Every table's checks, and the default attainment target."""

    tables: dict[str, TableSLO] = field(default_factory=dict)
    target: float = DEFAULT_TARGET

    def for_table(self, name: str) -> TableSLO:
        return self.tables.get(name) or TableSLO(name)

    def target_of(self, name: str) -> float:
        spec = self.tables.get(name)
        return spec.target if spec and spec.target is not None else self.target

    @classmethod
    def from_dict(cls, raw: Any, root: Path | None = None) -> "SLOSpec":
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise SLOSpecError("slos: must be a mapping with 'tables:'")
        unknown = set(raw) - {"tables", "target", "include"}
        if unknown:
            raise SLOSpecError(f"slos: unknown keys {sorted(unknown)}: use tables, target, include")
        spec = cls(target=_target(raw.get("target"), "slos") or DEFAULT_TARGET)
        tables = raw.get("tables") or {}
        if not isinstance(tables, Mapping):
            raise SLOSpecError("slos: tables must map table names to their checks")
        for name, table in tables.items():
            spec._merge(TableSLO.from_dict(str(name), table))
        for path in _includes(raw.get("include"), root):
            try:
                data = yaml.safe_load(path.read_text()) or {}
            except yaml.YAMLError:
                raise SLOSpecError(f"slos: included file {path} is not valid YAML") from None
            data = data.get("slos", data) if isinstance(data, Mapping) else data
            if not isinstance(data, Mapping):
                raise SLOSpecError(f"slos: included file {path} must hold a 'tables:' mapping")
            for name, table in (data.get("tables") or {}).items():
                spec._merge(TableSLO.from_dict(str(name), table))
        return spec

    def _merge(self, table: TableSLO) -> None:
        if table.table not in self.tables:
            self.tables[table.table] = table
            return
        mine = self.tables[table.table]
        for check in table.checks:
            mine.add_check(check)
        mine.key = mine.key or table.key

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target,
                "tables": {name: t.to_dict() for name, t in self.tables.items()}}


def _is_name(value) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _names(value, where: str) -> tuple[str, ...]:
    """A column name or a list of them (YAML may read a name such as 2024 as a number)."""
    if value is None or value == [] or value == ():
        return ()
    if _is_name(value):
        return (str(value),)
    if isinstance(value, (list, tuple)) and all(_is_name(v) for v in value):
        return tuple(str(v) for v in value)
    raise SLOSpecError(f"{where} must be a column name or a list of names, e.g. [a, b]")


def _target(value, where: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
        raise SLOSpecError(f"{where}: target must lie strictly between 0 and 1, e.g. 0.99")
    return float(value)


def _includes(value, root: Path | None) -> list[Path]:
    if not value:
        return []
    patterns = [value] if isinstance(value, str) else list(value)
    out: list[Path] = []
    for pattern in patterns:
        full = Path(pattern) if Path(pattern).is_absolute() else (root or Path.cwd()) / pattern
        matches = sorted(glob.glob(str(full)))
        if not matches:
            raise SLOSpecError(f"slos: include {pattern!r} matches no file: check the path")
        out.extend(Path(m) for m in matches)
    return out


def load_spec(project) -> SLOSpec:
    """The ``slos:`` section of a :class:`watchkeeper.config.Project` (empty if absent)."""
    return SLOSpec.from_dict(project.extra.get("slos"), project.root)
