"""Turn the engine's raw aggregate states into the public statistics.

Fractions are derived here, in Python, from counts: the engine only counts,
which keeps states mergeable and the engines' results comparable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from ..engine.types import ColumnInfo, Granularity, Kind
from .vocabulary import QUANTILES, TABLE_COLUMN


def _num(value) -> float | None:
    if value is None or value is pd.NaT:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _ratio(part, whole) -> float | None:
    part, whole = _num(part), _num(whole)
    if part is None or not whole:
        return None
    return part / whole


def _epoch(value) -> float | None:
    if value is None or value is pd.NaT:
        return None
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        return None
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return (ts - pd.Timestamp(0)).total_seconds()


def column_statistics(info: ColumnInfo, states: dict, row_count: int, partition: pd.Timestamp,
                      grain: Granularity, top_count: int | None) -> dict[str, float | None]:
    """All statistics of one column in one partition, keyed by vocabulary name.

    ``top_count`` is the count of the most frequent value, from the value-count
    query, when it ran (string columns).
    """
    nn = _num(states.get("non_null")) or 0.0
    out: dict[str, float | None] = {
        "non_null_count": nn,
        "null_fraction": _ratio(row_count - nn, row_count),
    }
    kind = info.kind
    if kind in (Kind.NUMERIC, Kind.FLOAT):
        if kind is Kind.FLOAT:
            out["nan_count"] = _num(states["nan"])
            out["posinf_count"] = _num(states["posinf"])
            out["neginf_count"] = _num(states["neginf"])
            out["integral_fraction"] = _ratio(states["integral"], nn)
        for name in ("mean", "std", "min", "max"):
            out[name] = _num(states[name])
        quantiles = states.get("quantiles")
        values = list(quantiles) if quantiles is not None and not _isna(quantiles) else []
        for i, name in enumerate(QUANTILES):
            out[name] = _num(values[i]) if i < len(values) else None
        out["zero_fraction"] = _ratio(states["zeros"], nn)
        out["negative_fraction"] = _ratio(states["negatives"], nn)
        out["distinct_count"] = _num(states["distinct"])
    elif kind is Kind.STRING:
        out["empty_fraction"] = _ratio(states["empty"], nn)
        out["distinct_count"] = _num(states["distinct"])
        out["top_ratio"] = _ratio(top_count, nn)
        out["length_mean"] = _num(states["length_mean"])
        out["length_min"] = _num(states["length_min"])
        out["length_max"] = _num(states["length_max"])
    elif kind is Kind.BOOLEAN:
        out["true_fraction"] = _ratio(states["trues"], nn)
    elif kind is Kind.TEMPORAL:
        low, high = _epoch(states["min"]), _epoch(states["max"])
        out["min"], out["max"] = low, high
        end = _epoch(partition + grain.offset)
        out["lag_seconds"] = None if high is None else end - high
    return out


def _isna(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def long_frame(records: Iterable[dict], columns: Sequence[ColumnInfo], grain: Granularity,
               top_count: dict[tuple[str, pd.Timestamp], int]) -> pd.DataFrame:
    """The statistics of every partition record as ``partition, column, statistic, value``."""
    rows: list[tuple] = []
    for record in records:
        partition, n = record["partition"], record["row_count"]
        rows.append((partition, TABLE_COLUMN, "row_count", float(n)))
        if "duplicate_fraction" in record:
            rows.append((partition, TABLE_COLUMN, "duplicate_fraction",
                         record["duplicate_fraction"]))
        for info in columns:
            states = record["states"].get(info.name)
            if not states:  # the column failed in this partition's batch (a notice says so)
                continue
            stats = column_statistics(info, states, n, partition, grain,
                                      top_count.get((info.name, partition)))
            rows.extend((partition, info.name, name, value) for name, value in stats.items())
    return pd.DataFrame(rows, columns=["partition", "column", "statistic", "value"])


def top_value_frame(top: pd.DataFrame, non_null: dict[tuple[str, pd.Timestamp], float]
                    ) -> pd.DataFrame:
    """Rank and normalise the engine's top-k counts into occurrence ratios."""
    if top.empty:
        return pd.DataFrame(columns=["partition", "column", "rank", "value", "ratio"])
    top = top.sort_values(["column", "partition", "count", "value"],
                          ascending=[True, True, False, True], ignore_index=True)
    top["rank"] = top.groupby(["column", "partition"]).cumcount() + 1
    denominators = [non_null.get((c, p)) or float("nan") for c, p in zip(top["column"],
                                                                         top["partition"])]
    top["ratio"] = top["count"] / pd.Series(denominators, dtype="float64")
    return top[["partition", "column", "rank", "value", "ratio"]]
