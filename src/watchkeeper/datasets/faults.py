"""Fault injection: realistic breakages applied to the raw rows of one partition.

Each fault is declared once in :data:`FAULTS` with the columns it can hit; its
strength is drawn from a documented range with the caller's random generator, so
a benchmark run is reproducible from its seed. The benchmark then re-profiles the
corrupted rows through :func:`watchkeeper.profile`, as production would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError

TABLE = "*"


@dataclass(frozen=True)
class Fault:
    name: str
    targets: str  # which columns it can hit: any, numeric, nonneg, float, string, category,
    # timestamp, table
    description: str
    apply: Callable[[pd.DataFrame, str, np.random.Generator], pd.DataFrame]
    pair: bool = False  # hits two columns at once (the second is drawn from the same kind)


def _rows(frame: pd.DataFrame, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """A random subset of row positions, a fraction in [low, high] of the partition."""
    k = max(1, int(round(len(frame) * rng.uniform(low, high))))
    return rng.choice(len(frame), size=min(k, len(frame)), replace=False)


def _set(frame: pd.DataFrame, column: str, rows: np.ndarray, value) -> pd.DataFrame:
    out = frame.copy()
    values = out[column].copy()
    values.iloc[rows] = value
    out[column] = values
    return out


def nulls(frame, column, rng):
    return _set(frame, column, _rows(frame, rng, 0.1, 0.5), None)


def negatives(frame, column, rng):
    rows = _rows(frame, rng, 0.1, 0.5)
    return _set(frame, column, rows, -frame[column].iloc[rows].to_numpy())


def truncated(frame, column, rng):
    # A cast to INT and back: the type stays floating, the fractions are gone.
    return frame.assign(**{column: np.trunc(frame[column].astype(float))})


def unit_change(frame, column, rng):
    return frame.assign(**{column: frame[column].astype(float) * 1.8 + 32.0})  # °C → °F


def replaced_by_average(frame, column, rng):
    values = frame[column].astype(float)
    return frame.assign(**{column: values.where(values.isna(), values.mean())})


def pinned_constant(frame, column, rng):
    mode = frame[column].dropna().mode()
    value = mode.iloc[0] if len(mode) else frame[column].iloc[0]
    return frame.assign(**{column: pd.Series([value] * len(frame), index=frame.index,
                                             dtype=frame[column].dtype)})


def duplicated_rows(frame, column, rng):
    """A join fan-out or a double load: some rows arrive twice."""
    return pd.concat([frame, frame.iloc[_rows(frame, rng, 0.3, 1.0)]], ignore_index=True)


def partial_load(frame, column, rng):
    """An interrupted load: only the first 20-60% of the partition's rows landed."""
    return frame.iloc[: max(1, int(len(frame) * rng.uniform(0.2, 0.6)))].reset_index(drop=True)


def category_merged(frame, column, rng):
    """A mapping bug folds one category (≥ 5% of rows) into the most frequent one."""
    shares = frame[column].value_counts(normalize=True)
    candidates = _merge_candidates(frame[column])
    if not candidates:
        raise ConfigError(f"column {column!r} has no category of >= 5% of rows besides the "
                          "most frequent: pick a category column")
    victim = candidates[int(rng.integers(len(candidates)))]
    # Only the victim's rows change: a NULL stays NULL (with nullable dtypes, NULL != victim
    # is NULL, which ``where`` would have treated as "replace" too).
    keep = frame[column].ne(victim).fillna(True).astype(bool)
    return frame.assign(**{column: frame[column].where(keep, shares.index[0])})


MERGE_SHARE = 0.05  # the documented size of a merged category


def _merge_candidates(values: pd.Series) -> list:
    """Categories other than the most frequent holding at least 5% of the rows."""
    shares = values.value_counts() / max(1, len(values))
    return [v for v, share in shares.iloc[1:].items() if share >= MERGE_SHARE]


def timezone_shift(frame, column, rng):
    """Local time written as UTC (or the reverse): every timestamp moves by 3-10 hours."""
    hours = int(rng.integers(3, 11)) * (1 if rng.random() < 0.5 else -1)
    return frame.assign(**{column: frame[column] + pd.Timedelta(hours=hours)})


def sentinel_default(frame, column, rng):
    """Missing values written as a default (-1 or 9999) instead of NULL."""
    sentinel = -1 if (frame[column].dropna() >= 0).all() else 9999
    return _set(frame, column, _rows(frame, rng, 0.1, 0.4), sentinel)


def string_padding(frame, column, rng):
    """A fixed-width export: values padded with spaces to a common width."""
    values = frame[column]
    width = int(values.dropna().str.len().max() or 0) + int(rng.integers(1, 9))
    return frame.assign(**{column: values.str.pad(width, side="right")})


def swapped_columns(frame, column, rng, other: str | None = None):
    """Two columns of one kind written in each other's place (a positional INSERT)."""
    if other is None:
        return frame
    out = frame.copy()
    a, b = out[column].copy(), out[other].copy()
    if a.dtype != b.dtype:  # an int column receiving floats (or NULLs) becomes floating
        a, b = a.astype("float64"), b.astype("float64")
    out[column], out[other] = b.to_numpy(), a.to_numpy()
    return out


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("nulls", "any", "10-50% of the rows set to NULL", nulls),
    Fault("negatives", "nonneg", "10-50% of a non-negative column's values negated", negatives),
    Fault("truncated", "float", "floats truncated to integers (type unchanged)", truncated),
    Fault("unit_change", "numeric", "unit change, x * 1.8 + 32 (°C → °F)", unit_change),
    Fault("replaced_by_average", "numeric", "every value replaced by the column average",
          replaced_by_average),
    Fault("pinned_constant", "any", "column pinned to one constant (its most frequent value)",
          pinned_constant),
    Fault("duplicated_rows", "table", "30-100% of the rows duplicated (join fan-out)",
          duplicated_rows),
    Fault("partial_load", "table", "only the first 20-60% of the rows loaded", partial_load),
    Fault("category_merged", "category", "one category (>= 5% of rows) folded into the top one",
          category_merged),
    Fault("timezone_shift", "timestamp", "timestamps shifted by 3-10 hours", timezone_shift),
    Fault("sentinel_default", "numeric", "10-40% of values replaced by -1 (or 9999)",
          sentinel_default),
    Fault("string_padding", "string", "strings right-padded with spaces to a fixed width",
          string_padding),
    Fault("swapped_columns", "numeric", "two numeric columns swapped", swapped_columns,
          pair=True),
)}


def eligible(frame: pd.DataFrame, fault: Fault, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns of ``frame`` this fault can hit (``*`` for table-level faults)."""
    if fault.targets == "table":
        return [TABLE]
    out = []
    for column in frame.columns:
        if column in exclude:
            continue
        s = frame[column]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        ok = {
            "any": s.notna().any(),
            "numeric": numeric and s.notna().any(),
            "nonneg": numeric and s.notna().any() and (s.dropna() >= 0).all()
            and (s.dropna() > 0).any(),
            "float": pd.api.types.is_float_dtype(s) and (s.dropna() % 1 != 0).any(),
            "string": _is_string(s) and s.dropna().nunique() >= 2,
            # a column with a second category of >= 5% of rows; names and ids have none
            "category": _is_string(s) and len(_merge_candidates(s)) > 0,
            "timestamp": pd.api.types.is_datetime64_any_dtype(s),
        }[fault.targets]
        if ok:
            out.append(column)
    return out


def _is_string(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s) or s.dtype == object


def inject(frame: pd.DataFrame, fault: str, rng: np.random.Generator, *,
           column: str | None = None, exclude: tuple[str, ...] = ()
           ) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Corrupt one partition's rows; returns the rows and the column(s) hit (``*`` for table).

    ``exclude`` names columns never to touch (the partition column).
    """
    try:
        spec = FAULTS[fault]
    except KeyError:
        raise ConfigError(f"unknown fault {fault!r}: use one of {', '.join(FAULTS)}") from None
    choices = eligible(frame, spec, exclude)
    if column is None:
        if not choices or (spec.pair and len(choices) < 2):
            raise ConfigError(f"fault {fault!r} has no column to hit in this table")
        column = choices[int(rng.integers(len(choices)))]
    if spec.pair:
        others = [c for c in choices if c != column]
        other = others[int(rng.integers(len(others)))]
        return swapped_columns(frame, column, rng, other), (column, other)
    return spec.apply(frame, column, rng), (column,)
