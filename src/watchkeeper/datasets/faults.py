"""Fault injection: realistic breakages applied to the raw rows of one partition.

Each fault is declared once in :data:`FAULTS` with the columns it can hit; its
strength is drawn from a documented range with the caller's random generator, so
a benchmark run is reproducible from its seed. The benchmark then re-profiles the
corrupted rows through :func:`watchkeeper.profile`, as production would.

Some faults hide inside natural variance on purpose (a x0.5 or x1.3 conversion, a
partial load of 50-80% of the rows, a few duplicated rows, nulls added to an
often-null column): they measure whether a detector finds faults that a wide band
lets through. :data:`LOCKBOX_FAULTS` names the fault types the detector's design never
looks at (benchmarks/detection/LOCKBOX.md); they are reported apart.
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
    targets: str  # which columns it can hit (see ``eligible``): any, numeric, nonneg, float,
    # string, category, timestamp, table, scalable, often_null, long_string, cased_category,
    # roundable
    description: str
    apply: Callable[[pd.DataFrame, str, np.random.Generator], pd.DataFrame]
    pair: bool = False  # hits two columns at once (the second is drawn from the same kind)
    needs_previous: bool = False  # takes the previous partition's rows (``previous=``)


def _rows(frame: pd.DataFrame, rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """A random subset of row positions, a fraction in [low, high] of the partition."""
    k = max(1, int(round(len(frame) * rng.uniform(low, high))))
    return rng.choice(len(frame), size=min(k, len(frame)), replace=False)


def _set(frame: pd.DataFrame, column: str, rows: np.ndarray, value) -> pd.DataFrame:
    out = frame.copy()
    values = out[column].copy()
    if value is None and values.dtype.kind in "bi":  # NULLs need a nullable dtype
        values = values.astype("boolean" if values.dtype.kind == "b" else "Int64")
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


def scale_half(frame, column, rng):
    """A currency or unit conversion applied twice (or once too many): every value x 0.5."""
    return frame.assign(**{column: frame[column].astype(float) * 0.5})


def scale_1_3(frame, column, rng):
    """A conversion at a wrong rate (EUR written as USD, say): every value x 1.3."""
    return frame.assign(**{column: frame[column].astype(float) * 1.3})


def partial_load_mild(frame, column, rng):
    """An interrupted load that lost a random 20-50% of the rows (50-80% landed).

    Hides in tables whose volume varies by +-40-60% from one partition to the next."""
    keep = np.sort(_rows(frame, rng, 0.5, 0.8))
    return frame.iloc[keep].reset_index(drop=True)


def more_nulls(frame, column, rng):
    """A join or parse that fails on more rows: a column already >= 20% NULL gets 10-20
    more percentage points of NULLs (its non-NULL rows are the ones hit)."""
    present = np.flatnonzero(frame[column].notna().to_numpy())
    k = int(round(len(frame) * rng.uniform(0.10, 0.20)))
    rows = rng.choice(present, size=min(max(1, k), len(present)), replace=False)
    return _set(frame, column, rows, None)


def duplicated_few(frame, column, rng):
    """A retried micro-batch: 5-15% of the rows arrive twice (at least one row)."""
    return pd.concat([frame, frame.iloc[_rows(frame, rng, 0.05, 0.15)]], ignore_index=True)


def default_zero(frame, column, rng):
    """A failed lookup written as 0 (``COALESCE(x, 0)``): 10-30% of the values become 0."""
    return _set(frame, column, _rows(frame, rng, 0.1, 0.3), 0)


def string_truncated(frame, column, rng):
    """A narrower VARCHAR downstream: strings cut to 40-80% of the column's longest value
    (at least 2 characters)."""
    values = frame[column]
    longest = int(values.dropna().astype(str).str.len().max() or 0)
    width = max(2, int(longest * rng.uniform(0.4, 0.8)))
    return frame.assign(**{column: values.str.slice(0, width)})


def stale_reload(frame, column, rng, previous: pd.DataFrame | None = None,
                 partition_column: str | None = None, shift: pd.Timedelta | None = None):
    """A rerun that reloaded the previous partition's file: the partition holds a copy of
    the previous partition's rows, re-dated (only the partition column moves, by ``shift``,
    the distance from the previous partition's start to this one's; other timestamps keep
    their stale values)."""
    if previous is None or len(previous) == 0 or partition_column is None or shift is None:
        raise ConfigError("fault 'stale_reload' needs the previous partition's rows: "
                          "pass previous=, shift= and partition_column=")
    offset = shift
    out = previous.copy()
    out[partition_column] = out[partition_column] + offset
    return out.reset_index(drop=True)


def case_changed(frame, column, rng):
    """An upstream re-encoding: a category column's values in upper case."""
    return frame.assign(**{column: frame[column].str.upper()})


def rounded(frame, column, rng):
    """Precision loss: a numeric column rounded to one significant digit."""
    values = frame[column].astype(float)
    return frame.assign(**{column: _one_significant_digit(values)})


def _one_significant_digit(values: pd.Series) -> pd.Series:
    v = values.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.where(np.isfinite(v) & (v != 0),
                             10.0 ** np.floor(np.log10(np.abs(np.where(v == 0, 1, v)))), 1.0)
    return pd.Series(np.round(v / magnitude) * magnitude, index=values.index)


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
    # Faults that hide inside natural variance.
    Fault("scale_half", "scalable", "a numeric column x 0.5 (currency conversion)", scale_half),
    Fault("scale_1_3", "scalable", "a numeric column x 1.3 (wrong conversion rate)", scale_1_3),
    Fault("partial_load_mild", "table", "a random 50-80% of the rows loaded",
          partial_load_mild),
    Fault("more_nulls", "often_null", "+10-20 points of NULLs in a column already >= 20% NULL",
          more_nulls),
    Fault("duplicated_few", "table", "5-15% of the rows loaded twice (retried batch)",
          duplicated_few),
    Fault("default_zero", "scalable", "10-30% of a numeric column's values written as 0",
          default_zero),
    Fault("string_truncated", "long_string", "strings cut to 40-80% of the longest value",
          string_truncated),
    # Lockbox fault types (benchmarks/detection/LOCKBOX.md).
    Fault("stale_reload", "table", "the previous partition's rows reloaded, re-dated",
          stale_reload, needs_previous=True),
    Fault("case_changed", "cased_category", "a category column's values in upper case",
          case_changed),
    Fault("rounded", "roundable", "a numeric column rounded to one significant digit",
          rounded),
)}

LOCKBOX_FAULTS = ("stale_reload", "case_changed", "rounded")
OFTEN_NULL = 0.20  # a column at least this NULL is "often null" (more_nulls)


def eligible(frame: pd.DataFrame, fault: Fault, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns of ``frame`` this fault can hit (``*`` for table-level faults).

    The rules, by ``Fault.targets``: ``any`` a column with a value; ``numeric`` a
    non-boolean numeric column with a value; ``nonneg`` numeric, never negative, some
    positive; ``float`` floating with a fractional value; ``string`` text with >= 2
    distinct values; ``category`` text with a second category of >= 5% of the rows;
    ``timestamp`` a timestamp column; ``scalable`` numeric with a non-zero value;
    ``often_null`` 20-90% NULL (any type); ``long_string`` text with >= 2 distinct values,
    the longest >= 4 characters; ``cased_category`` a category with a lower-case letter;
    ``roundable`` numeric with a value that one significant digit changes; ``table`` the
    whole partition (``*``). The partition column (``exclude``) is never hit.
    """
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
            # numeric with non-zero values: a rescaling or a default 0 changes something
            "scalable": numeric and (s.dropna() != 0).any(),
            # 20-90% NULL: room for 10 more points
            "often_null": OFTEN_NULL <= s.isna().mean() <= 0.9,
            "long_string": _is_string(s) and s.dropna().nunique() >= 2
            and int(s.dropna().astype(str).str.len().max() or 0) >= 4,
            "cased_category": _is_string(s) and len(_merge_candidates(s)) > 0
            and (s.dropna().astype(str).str.upper() != s.dropna().astype(str)).any(),
            "roundable": numeric and s.notna().any()
            and not np.allclose(_one_significant_digit(s.dropna().astype(float)),
                                s.dropna().astype(float), equal_nan=True),
        }[fault.targets]
        if ok:
            out.append(column)
    return out


def _is_string(s: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(s) or s.dtype == object


def inject(frame: pd.DataFrame, fault: str, rng: np.random.Generator, *,
           column: str | None = None, exclude: tuple[str, ...] = (),
           previous: pd.DataFrame | None = None, partition_column: str | None = None,
           shift: pd.Timedelta | None = None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Corrupt one partition's rows; returns the rows and the column(s) hit (``*`` for table).

    ``exclude`` names columns never to touch (the partition column). ``previous`` (the
    previous partition's rows), ``partition_column`` and ``shift`` (from the previous
    partition's start to this one's) are for faults that need them (``stale_reload``); a
    fault that needs them and lacks them raises ``ConfigError``.
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
    if spec.needs_previous:
        return spec.apply(frame, column, rng, previous=previous,
                          partition_column=partition_column, shift=shift), (column,)
    return spec.apply(frame, column, rng), (column,)
