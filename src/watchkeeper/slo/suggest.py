"""Suggested SLOs, learned from stored summaries and validated on held-out partitions.

The newest ``holdout`` partitions are kept out of learning. Every suggestion is
then judged on them from their stored summaries (min, max, null fraction, top
values, row count are exact), and dropped if it would have failed: a spec that
fails on recent clean data is noise. The result is YAML for review; nothing is
applied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..errors import ConfigError
from ..store import Store
from .spec import Check, TableSLO

_NUMERIC = {"numeric", "float"}
_COMPLETE = 0.999  # top values covering this share of non-NULL rows are the whole set


@dataclass
class Suggestion:
    """The proposed checks, and those dropped because a held-out partition broke them."""

    spec: TableSLO
    learned_from: list[pd.Timestamp]
    held_out: list[pd.Timestamp]
    dropped: list[tuple[Check, str]] = field(default_factory=list)

    def to_yaml(self) -> str:
        fmt = lambda p: p.date().isoformat()  # noqa: E731
        lines = [f"# Suggested by wk suggest from {len(self.learned_from)} partitions "
                 f"({fmt(self.learned_from[0])} to {fmt(self.learned_from[-1])}), validated on "
                 f"{len(self.held_out)} held-out partitions. Review before use."]
        lines += [f"# dropped {c.name}: {why}" for c, why in self.dropped]
        return "\n".join(lines) + "\n" + self.spec.to_yaml()


def suggest(store: Store, table: str, *, holdout: int = 3, margin: float = 0.1,
            max_set: int = 10) -> Suggestion:
    stats = store.load_statistics(table)
    partitions = sorted(stats["partition"].unique())
    if len(partitions) < holdout + 2:
        raise ConfigError(f"table {table!r} has {len(partitions)} profiled partitions; "
                          f"suggestions need at least {holdout + 2} (2 to learn, {holdout} held "
                          "out): profile more history, or pass --holdout with a smaller number")
    cut = len(partitions) - holdout
    learn, held = partitions[:cut], partitions[cut:]
    wide = stats.pivot_table(index=["column", "partition"], columns="statistic", values="value",
                             aggfunc="first", dropna=False)
    tops = store.load_top_values(table)
    columns = store.columns(table)
    candidates = [_schema(columns), _row_count(wide, learn, margin)]
    for col, kind, dtype in columns.itertuples(index=False, name=None):
        if col not in wide.index.get_level_values(0):
            continue
        per = wide.loc[col]
        candidates.append(_not_null(col, per, learn))
        if kind in _NUMERIC:
            candidates.append(_range(col, per, learn, margin, dtype))
        if kind == "string":
            candidates.append(_in_set(col, tops, learn, max_set))
    out = Suggestion(TableSLO(table), list(learn), list(held))
    for check in filter(None, candidates):
        why = _fails_on(check, wide, tops, held)
        if why:
            out.dropped.append((check, why))
        else:
            out.spec.add_check(check)
    return out


# -- learning ------------------------------------------------------------------
def _schema(columns: pd.DataFrame) -> Check | None:
    if columns.empty:
        return None
    return Check.from_dict({"kind": "schema", "columns": dict(zip(columns["column"],
                                                                   columns["kind"]))})


def _values(per: pd.DataFrame, stat: str, partitions) -> pd.Series:
    if stat not in per.columns:
        return pd.Series(dtype="float64")
    return per.reindex(partitions)[stat].dropna()


def _row_count(wide: pd.DataFrame, learn, margin: float) -> Check | None:
    if "*" not in wide.index.get_level_values(0):
        return None
    counts = _values(wide.loc["*"], "row_count", learn)
    if counts.empty:
        return None
    lo, hi = counts.min(), counts.max()
    return Check.from_dict({"kind": "row_count", "min": int(math.floor(lo * (1 - margin))),
                            "max": int(math.ceil(hi * (1 + margin)))})


def _not_null(col: str, per: pd.DataFrame, learn) -> Check | None:
    nulls = _values(per, "null_fraction", learn)
    if nulls.empty or nulls.max() > 0:
        return None
    return Check.from_dict({"kind": "not_null", "column": col})


def _range(col: str, per: pd.DataFrame, learn, margin: float, dtype: str) -> Check | None:
    lows, highs = _values(per, "min", learn), _values(per, "max", learn)
    if lows.empty or highs.empty:
        return None
    lo, hi = float(lows.min()), float(highs.max())
    span = (hi - lo) or abs(hi) or 1.0
    new_lo, new_hi = lo - margin * span, hi + margin * span
    if lo >= 0 > new_lo:
        new_lo = 0.0  # a column that was never negative should not start now
    if "int" in dtype:
        new_lo, new_hi = math.floor(new_lo), math.ceil(new_hi)
    else:
        new_lo, new_hi = _round(new_lo, span), _round(new_hi, span)
    return Check.from_dict({"kind": "between", "column": col, "min": new_lo, "max": new_hi})


def _round(value: float, span: float) -> float:
    digits = max(0, 3 - int(math.floor(math.log10(span)))) if span > 0 else 3
    return round(value, digits)


def _in_set(col: str, tops: pd.DataFrame, learn, max_set: int) -> Check | None:
    mine = tops[(tops["column"] == col) & tops["partition"].isin(learn)]
    if mine.empty:
        return None
    covered = mine.groupby("partition")["ratio"].sum()
    values = sorted(set(mine["value"].dropna()))
    if len(covered) < len(learn) or covered.min() < _COMPLETE or len(values) > max_set:
        return None  # the top values are not the whole set, or the set is not small
    return Check.from_dict({"kind": "in_set", "column": col, "values": values})


# -- validation on held-out partitions -------------------------------------------
def _fails_on(check: Check, wide: pd.DataFrame, tops: pd.DataFrame, held) -> str | None:
    """Why ``check`` would fail on a held-out partition, judged from its summaries."""
    for p in held:
        fmt = p.date().isoformat()
        if check.kind == "row_count":
            n = _stat(wide, "*", p, "row_count")
            if n is None or not check.params["min"] <= n <= check.params["max"]:
                return f"{fmt} has {n} rows"
        elif check.kind == "not_null":
            share = _stat(wide, check.column, p, "null_fraction")
            if share:
                return f"{fmt} has {share:.2%} NULLs"
        elif check.kind == "between":
            lo, hi = _stat(wide, check.column, p, "min"), _stat(wide, check.column, p, "max")
            if lo is not None and (lo < check.params["min"] or hi > check.params["max"]):
                return f"{fmt} ranges {lo:g} to {hi:g}"
        elif check.kind == "in_set":
            mine = tops[(tops["column"] == check.column) & (tops["partition"] == p)]
            unknown = set(mine["value"].dropna()) - set(check.params["values"])
            if unknown or (not mine.empty and mine["ratio"].sum() < _COMPLETE):
                return f"{fmt} has other values ({', '.join(sorted(unknown)[:3]) or 'rare ones'})"
    return None


def _stat(wide: pd.DataFrame, column: str, partition, stat: str):
    try:
        value = wide.loc[(column, partition), stat]
    except KeyError:
        return None
    return None if pd.isna(value) else float(value)
