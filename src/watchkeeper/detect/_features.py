"""Derived statistics the detector adds to the summary history before judging it.

Each becomes one more series of the grid, so the learned normal, the floors and the
verdicts treat it like any summary statistic (kind "fraction": binomial floor on the
column's non-null rows).

- ``uniqueness`` = distinct_count / non_null_count, from one partition's own
  summaries (added on the grid: :func:`with_uniqueness`). Duplicated rows (a join
  fan-out, a double load) leave every
  distribution statistic unchanged; on a mostly-unique (id-like) column they
  lower this by the duplication factor. Judged only where it is expected to be
  at least :data:`ID_LIKE` (see ``_judge.not_id_like``): on a category column it
  only restates the row count.
- from the top values (``ProfileResult.top_values`` / ``Store.load_top_values``),
  against the ``level`` partitions before each one (causal, excluded partitions
  left out):

  - ``vanished_share``: the share of rows the *usual* values (listed in every one
    of those partitions) should have had but are missing from this partition's
    list: their median ratio when the list is complete (fewer than k values), else
    how far that median exceeds the smallest listed ratio (an unlisted value can
    hold at most that). A category folded into another vanishes whole.
  - ``new_share``: the share of rows held by listed values that none of those
    partitions listed (a default like "UNKNOWN" flooding a column).
"""

from __future__ import annotations

import warnings
from bisect import bisect_left

import numpy as np
import pandas as pd

ID_LIKE = 0.5
TABLE = "*"  # the table-level column (summaries.vocabulary.TABLE_COLUMN)
TOP_FEATURES = ("vanished_share", "new_share")
DERIVED = frozenset({"uniqueness", "null_gap", *TOP_FEATURES})
TOP_COLUMNS = ("partition", "column", "rank", "value", "ratio")


def with_uniqueness(grid):
    """``grid`` with a ``uniqueness`` series per ``distinct_count`` series (values filled in),
    and the table's own (column ``*``): the uniqueness of its most unique column.

    Computed on the grid (distinct count over its size, the column's non-null rows)
    rather than on the long frame: no pivot of millions of summary rows. A grid whose
    series already include them (``to_grid(..., series=...)`` of a fitted detector)
    gets their values filled in. A table has at least as many distinct rows as its most
    unique column has values, so duplicated rows lower the table's uniqueness by the
    duplication factor: a table-level fault is then named at the table (``*``), with
    the id column it shows in beside it.
    """
    from ._grid import Grid

    distinct = np.flatnonzero((grid.statistics == "distinct_count") & (grid.columns != TABLE))
    if distinct.size == 0:
        return grid
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.clip(grid.values[:, distinct] / grid.sizes[:, distinct], 0.0, 1.0)
    ratio = np.where(grid.sizes[:, distinct] > 0, ratio, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a partition with no values at all
        table = np.nanmax(ratio, axis=1, keepdims=True)
    where = {c: j for j, (c, s) in enumerate(zip(grid.columns, grid.statistics))
             if s == "uniqueness"}
    if where:
        values = grid.values.copy()
        for k, j in enumerate(distinct):
            if grid.columns[j] in where:
                values[:, where[grid.columns[j]]] = ratio[:, k]
        if TABLE in where:
            values[:, where[TABLE]] = table[:, 0]
        return Grid(grid.partitions, grid.columns, grid.statistics, values, grid.sizes,
                    grid.observed, grid.granularity)
    columns, statistics = grid.columns[distinct], ["uniqueness"] * distinct.size
    sizes = grid.sizes[:, distinct]
    # The table's own uniqueness (its most unique column's), first.
    rows = np.flatnonzero((grid.columns == TABLE) & (grid.statistics == "row_count"))
    # First of the new series: on a tie with its id column, the table is named first.
    columns = np.concatenate([np.array([TABLE], dtype=object), columns])
    statistics = ["uniqueness"] + statistics
    ratio = np.hstack([table, ratio])
    sizes = np.hstack([grid.sizes[:, rows[:1]] if rows.size else
                       np.nanmax(sizes, axis=1, keepdims=True), sizes])
    return Grid(grid.partitions, np.concatenate([grid.columns, columns]),
                np.concatenate([grid.statistics, np.array(statistics, dtype=object)]),
                np.hstack([grid.values, ratio]), np.hstack([grid.sizes, sizes]),
                grid.observed, grid.granularity)


# Two columns are null together when their null fractions are exactly equal on at least
# this share of the partitions where either has nulls (and on at least ``MIN_SHARED``).
CO_NULL_SHARE = 0.5
MIN_SHARED = 14


def null_partners(grid) -> dict[str, tuple[str, ...]]:
    """For each column, the columns it is null together with (same rows: a block of fields
    filled or missing as one, e.g. what an outer join did not find).

    Read from the null fractions of ``grid``: exactly equal on at least
    :data:`CO_NULL_SHARE` of the partitions where either has nulls. Equal counts day
    after day are the marginal signature of nulls on the same rows; columns merely
    correlated are not partners. Found by sorting each partition's null fractions
    (equal ones are adjacent), so it costs O(T K log K), not a pass per pair.
    """
    series = np.flatnonzero(grid.statistics == "null_fraction")
    if series.size < 2:
        return {}
    values = grid.values[grid.observed][:, series]
    present = np.isfinite(values) & (values > 0)
    varying = present.sum(axis=0) >= MIN_SHARED
    if varying.sum() < 2:
        return {}
    idx = np.flatnonzero(varying)
    block = np.where(present[:, idx], values[:, idx], np.nan)  # NaN sorts last, never equal
    order = np.argsort(block, axis=1, kind="stable")
    ranked = np.take_along_axis(block, order, axis=1)
    equal = ranked[:, 1:] == ranked[:, :-1]  # ties are adjacent once sorted
    pairs: dict[tuple[int, int], int] = {}
    for t in np.flatnonzero(equal.any(axis=1)):  # only partitions with a tie at all
        row, at = order[t], np.flatnonzero(equal[t])  # row[i] == row[i + 1] for i in at
        for run in np.split(at, np.flatnonzero(np.diff(at) > 1) + 1):
            group = np.sort(row[run[0]:run[-1] + 2])
            for a in range(len(group)):
                for b in range(a + 1, len(group)):
                    key = (int(group[a]), int(group[b]))
                    pairs[key] = pairs.get(key, 0) + 1
    if not pairs:
        return {}
    either = present[:, idx]
    out: dict[str, list[str]] = {}
    names = grid.columns[series][idx]
    for (a, b), equal in pairs.items():
        shared = int((either[:, a] | either[:, b]).sum())
        if equal >= MIN_SHARED and equal >= CO_NULL_SHARE * shared:
            out.setdefault(str(names[a]), []).append(str(names[b]))
            out.setdefault(str(names[b]), []).append(str(names[a]))
    return {c: tuple(sorted(p)) for c, p in out.items()}


def with_null_gaps(grid, partners: dict[str, tuple[str, ...]]):
    """``grid`` with a ``null_gap`` series per column that has null partners (values filled in).

    ``null_gap`` = the column's null fraction minus the median of its block's (itself and
    its partners). Nulls written into one field of a block (a bug in one mapping) move
    it by their share, while the day-to-day swings of the block (more stops of a kind
    that records no race or gender) cancel: the gap is as quiet as a row or two, so 10%
    nulls in one field is a clear change where its own null fraction swings by several
    points. In a
    block of three or more the median is an unaffected field's, so the other fields'
    gaps stay near 0 and the culprit is named (a pair splits the gap). Its noise
    floor is binomial (a fraction of the rows), its band is clipped to [-1, 1].
    """
    from ._grid import Grid

    if not partners:
        return grid
    where = {str(c): j for j, (c, s) in enumerate(zip(grid.columns, grid.statistics))
             if s == "null_fraction"}
    gaps, sizes, names = [], [], []
    for column, others in partners.items():
        if column not in where or not all(o in where for o in others):
            continue
        own = grid.values[:, where[column]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            block = np.nanmedian(grid.values[:, [where[column]] + [where[o] for o in others]],
                                 axis=1)
        gaps.append(own - block)
        sizes.append(grid.sizes[:, where[column]])
        names.append(column)
    if not names:
        return grid
    have = {str(c): j for j, (c, s) in enumerate(zip(grid.columns, grid.statistics))
            if s == "null_gap"}
    if have:
        values, rows = grid.values.copy(), grid.sizes.copy()
        for column, gap, size in zip(names, gaps, sizes):
            if column in have:
                values[:, have[column]] = gap
                rows[:, have[column]] = size
        return Grid(grid.partitions, grid.columns, grid.statistics, values, rows,
                    grid.observed, grid.granularity)
    return Grid(grid.partitions, np.concatenate([grid.columns, np.array(names, dtype=object)]),
                np.concatenate([grid.statistics,
                                np.array(["null_gap"] * len(names), dtype=object)]),
                np.hstack([grid.values, np.column_stack(gaps)]),
                np.hstack([grid.sizes, np.column_stack(sizes)]), grid.observed,
                grid.granularity)


def check_top_values(top_values) -> pd.DataFrame | None:
    """The top-value frame, checked; None when there is none."""
    from ._grid import checked_frame

    if top_values is None:
        return None
    frame = checked_frame(top_values, TOP_COLUMNS, "top_values",
                          "ProfileResult.top_values or Store.load_top_values(...)")
    frame["ratio"] = pd.to_numeric(frame["ratio"], errors="coerce").astype("float64")
    frame["value"] = frame["value"].astype(str).where(frame["value"].notna(), "\x00null")
    return frame


def top_features(tops: pd.DataFrame, judge: pd.DatetimeIndex, excluded: pd.DatetimeIndex,
                 level: int) -> pd.DataFrame:
    """``vanished_share`` and ``new_share`` of every partition in ``judge``.

    Each uses only the ``level`` partitions of ``tops`` before it that are not
    ``excluded`` (confirmed bad), and is absent until there are that many.
    """
    rows: list[tuple] = []
    if tops is None or tops.empty or level < 1:
        return pd.DataFrame(rows, columns=["partition", "column", "statistic", "value"])
    k = int(tops["rank"].max())
    judge = set(pd.DatetimeIndex(judge))
    bad = set(pd.DatetimeIndex(excluded))
    lists: dict = {}
    for p, column, value, ratio in tops[["partition", "column", "value", "ratio"]].itertuples(
            index=False, name=None):
        lists.setdefault(column, {}).setdefault(p, {})[value] = ratio
    for column, by_part in lists.items():
        order = sorted(by_part)
        learn = [p for p in order if p not in bad]
        for p in order:
            if p not in judge:
                continue
            prior = learn[max(0, bisect_left(learn, p) - level):bisect_left(learn, p)]
            if len(prior) < level:
                continue
            shares = _shares(by_part[p], [by_part[q] for q in prior], k)
            rows.extend((p, column, s, v) for s, v in shares)
    return pd.DataFrame(rows, columns=["partition", "column", "statistic", "value"])


def _shares(now: dict, prior: list[dict], k: int) -> tuple[tuple[str, float], ...]:
    usual = set(prior[0]).intersection(*prior[1:])
    ever = set().union(*prior)
    complete = len(now) < k
    floor = 0.0 if complete or not now else min(now.values())
    vanished = sum(max(0.0, float(np.median([d[v] for d in prior])) - floor)
                   for v in usual if v not in now)
    new = sum(r for v, r in now.items() if v not in ever)
    return (("vanished_share", min(1.0, vanished)), ("new_share", min(1.0, float(new))))


def poisson_capped(statistics: np.ndarray, values: np.ndarray, sizes: np.ndarray,
                   z: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A top-value share scores at most the Poisson evidence of its rows: sqrt(2 n share).

    Both shares are usually 0, so their binomial floor is about 1 / n and a share s
    would score n s, the expected row count. But a value expected ``lam`` times that
    is absent (or new) is a Poisson event with deviance 2 lam, and a 4% category of
    140 rows (lam about 6) drops out now and then by chance. The signed root of that
    deviance is the score it deserves; several values add their deviances.
    """
    series = np.flatnonzero(np.isin(statistics, TOP_FEATURES))
    if series.size == 0:
        return z
    z = z.copy()
    with np.errstate(invalid="ignore"):
        cap = np.sqrt(2.0 * np.nan_to_num(sizes[rows][:, series] * values[rows][:, series]))
    z[rows[:, None], series[None, :]] = np.fmin(z[rows][:, series], cap)
    return z
