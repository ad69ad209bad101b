"""The summary history as a regular time grid: one row per partition, one column per series.

Detectors see only the long frame ``partition, column, statistic, value`` that
:func:`watchkeeper.profile` and :meth:`Store.load_statistics` produce. Here it
becomes a ``(partitions, series)`` array on a *regular* grid (a missing day is a
row of NaN), so that "the same weekday last week" is always 7 rows back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.types import Granularity
from ..errors import ConfigError
from ..summaries.vocabulary import TABLE_COLUMN

# How each statistic behaves; decides its noise floor and whether small
# partitions widen its band. Statistics missing here are scored as "location".
COUNTS = frozenset({"row_count", "distinct_count", "length_min", "length_max", "nan_count",
                    "posinf_count", "neginf_count"})
# Set by one row: a single odd value moves them arbitrarily far. See _judge.uncorroborated.
EXTREME_PAIRS = (("min", "max"), ("length_min", "length_max"))
SINGLE_ROW = frozenset(s for pair in EXTREME_PAIRS for s in pair)
# What else one odd row moves: the moments. Quantiles, fractions and counts stay put.
OUTLIER_SENSITIVE = SINGLE_ROW | {"mean", "std", "length_mean"}
FRACTIONS = frozenset({"null_fraction", "zero_fraction", "negative_fraction", "empty_fraction",
                       "top_ratio", "true_fraction", "integral_fraction",
                       # derived by the detector (_features.py)
                       "uniqueness", "vanished_share", "new_share", "null_gap",
                       # rows repeating another row (or key) / rows, if the engine adds it
                       "duplicate_fraction"})
# Counts the engine computes exactly (row_count always; distinct_count on DuckDB and
# Postgres for strings and integers). One that never varied is a design invariant:
# see _judge.constant_counts.
EXACT_COUNTS = frozenset({"row_count", "distinct_count"})
EXTREMES = frozenset({"min", "max", "lag_seconds"})
# Not scored: non_null_count is row_count x (1 - null_fraction), both already scored;
# scoring it again would blame every column when the table loses rows.
NOT_SCORED = frozenset({"non_null_count"})

KIND_CODES = {"count": 0, "fraction": 1, "location": 2, "extreme": 3}


def statistic_kind(statistic: str) -> str:
    if statistic in COUNTS:
        return "count"
    if statistic in FRACTIONS:
        return "fraction"
    if statistic in EXTREMES:
        return "extreme"
    return "location"


REQUIRED = ("partition", "column", "statistic", "value")


@dataclass
class Grid:
    """Values ``(T, S)``, sample sizes ``(T, S)`` and what each series is."""

    partitions: pd.DatetimeIndex
    columns: np.ndarray      # (S,) column name per series
    statistics: np.ndarray   # (S,) statistic name per series
    values: np.ndarray       # (T, S) float64, NaN where unknown
    sizes: np.ndarray        # (T, S) rows behind each value (row_count or non_null_count)
    observed: np.ndarray     # (T,) bool: the partition exists in the history
    granularity: Granularity

    @property
    def kinds(self) -> np.ndarray:
        return np.array([KIND_CODES[statistic_kind(s)] for s in self.statistics], dtype=np.int8)


def checked_frame(frame, columns: tuple[str, ...], what: str, source: str) -> pd.DataFrame:
    """A copy of ``frame``'s ``columns`` with naive-UTC partitions; a user mistake raises
    ConfigError naming the fix (``source`` says where the right frame comes from)."""
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(f"{what} must be a DataFrame with columns {', '.join(columns)} "
                          f"({source})")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(f"{what} lacks column(s) {', '.join(missing)}: pass {source}")
    # A shallow copy: columns are replaced below, never written into (the caller's frame
    # stays as it was), and 13 million summary rows are not copied for nothing.
    out = frame[list(columns)].copy(deep=False)
    if not pd.api.types.is_datetime64_any_dtype(out["partition"]):  # else a no-op, 0.2 s
        out["partition"] = pd.to_datetime(out["partition"])
    if out["partition"].dt.tz is not None:
        out["partition"] = out["partition"].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def check_history(history) -> pd.DataFrame:
    """Validate the long frame; a user mistake raises ConfigError naming the fix."""
    frame = checked_frame(history, REQUIRED, "the summary history",
                          "ProfileResult.statistics or Store.load_statistics(...)")
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    return frame


def infer_granularity(partitions: pd.DatetimeIndex) -> Granularity:
    """The partition size, from the smallest gap between partitions (day if unknown)."""
    if len(partitions) < 2:
        return Granularity.DAY
    gap = pd.Series(partitions).diff().dropna().min()
    if gap <= pd.Timedelta(hours=1):
        return Granularity.HOUR
    if gap < pd.Timedelta(days=7):
        return Granularity.DAY
    return Granularity.WEEK


# A table with partitions on fewer than half of its calendar steps is sparse: its grid holds
# the partitions it has, one row each, with no empty steps between them.
SPARSE = 0.5


def regular_index(partitions, grain: Granularity) -> pd.DatetimeIndex:
    """Every partition from the first to the last, with none skipped."""
    partitions = pd.DatetimeIndex(sorted(set(partitions)))
    if len(partitions) == 0:
        return partitions
    grid = pd.date_range(partitions[0], partitions[-1], freq=grain.offset)
    # Partitions off the grid (e.g. weeks not starting on the same weekday) are kept as-is.
    return grid.union(partitions)


def to_grid(history: pd.DataFrame, grain: Granularity | None = None,
            series: tuple[np.ndarray, np.ndarray] | None = None, checked: bool = False) -> Grid:
    """Place a long frame on the regular grid; ``series`` fixes the series order.

    Built with integer codes rather than a pivot: a history of 1,000 columns x 730
    partitions is 13 million rows, and this keeps it to a few seconds.
    """
    frame = history if checked else check_history(history)
    part_codes, parts = pd.factorize(frame["partition"], sort=True)
    col_codes, col_names = pd.factorize(frame["column"])
    stat_codes, stat_names = pd.factorize(frame["statistic"])
    observed_parts = pd.DatetimeIndex(parts)
    grain = grain or infer_granularity(observed_parts)
    index = regular_index(observed_parts, grain)
    if len(observed_parts) < SPARSE * len(index):
        # Partitions only now and then (survey weeks, storm weeks): every window and count
        # of the model is in partitions that exist, not in calendar steps that mostly don't.
        index = observed_parts
    rows = index.get_indexer(observed_parts)[part_codes]
    pair = col_codes.astype(np.int64, copy=False) * len(stat_names) + stat_codes
    col_names, stat_names = np.asarray(col_names, dtype=object), np.asarray(stat_names, dtype=object)
    if series is None:
        present = np.flatnonzero(np.bincount(pair, minlength=1))  # np.unique(pair), in O(n)
        cols, stats = col_names[present // len(stat_names)], stat_names[present % len(stat_names)]
        keep = ~np.isin(stats, list(NOT_SCORED))
        order = np.lexsort((stats[keep].astype(str), cols[keep].astype(str)))
        cols, stats = cols[keep][order], stats[keep][order]
    else:
        cols, stats = series
    lookup = _pair_lookup(col_names, stat_names)
    non_null = {c: lookup.get((c, "non_null_count"), -1) for c in set(cols)}
    nn_cols = list(non_null)
    wanted = [lookup.get((c, s), -1) for c, s in zip(cols, stats)]
    row_code = lookup.get((TABLE_COLUMN, "row_count"), -1)
    nn_codes = [non_null[c] for c in nn_cols]
    # One pass over the long frame for all three (a pair code may be wanted more than once).
    codes = sorted({c for c in [*wanted, row_code, *nn_codes] if c >= 0})
    where = {c: j for j, c in enumerate(codes)}
    filled = _fill(rows, pair, frame["value"].to_numpy(dtype="float64"), len(index), codes)
    filled = np.hstack([filled, np.full((len(index), 1), np.nan)])  # column -1: absent

    def take(wanted_codes):
        return filled[:, [where.get(c, -1) for c in wanted_codes]]

    values = take(wanted)
    rows_n = take([row_code])[:, 0]
    nn = take(nn_codes)
    position = {c: i for i, c in enumerate(nn_cols)}
    sizes = np.empty_like(values)
    for j, (col, stat) in enumerate(zip(cols, stats)):
        use_rows = col == TABLE_COLUMN or stat == "null_fraction" or non_null[col] < 0
        sizes[:, j] = rows_n if use_rows else nn[:, position[col]]
    observed = np.zeros(len(index), dtype=bool)
    observed[rows] = True
    return Grid(index, np.asarray(cols, dtype=object), np.asarray(stats, dtype=object), values,
                sizes, observed, grain)


def _pair_lookup(col_names: np.ndarray, stat_names: np.ndarray) -> dict[tuple, int]:
    n = len(stat_names)
    return {(c, s): i * n + j for i, c in enumerate(col_names) for j, s in enumerate(stat_names)}


def _fill(rows: np.ndarray, pair: np.ndarray, value: np.ndarray, n_rows: int,
          wanted: list[int]) -> np.ndarray:
    """A ``(n_rows, len(wanted))`` array of the values whose pair code is wanted (NaN if absent)."""
    out = np.full((n_rows, len(wanted)), np.nan)
    if not wanted:
        return out
    slot = np.full(int(pair.max(initial=0)) + 1, -1, dtype=np.int64)
    for j, code in enumerate(wanted):
        if 0 <= code < len(slot):
            slot[code] = j
    target = slot[pair]
    # Flat positions: one 1-D scatter, in the frame's order (a repeated summary: the last).
    if target.min(initial=0) >= 0:  # every summary row is wanted
        target += rows * len(wanted)
        out.reshape(-1)[target] = value
        return out
    hit = np.flatnonzero(target >= 0)
    out.reshape(-1)[rows[hit] * len(wanted) + target[hit]] = value[hit]
    return out


# Standard error of a statistic, in units of the column's spread sigma / sqrt(n), under
# normal theory: sqrt(q (1 - q)) / phi(Phi^-1(q)) for a quantile q. A statistic whose
# history happened to be flat (a discrete price's p95) still has this much sampling noise.
SAMPLING_FACTOR = {"mean": 1.0, "std": 1.0, "p50": 1.2533, "p25": 1.3626, "p75": 1.3626,
                   "p05": 2.1132, "p95": 2.1132, "p01": 3.7333, "p99": 3.7333,
                   "length_mean": 1.0}
IQR_TO_SIGMA = 1.0 / 1.349


def spreads(columns: np.ndarray, statistics: np.ndarray, values: np.ndarray, window: int = 56
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per series: the column's spread in each partition, its factor, and whether to divide by sqrt(n).

    Location statistics use sigma from the interquartile range (std if no quartiles);
    min and max use half their usual gap to p05 / p95, the natural wobble of an extreme.
    """
    where = {(c, s): j for j, (c, s) in enumerate(zip(columns, statistics))}
    spread = np.full(values.shape, np.nan)
    factor = np.zeros(len(columns))
    per_root_n = np.zeros(len(columns), dtype=bool)
    sigmas: dict = {}  # one sigma per column (its lengths' apart): every location shares it
    located, extremes, nears = [], [], []
    for j, (col, stat) in enumerate(zip(columns, statistics)):
        if stat in SAMPLING_FACTOR:
            key = (col, stat == "length_mean")
            if key not in sigmas:
                sigmas[key] = _column_sigma(col, stat, where, values, window)
            if sigmas[key] is not None:
                located.append((j, key))
                factor[j], per_root_n[j] = SAMPLING_FACTOR[stat], True
        elif stat in ("min", "max"):
            near = where.get((col, "p05" if stat == "min" else "p95"))
            if near is not None:
                extremes.append(j)
                nears.append(near)
                factor[j] = 0.5
    if located:
        keys = {k: i for i, k in enumerate(k for k, s in sigmas.items() if s is not None)}
        stacked = np.column_stack([s for s in sigmas.values() if s is not None])
        spread[:, [j for j, _ in located]] = stacked[:, [keys[k] for _, k in located]]
    if extremes:
        spread[:, extremes] = np.abs(values[:, extremes] - values[:, nears])
    return spread, factor, per_root_n


def _column_sigma(col, stat, where, values, window: int) -> np.ndarray | None:
    if stat == "length_mean":
        lo, hi = where.get((col, "length_min")), where.get((col, "length_max"))
        if lo is None or hi is None:
            return None
        # Lengths are known only through their extremes, which rare values set: the widest
        # range of the last window bounds the spread (a column of 3-letter species names
        # with the odd 4-letter one is not a column of constant length).
        longest = pd.Series(values[:, hi]).rolling(window, min_periods=1).max().to_numpy()
        shortest = pd.Series(values[:, lo]).rolling(window, min_periods=1).min().to_numpy()
        return (longest - shortest) / 4.0
    q1, q3 = where.get((col, "p25")), where.get((col, "p75"))
    if q1 is not None and q3 is not None:
        iqr = (values[:, q3] - values[:, q1]) * IQR_TO_SIGMA
        std = where.get((col, "std"))
        # A column whose quartiles coincide (mostly one value) still has its std.
        return np.fmax(iqr, values[:, std]) if std is not None else iqr
    std = where.get((col, "std"))
    return None if std is None else values[:, std]


# Extremes of a timestamp column (one with ``lag_seconds``) are judged as offsets from the
# partition's start: see :func:`partition_offsets`.
TEMPORAL_EXTREMES = ("min", "max")


def partition_offsets(grid: Grid) -> tuple[Grid, np.ndarray | None]:
    """``grid`` with a timestamp column's ``min`` and ``max`` as seconds from the partition
    start, and the per-row start (seconds) that was taken off (None if nothing was).

    The engine gives a timestamp's extremes as seconds since 1970, which grow by one
    partition every partition: the model then judges the calendar rather than the data
    (a weekly partition's last rating on Friday instead of Sunday, against a forecast
    that lags a steady trend). Where a row falls in its partition is what a load or a
    shift changes, and a timestamp unrelated to the partition (a birth date) becomes a
    steady trend, which the trend correction follows. Explanations add the start back.
    """
    temporal = {c for c, s in zip(grid.columns, grid.statistics) if s == "lag_seconds"}
    mask = np.array([c in temporal and s in TEMPORAL_EXTREMES
                     for c, s in zip(grid.columns, grid.statistics)], dtype=bool)
    if not mask.any():
        return grid, None
    start = (grid.partitions - pd.Timestamp(0)).total_seconds().to_numpy(dtype="float64")
    values = grid.values.copy()
    values[:, mask] -= start[:, None]
    return Grid(grid.partitions, grid.columns, grid.statistics, values, grid.sizes,
                grid.observed, grid.granularity), np.where(mask[None, :], start[:, None], 0.0)


def tail(grid: Grid, rows: int) -> Grid:
    """The last ``rows`` partitions of a grid."""
    keep = slice(max(0, len(grid.partitions) - rows), None)
    return Grid(grid.partitions[keep], grid.columns, grid.statistics, grid.values[keep],
                grid.sizes[keep], grid.observed[keep], grid.granularity)


def combine(old: Grid, new: Grid) -> Grid:
    """``old`` with ``new``'s partitions added (or replacing old ones), on one regular grid.

    Both must have the same series order (``to_grid(..., series=...)``).
    """
    known = old.partitions[old.observed].union(new.partitions[new.observed])
    index = regular_index(known, old.granularity)
    if old.observed.all() and len(known) < SPARSE * len(index):
        index = known  # a sparse table's grid (see ``to_grid``)
    values = np.full((len(index), len(old.columns)), np.nan)
    sizes = np.full_like(values, np.nan)
    observed = np.zeros(len(index), dtype=bool)
    for part in (old, new):  # new last: a re-profiled partition replaces the old summary
        rows = index.get_indexer(part.partitions[part.observed])
        values[rows] = part.values[part.observed]
        sizes[rows] = part.sizes[part.observed]
        observed[rows] = True
    return Grid(index, old.columns, old.statistics, values, sizes, observed, old.granularity)
