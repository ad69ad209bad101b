"""Fault or shift: the cause class of an anomalous partition.

- **fault** (a likely engineering fault) pages. Its signs: rows lost (a partial load),
  or an integrity statistic moved (nulls, duplicates, new or vanished categories,
  NaNs, empty strings, a change of format such as integral values or string lengths),
  or the anomaly sits in fewer than ``shift_columns`` columns (a unit change, pinned
  values, a swapped pair): a change nothing else explains pages.
- **shift** (a real-world shift): ``shift_columns`` or more columns moved at once with
  no sign of a fault, as a storm moves visibility, precipitation and their null
  fractions together; or more rows and nothing else (a burst of activity), unless the
  table's duplicate fraction rose beyond noise with them (a double load does, a burst of
  activity does not, however little it pages). Recorded as info.
- **shift of shape**: only quantiles moved, the column's mean, spread, extremes and
  integrity statistics did not: a group of rows sharing one value (a group booking in
  a partition of 30 rows), a small partition's median stepping to the next value. A
  fault that rewrites values (a unit or scale change, truncation, defaults) moves the
  mean or the spread with them. Recorded as info.
- **shift by co-movement**: the anomalous statistics of ``shift_columns`` or more
  columns moved together, as they did together before (:func:`co_moved`): a storm
  moves precipitation, visibility and the null fraction of the gust sensor, as earlier
  storms did. A statistic in that pattern is explained, integrity statistic or not, up
  to :data:`CO_REACH` times as far as it moved in the earlier partitions; what the
  pattern does not explain is judged by the rules above. Duplicated rows are never
  explained so: no storm or burst writes a row twice, while an earlier double load
  would make the next one look familiar.
- **calendar**: a holiday or its eve, with no integrity statistic moved. Recorded as
  info.

The rules are the detector's documented parameters (``shift_columns``,
``page_shifts``), with their evidence in docs/alerts.md.
"""

from __future__ import annotations

import numpy as np

FAULT = "fault"
SHIFT = "shift"
CALENDAR = "calendar"

# Statistics whose anomaly is a sign of an engineering fault whatever else moved. Not a
# column's uniqueness: a burst of related rows (many ratings of one film) lowers it too,
# while duplicated rows move ``duplicate_fraction``, which no natural burst does.
INTEGRITY = frozenset({
    "null_fraction", "null_gap", "duplicate_fraction", "nan_count",
    "posinf_count", "neginf_count", "new_share", "vanished_share", "empty_fraction",
    "integral_fraction", "length_min", "length_max", "length_mean",
})
TABLE = "*"
QUANTILES = frozenset({"p01", "p05", "p25", "p50", "p75", "p95", "p99"})


def cause_of(hot: list[tuple[str, str, int]], calendar_day: bool, shift_columns: int,
             duplicates_rose: bool = False) -> str:
    """The cause class of a partition whose anomalous (column, statistic, direction)
    triples are ``hot`` (direction: +1 above its band, -1 below). ``duplicates_rose``:
    the table's duplicate fraction rose beyond noise (as far as an info), paging or not."""
    integrity = any(s in INTEGRITY for _, s, _ in hot)
    if calendar_day:
        return FAULT if integrity else CALENDAR
    if integrity:
        return FAULT
    if any(c == TABLE and s == "row_count" and d < 0 for c, s, d in hot):
        return FAULT  # rows missing: a partial load
    others = [(c, s) for c, s, _ in hot if c != TABLE]
    if not others:  # more rows and nothing else: a burst of activity, or a double load
        return FAULT if duplicates_rose else SHIFT
    if all(s in QUANTILES for _, s in others):
        return SHIFT  # the shape of the values moved, nothing that rewrites them did
    return SHIFT if len({c for c, _ in others}) >= shift_columns else FAULT


CO_REACH = 2.0  # a familiar pattern explains a statistic up to twice as far as it went
CO_SEEN = 2  # earlier partitions with the pattern that make it familiar
CO_WINDOWS = 4  # patterns are looked for in the 4 windows before (storms are rare)
MOVED = 3.0  # a score (noise units) beyond noise: the statistic moved


NEVER_FAMILIAR = ("duplicate_fraction",)  # statistics no pattern of co-movement explains


def co_moved(z: np.ndarray, judged: np.ndarray, row: int, hot: np.ndarray,
             columns: np.ndarray, statistics: np.ndarray, window: int,
             shift_columns: int) -> np.ndarray:
    """Per series of ``hot`` (anomalous in row ``row``): is it explained by a pattern of
    co-movement the table showed before? The hot series' columns must number at least
    ``shift_columns``; a pattern partition is a judged one of the :data:`CO_WINDOWS`
    windows of ``window`` partitions before, in
    which at least ``shift_columns`` of those columns moved (some statistic beyond
    :data:`MOVED`); with :data:`CO_SEEN` of them, each hot series is explained if it
    scores at most :data:`CO_REACH` times its largest score in them (and moved in one)."""
    out = np.zeros(len(hot), dtype=bool)
    names = columns[hot]
    wanted = [c for c in dict.fromkeys(names.tolist())]
    if len(wanted) < shift_columns:
        return out
    lo = max(0, row - CO_WINDOWS * window)
    past = np.flatnonzero(judged[lo:row]) + lo
    if past.size < CO_SEEN:
        return out
    moved = np.stack([(z[past][:, columns == c] > MOVED).any(axis=1) for c in wanted], axis=1)
    pattern = past[moved.sum(axis=1) >= shift_columns]
    if pattern.size < CO_SEEN:
        return out
    reach = z[pattern][:, hot].max(axis=0)
    return (reach > MOVED) & (z[row, hot] <= CO_REACH * reach) & ~np.isin(statistics[hot],
                                                                         NEVER_FAMILIAR)
