"""Guard actions: rules a ``serve.before`` trigger applies to a batch of predictions.

Rules and their predicates are data. A predicate is one of

```yaml
{column: score, is_null: true}
{column: score, not_between: [0, 1]}
{column: segment, in_set: [a, b]}        # or not_in_set
```

and ``when:`` takes one predicate or a list (a row matches if any does). A null
(None or NaN) never matches ``not_between``, ``in_set`` or ``not_in_set``: test
nulls with ``is_null``, so no rule treats a missing score as an out-of-range one
by accident.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ._base import Action, PermanentFailure, import_path, number, read_spec, resolve_import

_OPS = ("is_null", "not_between", "in_set", "not_in_set")
_STATISTICS = ("positive_share", "mean", "null_share", "min", "max", "rows")


def _bounds(value: Any, where: str, key: str) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ConfigError(f"{where}: {key} must be a list [low, high]")
    lo, hi = (number(v, where, key) for v in value)
    if lo > hi:
        raise ConfigError(f"{where}: {key} low {lo} is above high {hi}")
    return lo, hi


def _numbers(series: pd.Series) -> np.ndarray:
    """The column as float64 with NaN for nulls (fast for numpy dtypes)."""
    if series.dtype.kind in "fiub":
        return series.to_numpy(dtype="float64", copy=False)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _column(frame: pd.DataFrame, column: str, rule: str) -> pd.Series:
    try:
        return frame[column]
    except KeyError:
        raise ConfigError(f"guard rule {rule} needs column {column!r}, which the predictions "
                          f"lack (columns: {', '.join(map(str, frame.columns))})") from None


@dataclass(frozen=True)
class Predicate:
    """A row condition on one column, declared as data."""

    column: str
    op: str
    value: Any = None

    @classmethod
    def parse(cls, spec: Any, where: str) -> "Predicate":
        spec = read_spec(spec, where, required=("column",), optional=_OPS)
        ops = [op for op in _OPS if op in spec]
        if len(ops) != 1:
            raise ConfigError(f"{where} needs exactly one of {', '.join(_OPS)}")
        op, value = ops[0], spec[ops[0]]
        if op == "is_null" and value is not True:
            raise ConfigError(f"{where}: write is_null: true")
        if op == "not_between":
            value = _bounds(value, where, op)
        if op in ("in_set", "not_in_set"):
            if not isinstance(value, list):
                raise ConfigError(f"{where}: {op} must be a list of values")
            value = tuple(value)
        return cls(str(spec["column"]), op, value)

    def to_spec(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"column": self.column, self.op: value}

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        series = _column(frame, self.column, f"predicate on {self.column!r}")
        if self.op == "is_null":
            return series.isna().to_numpy()
        if self.op == "not_between":
            x = _numbers(series)
            lo, hi = self.value
            return (x < lo) | (x > hi)  # NaN compares False: nulls never match
        hit = series.isin(list(self.value)).to_numpy()
        if self.op == "in_set":
            return hit
        return ~hit & series.notna().to_numpy()


def _when(spec: Any, where: str) -> tuple[Predicate, ...]:
    items = spec if isinstance(spec, list) else [spec]
    if not items or spec is None:
        raise ConfigError(f"{where} needs 'when': a predicate like "
                          "{column: score, is_null: true}")
    return tuple(Predicate.parse(p, f"{where} when") for p in items)


def _any(predicates: tuple[Predicate, ...], frame: pd.DataFrame) -> np.ndarray:
    mask = predicates[0].mask(frame)
    for p in predicates[1:]:
        mask = mask | p.mask(frame)
    return mask


def _sample(frame: pd.DataFrame, mask: np.ndarray | None, n: int) -> list[dict] | None:
    if not n:
        return None
    rows = frame if mask is None else frame[mask]
    return json.loads(rows.head(n).to_json(orient="records", date_format="iso"))


class GuardRule(Action):
    """A guard action. ``apply`` returns ``(frame, affected rows, sample rows or None)``."""

    role = "guard"

    def apply(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, int, list | None]:
        raise NotImplementedError

    def run(self, event, ctx) -> str:  # guards run through watchkeeper.guard, not fire()
        raise PermanentFailure(f"{self.kind} only applies to prediction batches (wk.guard)")

    def to_spec(self) -> dict[str, Any]:
        spec = super().to_spec()
        body = spec[self.kind]
        if "when" in body:
            body["when"] = [p.to_spec() for p in self.when]  # type: ignore[attr-defined]
        return spec


@dataclass(frozen=True)
class Clip(GuardRule):
    """Clip a column to ``[min, max]``; nulls stay null."""

    kind = "clip"
    column: str = ""
    min: float | None = None
    max: float | None = None
    log_rows: int = 0

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "Clip":
        spec = read_spec(spec, where, required=("column",), optional=("min", "max", "log_rows"))
        lo = number(spec["min"], where, "min") if spec.get("min") is not None else None
        hi = number(spec["max"], where, "max") if spec.get("max") is not None else None
        if lo is None and hi is None:
            raise ConfigError(f"{where} needs 'min', 'max' or both")
        if lo is not None and hi is not None and lo > hi:
            raise ConfigError(f"{where}: min {lo} is above max {hi}")
        return cls(str(spec["column"]), lo, hi, int(spec.get("log_rows") or 0))

    def apply(self, frame):
        x = _numbers(_column(frame, self.column, "clip"))
        lo = -np.inf if self.min is None else self.min
        hi = np.inf if self.max is None else self.max
        mask = (x < lo) | (x > hi)
        affected = int(np.count_nonzero(mask))
        sample = _sample(frame, mask, self.log_rows) if affected else None
        if affected:
            frame[self.column] = np.clip(x, lo, hi)
        return frame, affected, sample


@dataclass(frozen=True)
class Replace(GuardRule):
    """Replace nulls and/or values outside ``[low, high]`` with ``value`` or a fallback model."""

    kind = "replace"
    column: str = ""
    nulls: bool = False
    outside: tuple[float, float] | None = None
    value: Any = None
    fallback: str | None = None
    log_rows: int = 0

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "Replace":
        spec = read_spec(spec, where, required=("column",),
                         optional=("nulls", "outside", "value", "fallback", "log_rows"))
        nulls = bool(spec.get("nulls", False))
        outside = _bounds(spec["outside"], where, "outside") if spec.get("outside") else None
        if not nulls and outside is None:
            raise ConfigError(f"{where} needs nulls: true, outside: [low, high], or both")
        if ("value" in spec) == bool(spec.get("fallback")):
            raise ConfigError(f"{where} needs exactly one of 'value' (a constant) or 'fallback' "
                              "(package.module:function called with the rows)")
        fallback = import_path(spec["fallback"], where) if spec.get("fallback") else None
        return cls(str(spec["column"]), nulls, outside, spec.get("value"), fallback,
                   int(spec.get("log_rows") or 0))

    def resolve(self) -> "Replace":
        """Check the fallback imports now (once per compile), not on the first bad batch."""
        if self.fallback:
            try:
                resolve_import(self.fallback)
            except PermanentFailure as exc:
                raise ConfigError(f"guard rule replace on {self.column!r}: {exc}: check the "
                                  "fallback path") from None
        return self

    def apply(self, frame):
        series = _column(frame, self.column, "replace")
        mask = np.zeros(len(frame), dtype=bool)
        if self.nulls:
            mask |= series.isna().to_numpy()
        if self.outside is not None:
            x = _numbers(series)
            mask |= (x < self.outside[0]) | (x > self.outside[1])
        affected = int(np.count_nonzero(mask))
        if not affected:
            return frame, 0, None
        sample = _sample(frame, mask, self.log_rows)
        if self.fallback:
            rows = frame[mask]
            values = np.asarray(resolve_import(self.fallback)(rows))
            if values.shape[0] != affected:
                raise ValueError(f"fallback {self.fallback} returned {values.shape[0]} values "
                                 f"for {affected} rows")
        else:
            values = self.value
        column = series.to_numpy(copy=True)
        if column.dtype.kind in "iub" and not (isinstance(values, (int, np.integer))):
            column = column.astype("float64")  # a float fallback must not be truncated
        column[mask] = values
        frame[self.column] = column
        return frame, affected, sample


@dataclass(frozen=True)
class Drop(GuardRule):
    """Remove the rows a predicate matches."""

    kind = "drop"
    when: tuple[Predicate, ...] = ()
    log_rows: int = 0

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "Drop":
        spec = read_spec(spec, where, required=("when",), optional=("log_rows",))
        return cls(_when(spec["when"], where), int(spec.get("log_rows") or 0))

    def apply(self, frame):
        mask = _any(self.when, frame)
        affected = int(np.count_nonzero(mask))
        if not affected:
            return frame, 0, None
        return frame[~mask], affected, _sample(frame, mask, self.log_rows)


@dataclass(frozen=True)
class Flag(GuardRule):
    """Mark matching rows for human review in a boolean column (OR-ed across flag rules)."""

    kind = "flag"
    when: tuple[Predicate, ...] = ()
    column: str = "needs_review"
    log_rows: int = 0

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "Flag":
        spec = read_spec(spec, where, required=("when",), optional=("column", "log_rows"))
        return cls(_when(spec["when"], where), str(spec.get("column") or "needs_review"),
                   int(spec.get("log_rows") or 0))

    def apply(self, frame):
        mask = _any(self.when, frame)
        if self.column in frame.columns:
            mask = mask | frame[self.column].fillna(False).to_numpy(dtype=bool)
            affected = int(np.count_nonzero(_any(self.when, frame)))
        else:
            affected = int(np.count_nonzero(mask))
        sample = _sample(frame, mask, self.log_rows) if affected else None
        frame[self.column] = mask
        return frame, affected, sample


@dataclass(frozen=True)
class RejectBatch(GuardRule):
    """Reject the whole batch when a batch statistic leaves ``between: [low, high]``."""

    kind = "reject_batch"
    statistic: str = "positive_share"
    between: tuple[float, float] = (0.0, 1.0)
    column: str | None = None
    threshold: float = 0.5

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "RejectBatch":
        spec = read_spec(spec, where, required=("statistic", "between"),
                         optional=("column", "threshold"))
        statistic = str(spec["statistic"])
        if statistic not in _STATISTICS:
            raise ConfigError(f"{where}: unknown statistic {statistic!r}: use one of "
                              f"{', '.join(_STATISTICS)}")
        if statistic != "rows" and not spec.get("column"):
            raise ConfigError(f"{where}: statistic {statistic} needs 'column'")
        threshold = number(spec.get("threshold", 0.5), where, "threshold")
        return cls(statistic, _bounds(spec["between"], where, "between"),
                   str(spec["column"]) if spec.get("column") else None, threshold)

    def measure(self, frame: pd.DataFrame) -> float:
        if self.statistic == "rows":
            return float(len(frame))
        series = _column(frame, self.column, "reject_batch")
        if self.statistic == "null_share":
            return float(series.isna().mean()) if len(series) else float("nan")
        x = _numbers(series)
        x = x[~np.isnan(x)]
        if not len(x):
            return float("nan")
        if self.statistic == "positive_share":
            return float(np.count_nonzero(x >= self.threshold)) / len(x)
        return float({"mean": np.mean, "min": np.min, "max": np.max}[self.statistic](x))

    def reason(self, frame: pd.DataFrame) -> str | None:
        """Why the batch is rejected, or None when the statistic is within bounds."""
        value = self.measure(frame)
        lo, hi = self.between
        if lo <= value <= hi:
            return None
        on = f" of {self.column}" if self.column else ""
        shown = "not computable (no non-null values)" if value != value else f"{value:.4g}"
        return f"{self.statistic}{on} is {shown}, outside [{lo:g}, {hi:g}]"

    def apply(self, frame):
        return frame, 0 if self.reason(frame) is None else len(frame), None
