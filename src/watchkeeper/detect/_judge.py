"""Shared by every detector: exclusion of bad partitions, and z-scores → verdicts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._causes import QUANTILES
from ._grid import EXTREME_PAIRS, OUTLIER_SENSITIVE, SINGLE_ROW, Grid
from .verdict import Explanation, Severity, Verdict

# The model's own noise levels, in units of a series' learned noise scale: the rules
# below cap a score at "noise" (info) or promote it to "clearly beyond" (warning) in these
# units, before the calibration (``_calibration``) turns scores into tail probabilities.
NOISE_INFO, NOISE_WARNING = 3.0, 7.0


def thresholds(false_alarms="1 per 90") -> tuple[float, float, float]:
    """The (info, warning, critical) levels, in bits of surprise, of a false-alarm budget;
    ConfigError if the budget is not one."""
    from ._calibration import budget_rate, levels

    return levels(budget_rate(false_alarms))


def capped_exclusions(partitions: pd.DatetimeIndex, exclude, window: int, offset: pd.Timedelta,
                      max_fraction: float) -> pd.DatetimeIndex:
    """The confirmed-bad partitions kept out of "normal", at most ``max_fraction`` of any window.

    Exclusions are admitted oldest first. Once a trailing window is full, later ones
    are learned from after all: a change confirmed bad over and over is the new
    normal, and excluding it forever would make every partition look anomalous.
    """
    if exclude is None or len(exclude) == 0:
        return pd.DatetimeIndex([])
    wanted = pd.DatetimeIndex(pd.to_datetime(list(exclude))).sort_values().unique()
    wanted = wanted[wanted.isin(partitions)]
    limit = int(max_fraction * window)
    admitted: list[pd.Timestamp] = []
    span = offset * window
    for p in wanted:
        recent = sum(1 for a in admitted if p - a < span)
        if recent < limit:
            admitted.append(p)
    return pd.DatetimeIndex(admitted)


def masked(grid: Grid, excluded: pd.DatetimeIndex) -> np.ndarray:
    """The values a detector may learn from: excluded partitions become unknown."""
    learn = grid.values.copy()
    if len(excluded):
        learn[grid.partitions.isin(excluded)] = np.nan
    return learn


def z_scores(values: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(values - center) / scale
    return np.where(np.isfinite(z), z, np.where(np.isinf(z), 1e6, 0.0))


def verdicts(grid: Grid, rows: np.ndarray, scores: np.ndarray, center: np.ndarray,
             half_width: np.ndarray, seen_before: np.ndarray, *, min_history: int,
             levels: tuple[float, float, float], max_explanations: int,
             tolerance: np.ndarray | None = None, offset: np.ndarray | None = None,
             order: np.ndarray | None = None) -> list[Verdict]:
    """One verdict per row: severity from the strongest series; one explanation per column.

    ``scores`` (rows x series) are in the unit of ``levels`` (info, warning, critical);
    ``half_width`` is each series' band half-width, in the statistic's own unit;
    ``order`` breaks ties between equal scores (larger first). ``tolerance`` (per
    series) is the band multiplier already in the band, reported with each explanation.
    ``offset`` (rows x series) was taken off the values before judging
    (``_grid.partition_offsets``) and is added back to what is reported.
    """
    info, warning, critical = levels
    tolerance = np.ones(len(grid.statistics)) if tolerance is None else tolerance
    out = []
    for row in rows:
        partition = grid.partitions[row]
        if seen_before[row] < min_history:
            out.append(Verdict(partition, Severity.OK, 0.0, (), grid.granularity, judged=False))
            continue
        zr = scores[row]
        score = float(zr.max()) if zr.size else 0.0
        severity = (Severity.CRITICAL if score >= critical else Severity.WARNING
                    if score >= warning else Severity.INFO if score >= info else Severity.OK)
        explained = _explanations(grid, row, zr, center[row], half_width[row], info,
                                  max_explanations, tolerance,
                                  None if offset is None else offset[row],
                                  None if order is None else order[row])
        out.append(Verdict(partition, severity, score, explained, grid.granularity))
    return out


def _explanations(grid: Grid, row: int, zr: np.ndarray, center: np.ndarray,
                  half_width: np.ndarray, info: float, limit: int, tolerance: np.ndarray,
                  offset: np.ndarray | None = None, order: np.ndarray | None = None
                  ) -> tuple[Explanation, ...]:
    hot = np.flatnonzero(zr >= info)
    if hot.size == 0:
        return ()
    tie = np.zeros(hot.size) if order is None else -np.nan_to_num(order[hot], nan=0.0)
    hot = hot[np.lexsort((tie, -zr[hot]))]
    seen: set[str] = set()
    out = []
    for j in hot:
        column = str(grid.columns[j])
        if column in seen:
            continue  # one entry per column: its most telling statistic
        seen.add(column)
        band = half_width[j]
        low, high = valid_band(str(grid.statistics[j]), float(center[j] - band),
                               float(center[j] + band))
        back = 0.0 if offset is None else float(offset[j])
        out.append(Explanation(column, str(grid.statistics[j]), float(grid.values[row, j]) + back,
                               low + back, high + back, float(zr[j]), float(tolerance[j])))
        if len(out) >= limit:
            break
    return tuple(out)


def seen_counts(observed: np.ndarray, before: int = 0) -> np.ndarray:
    """Observed partitions strictly before each row (plus ``before`` older ones)."""
    return before + np.concatenate([[0], np.cumsum(observed)[:-1]]) if len(observed) else \
        np.zeros(0, dtype=int)


def quiet_nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


def uncorroborated(grid: Grid, z: np.ndarray, center: np.ndarray, rows: np.ndarray, cap: float
                   ) -> np.ndarray:
    """The signature of one odd row scores at most ``cap`` (info).

    An extreme (min, max, shortest or longest string) is set by one row: when it moves
    alone, the odd row came or went (a rare long category name absent today). One odd
    row pushes its extreme outwards, arbitrarily far, and drags the mean and std with
    it; quantiles, fractions, counts and the opposite extreme stay put. On real data
    both patterns are one odd record (an out-of-state zip code), which row-level checks
    (SLOs) are for. A fault in the data moves many rows, and with them a robust
    statistic, both extremes the same way (a timezone shift), or the moments with an
    extreme pulled inwards, which no outlier does (padding raises the shortest length
    and the mean). Both extremes outwards with nothing else is two odd rows (a zip code
    of another state at each end). Moments beyond info whose extremes are not (their
    values were seen before) score like the fewest rows at the partition's extremes that
    can move them that far: sqrt(2 k), as for k rows of a new value.
    """
    single = np.isin(grid.statistics, list(SINGLE_ROW))
    sensitive = np.isin(grid.statistics, list(OUTLIER_SENSITIVE))
    if not sensitive.any():
        return z
    # Strictly above: a value ``cap_seen_before`` held at ``cap`` is inside its own recent
    # range, no evidence of anything, so it corroborates nothing (a max the series took
    # before does not make a far-out min "both ends").
    hot = z[rows] > cap
    flagged_rows, flagged_series = np.nonzero(hot & sensitive[None, :])
    if flagged_rows.size == 0:
        return z
    z = z.copy()
    codes = pd.factorize(grid.columns)[0]
    low_end = np.isin(grid.statistics, [a for a, _ in EXTREME_PAIRS])
    for r, c in set(zip(flagged_rows.tolist(), codes[flagged_series].tolist())):
        t = rows[r]
        moved = np.flatnonzero((codes == c) & hot[r])
        names = set(grid.statistics[moved])
        ends = moved[single[moved]]
        outward = np.where(low_end[ends], grid.values[t, ends] < center[t, ends],
                           grid.values[t, ends] > center[t, ends])
        # Both ends moving the same way is a shift of every row (a timezone shift); both
        # moving outwards with no quantile, fraction or count along is two odd rows.
        both_ends = any(a in names and b in names for a, b in EXTREME_PAIRS) and \
            not outward.all()
        alone = ends.size > 0 and single[moved].all()  # the row(s) at one end came or went
        dragged = sensitive[moved].all() and outward.all()  # an outlier row and the moments
        if ends.size == 0 and dragged:
            # Only moments beyond info, their extremes not (values seen before): they carry
            # the evidence of the fewest rows at this partition's extremes that move them.
            k = _rows_behind_moments(grid, t, moved, center)
            z[t, moved] = np.minimum(z[t, moved], max(cap, np.sqrt(2.0 * k)))
        elif ends.size > 0 and (alone or dragged) and not both_ends:
            z[t, moved] = np.minimum(z[t, moved], cap)
    return z


# The moments one odd row drags, and the extremes that bound how far one row reaches.
MOMENT_EXTREMES = {"mean": ("min", "max"), "length_mean": ("length_min", "length_max")}


def _rows_behind_moments(grid: Grid, t: int, moved: np.ndarray, center: np.ndarray) -> float:
    """The fewest rows of this partition that can have moved the column's moments this far.

    A row at value ``x`` moves a mean of ``n`` rows by at most ``(x - mean) / n``, and no
    row of the partition lies beyond its own min and max: so ``n * |shift|`` over the
    distance from the expected mean to the extreme on that side is a lower bound on the
    rows involved. Four goats among 3-letter species names move ``length_mean`` by 4/n:
    four rows, scored like four rows of a new value (``_features.poisson_capped``,
    sqrt(2 k)), not like a shift of the whole column. Infinite without a mean beside a
    moved ``std``, or without the extremes to bound it.
    """
    where = {str(grid.statistics[j]): j
             for j in np.flatnonzero(grid.columns == grid.columns[moved[0]])}
    means = [j for j in moved if str(grid.statistics[j]) in MOMENT_EXTREMES]
    if not means:
        return np.inf
    rows = 0.0
    for j in means:
        lo, hi = (where.get(s) for s in MOMENT_EXTREMES[str(grid.statistics[j])])
        n, value, expected = grid.sizes[t, j], grid.values[t, j], center[t, j]
        if lo is None or hi is None or not (np.isfinite(n) and n >= 1):
            return np.inf
        reach = grid.values[t, hi] - expected if value > expected else \
            expected - grid.values[t, lo]
        if not reach > 0:
            return np.inf
        rows = max(rows, n * abs(value - expected) / reach)
    return rows


# A count that never moved: one unit off scores this (warning at medium and high, info at
# low sensitivity; two units are critical at medium).
CONSTANT_UNIT = 7.5


def constant_counts(grid: Grid, learn: np.ndarray, center: np.ndarray, scale: np.ndarray,
                    rows: np.ndarray, window: int, multipliers: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An exact count that took one value in every partition of its window is expected
    to keep it: center that value, scale ``1 / CONSTANT_UNIT`` (times any tolerance).
    Returns the center, the scale and where (rows x series) a count was held fixed.

    The count floor (0.5) says an integer count wobbles by about one; a count whose
    last ``window`` partitions (at least half of them observed) were all identical has
    no wobble to learn: 51 states a day, 5 pizza sizes. Its change is a change of
    design (a category merged away or a new one appearing, a row lost or doubled),
    not sampling noise, and one unit of it scores ``CONSTANT_UNIT`` (except one more
    distinct value, which one odd row makes). Only exact
    counts (``_grid.EXACT_COUNTS``) qualify: an approximate distinct count wobbles, so
    its history is never constant. Counts that one odd row moves (string lengths, NaN
    counts) are not in that set.
    """
    from ._grid import EXACT_COUNTS
    from ._rolling import prior_quantile

    held = np.zeros(grid.values.shape, dtype=bool)
    exact = np.flatnonzero(np.isin(grid.statistics, list(EXACT_COUNTS)))
    if exact.size == 0 or len(rows) == 0:
        return center, scale, held
    first = int(rows.min())
    sub = learn[:, exact]
    low = prior_quantile(sub, window, 0.0, first, min_periods=max(2, window // 2))
    high = prior_quantile(sub, window, 1.0, first, min_periods=max(2, window // 2))
    at = rows - first
    # One odd row can add one distinct value (a lone rating of 6): that is the one-row
    # signature (see ``uncorroborated``), not a change of design.
    one_more = (grid.statistics[exact] == "distinct_count")[None, :] & \
        (grid.values[rows][:, exact] - low[at] == 1)
    with np.errstate(invalid="ignore"):
        fixed = (low[at] == high[at]) & np.isfinite(low[at]) & ~one_more
    if not fixed.any():
        return center, scale, held
    center, scale = center.copy(), scale.copy()
    r, c = np.nonzero(fixed)
    center[rows[r], exact[c]] = low[at][r, c]
    scale[rows[r], exact[c]] = np.fmin(scale[rows[r], exact[c]],
                                       multipliers[exact[c]] / CONSTANT_UNIT)
    held[rows[r], exact[c]] = True
    return center, scale, held


def fixed_design(grid: Grid, learn: np.ndarray, window: int) -> np.ndarray | None:
    """Per row: the table's row count took one value in every partition of the window
    before it (at least half of them observed), as in :func:`constant_counts`.

    Such a table holds the same entities every partition (51 states a day), not a
    fresh sample of rows: see ``_model.expectations``.
    """
    from ._grid import TABLE_COLUMN
    from ._rolling import prior_quantile

    j = np.flatnonzero((grid.columns == TABLE_COLUMN) & (grid.statistics == "row_count"))
    if j.size == 0:
        return None
    counts = learn[:, j[:1]]
    low = prior_quantile(counts, window, 0.0, 0, min_periods=max(2, window // 2))[:, 0]
    high = prior_quantile(counts, window, 1.0, 0, min_periods=max(2, window // 2))[:, 0]
    with np.errstate(invalid="ignore"):
        return (low == high) & np.isfinite(low)


def not_id_like(grid: Grid, z: np.ndarray, center: np.ndarray, rows: np.ndarray,
                held: np.ndarray | None = None) -> np.ndarray:
    """``uniqueness`` is judged only where it is expected to be mostly unique (id-like),
    and such a column's ``distinct_count`` is not judged beside it unless it is a
    design invariant ``held`` by :func:`constant_counts` (51 states a day, one row each).

    On a category column, distinct / non-null only restates the row count (already
    judged); on an id column it is the one statistic duplicated rows move. There, in
    turn, the distinct count is non-null rows x uniqueness, two things already judged:
    like ``non_null_count`` (``_grid.NOT_SCORED``) it would only repeat a change of
    the row count in every id-like column, and blame them before the table.
    """
    from ._features import ID_LIKE

    series = np.flatnonzero(grid.statistics == "uniqueness")
    if series.size == 0:
        return z
    z = z.copy()
    with np.errstate(invalid="ignore"):
        id_like = center[rows][:, series] >= ID_LIKE
    block = z[rows][:, series]
    block[~id_like] = 0.0
    z[rows[:, None], series[None, :]] = block
    where = {c: j for j, (c, s) in enumerate(zip(grid.columns, grid.statistics))
             if s == "distinct_count"}
    counts = np.array([where.get(c, -1) for c in grid.columns[series]])
    has = counts >= 0
    if has.any():
        block = z[rows][:, counts[has]]
        drop = id_like[:, has]
        if held is not None:
            drop &= ~held[rows][:, counts[has]]
        block[drop] = 0.0
        z[rows[:, None], counts[has][None, :]] = block
    return z


def widened(grid: Grid, tolerance) -> np.ndarray:
    """Per series, the band multiplier that false-positive feedback earned (1 if none)."""
    out = np.ones(len(grid.statistics))
    if not tolerance:
        return out
    for j, key in enumerate(zip(grid.columns, grid.statistics)):
        out[j] = float((tolerance or {}).get((str(key[0]), str(key[1])), 1.0))
    return out


def valid_band(statistic: str, low: float, high: float) -> tuple[float, float]:
    """A band clipped to what the statistic can take: fractions in [0, 1], counts, spreads
    and lengths >= 0."""
    from ._grid import statistic_kind

    kind = statistic_kind(statistic)
    if statistic in SIGNED_FRACTIONS:  # a difference of two fractions
        return max(-1.0, low), min(1.0, high)
    if kind == "fraction":
        return max(0.0, low), min(1.0, high)
    if kind == "count" or statistic in NON_NEGATIVE:
        return max(0.0, low), high
    return low, high


# Location-kind statistics that cannot be negative: spreads and string lengths.
NON_NEGATIVE = frozenset({"std", "iqr", "mad", "length_mean"})


SIGNED_FRACTIONS = frozenset({"null_gap"})
LATTICE = QUANTILES | {"min", "max"}  # statistics that take the data's own values


def lattice(grid: Grid, learn: np.ndarray, z: np.ndarray, center: np.ndarray,
            scale: np.ndarray, rows: np.ndarray, window: int, cap: float) -> np.ndarray:
    """Scores of statistics that take the data's own values, on the data's resolution.

    A quantile (or extreme) of integer-valued or few-valued data moves in whole steps:
    an exact p75 of small counts is 4 or 5, never 4.3. Where weekdays sit at 4 the
    learned scale is tiny and a 5 scores far beyond noise, though it is one step of the
    data. The step is the smallest non-zero gap between the distinct values of the last
    ``window`` partitions, and no scale is below half a step: one step is two noise
    units. On continuous data the gap is tiny and nothing changes. Checked only for
    cells scoring above ``cap``.
    """
    use = np.isin(grid.statistics, list(LATTICE))
    flagged_rows, flagged_series = np.nonzero((z[rows] > cap) & use[None, :])
    if flagged_rows.size == 0:
        return z
    t_idx = rows[flagged_rows]
    step = _smallest_step(learn, t_idx, flagged_series, window)
    # An interpolated quantile of integer data takes values between the data's steps (a
    # p99 of 119 counts reads 0.02), so its own gaps say nothing of the resolution: the
    # column's extremes, which are data values, do.
    where = {(c, s): j for j, (c, s) in enumerate(zip(grid.columns, grid.statistics))}
    quantile = np.isin(grid.statistics[flagged_series], list(QUANTILES))
    data = np.full(len(t_idx), np.nan)
    integral = quantile.copy()
    for end in ("min", "max"):
        other = np.array([where.get((grid.columns[j], end), -1) for j in flagged_series])
        quantile &= other >= 0
        if not quantile.any():
            break
        data[quantile] = np.fmin(data[quantile], _smallest_step(
            learn, t_idx[quantile], other[quantile], window))
        lags = t_idx[quantile][:, None] - np.arange(window, 0, -1)[None, :]
        ends = np.where(lags >= 0, learn[np.clip(lags, 0, None), other[quantile][:, None]],
                        np.nan)
        with np.errstate(invalid="ignore"):
            integral[quantile] &= np.all(~np.isfinite(ends) | (ends == np.round(ends)), axis=1)
    # Extremes that are whole numbers mark integer data: a step of at least one.
    data = np.where(quantile & integral, np.fmax(np.nan_to_num(data, nan=1.0), 1.0), data)
    step = np.where(quantile, np.fmax(step, data), step)
    floor = np.nan_to_num(step, nan=0.0) / 2.0
    old = scale[t_idx, flagged_series]
    wider = floor > old
    if not wider.any():
        return z
    z = z.copy()
    t, j = t_idx[wider], flagged_series[wider]
    with np.errstate(invalid="ignore", divide="ignore"):
        z[t, j] = np.abs(grid.values[t, j] - center[t, j]) / floor[wider]
    return z


def _smallest_step(learn: np.ndarray, t_idx: np.ndarray, series: np.ndarray,
                   window: int) -> np.ndarray:
    """Per cell: the smallest non-zero gap between the distinct values of the series in
    the ``window`` rows before (NaN with fewer than two distinct values)."""
    lags = t_idx[:, None] - np.arange(window, 0, -1)[None, :]
    history = np.where(lags >= 0, learn[np.clip(lags, 0, None), series[:, None]], np.nan)
    history.sort(axis=1)
    gaps = np.diff(history, axis=1)
    with np.errstate(invalid="ignore"):
        gaps = np.where(gaps > 1e-9 * (1.0 + np.abs(history[:, 1:])), gaps, np.nan)
    return np.fmin.reduce(gaps, axis=1) if gaps.shape[1] else np.full(len(t_idx), np.nan)


# Location statistics of one column that a distribution shift moves together.
AGREEING = ("mean", "p05", "p25", "p50", "p75", "p95")
# Agreeing statistics that make a column's shift clear: three, not two, because mean and
# median are nearly the same statistic (correlation 0.8 under normal sampling).
PROMOTE_K = 3


def agreement(grid: Grid, z: np.ndarray, center: np.ndarray, rows: np.ndarray, cap: float,
              promote_to: float = np.inf) -> np.ndarray:
    """Several location statistics of one column shifted the same way are stronger than one.

    Only statistics beyond ``cap`` (noise), after every cap above, count as agreeing:
    :data:`PROMOTE_K` or more beyond it in one direction make the column's strongest
    statistic at least ``promote_to``. It can only raise a score, never lower it.
    """
    use = np.flatnonzero(np.isin(grid.statistics, AGREEING))
    if use.size == 0:
        return z
    with np.errstate(invalid="ignore"):
        sign = np.sign(grid.values[rows][:, use] - center[rows][:, use])
    signed = np.nan_to_num(sign) * z[rows][:, use]
    codes = pd.factorize(grid.columns[use])[0]
    z = z.copy()
    order = np.argsort(codes, kind="stable")  # each column's statistics, in grid order
    for at in np.split(order, np.flatnonzero(np.diff(codes[order])) + 1):
        members = use[at]
        if members.size < 2:
            continue
        s = signed[:, at]
        agreeing = np.maximum((s > cap).sum(axis=1), (s < -cap).sum(axis=1))
        best = members[np.argmax(np.abs(s), axis=1)]
        combined = np.where(agreeing >= PROMOTE_K, promote_to, 0.0)
        lift = combined > z[rows, best]
        z[rows[lift], best[lift]] = combined[lift]
    return z
