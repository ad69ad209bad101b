"""The detector's calibration: from per-series scores to a false-alarm budget.

The model (``_model``) gives every (partition, series) a nonconformity score ``z``:
how far the value lies from its expectation, in units of its learned noise. Those
scores are not comparable across series (a zero-inflated quantile leaps by 10^4 on
every rainy day, a mean of 10,000 rows never moves by 5), so thresholds on ``z``
cannot promise any false-alarm rate. Here they become tail probabilities:

1. **Per series, out of sample (conformal).** A series' own deviations over the last
   ``window`` judged partitions are its calibration set ``C`` (causal: each was
   computed before the partition it scores), in the statistic's own unit and on the
   same side. A new deviation reached by ``k >= RECUR`` of them has
   ``p = (k + 1) / (n + 1)``; just beyond the ``RECUR``-th largest ``d`` (up to
   ``NEAR_REACH`` times as far) ``p >= RECUR / (n + 1) x (d / z) ** tail_index``.
   Cells the detector paged leave the calibration sets after them.
2. **Beyond the calibration set, a Pareto tail.** Otherwise
   ``p = rate x (a / z) ** tail_index``, anchored at ``a``, the series'
   :data:`ROBUST_RANK`-th largest calibration score (at least :data:`ANCHOR`, the noise
   level of a score), ``rate`` the table's pooled rate of exceeding anchors.
3. **Point masses.** A series whose noise scale is zero (its window took one value
   and nothing sets a sampling floor: a 0/1 flag, a zero-inflated quantile in a dry
   month) can only say "a value not seen in ``n`` partitions": ``p >= 1 / (n + 1)``.
4. **The partition.** With ``m`` series judged, the partition's family-wise tail
   probability is ``min(1, m' x min p)``, Bonferroni over ``m' = m / c``
   effective tests, where ``c`` is how many series exceed their anchors together in a
   partition where any does (a column's quantiles move as one). The budget ``b`` (expected false alarms per partition) is the
   warning level; ``b x CRITICAL_FACTOR`` (a deviation twice as far) is critical, ``b x INFO_FACTOR`` info.

Scores are surprises in bits, ``-log2`` of the family-wise probability, capped at
:data:`MAX_BITS`: bounded, and comparable across statistics and tables.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

ANCHOR = 3.0  # a score up to 3 noise units is noise: no tail is anchored below it
INFO_FACTOR = 10.0  # info: ten times the budget (recorded, never notified)
MAX_BITS = 64.0  # beyond 2^-64, no probability means anything more
DEFAULT_BUDGET = "1 per 90"

_PER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:per|/|in)\s*(\d+(?:\.\d+)?)\s*(?:partitions?)?\s*$")


def budget_rate(value) -> float:
    """Expected false alarms per partition, from ``"1 per 90"``, ``"1/90"`` or a number.

    A number must lie in (0, 1): the fraction of clean partitions that may alert.
    """
    if isinstance(value, bool):
        value = None
    if isinstance(value, (int, float)):
        rate = float(value)
    elif isinstance(value, str) and _PER.match(value):
        count, per = (float(x) for x in _PER.match(value).groups())
        rate = count / per if per > 0 else math.nan
    else:
        rate = math.nan
    if not (0.0 < rate < 1.0):
        raise ConfigError(f"false_alarms {value!r} is not a budget: write e.g. "
                          f"'{DEFAULT_BUDGET}' (one false alarm per 90 partitions)")
    return rate


def levels(rate: float) -> tuple[float, float, float]:
    """(info, warning, critical) levels in bits of surprise for a budget ``rate``."""
    return (max(0.0, -math.log2(min(1.0, rate * INFO_FACTOR))), -math.log2(rate),
            -math.log2(rate * CRITICAL_FACTOR))


def point_masses(statistics: np.ndarray) -> np.ndarray:
    """Series whose zero scale means a point mass (rule 3): the values a column takes
    (quantiles, extremes, moments). Not fractions and counts, whose binomial and count
    floors never vanish, and not string lengths: a column of fixed-width codes that
    changes width is a change of format, whatever its history."""
    from ._grid import statistic_kind

    return np.array([statistic_kind(s) in ("location", "extreme")
                     and not str(s).startswith("length_") for s in statistics], dtype=bool)


def partition_flags(grid, window: int) -> np.ndarray:
    """Cells (rows x series) of a fraction that is a flag of the whole partition: in the
    ``window`` partitions before, it was only ever 0 or 1 (every row alike: a promotion
    day, a month end), and it is 0 or 1 again. Its rows are not independent samples, so
    its binomial floor means nothing, and a flip is a point mass's "value not seen"."""
    from ._grid import statistic_kind

    fraction = np.array([statistic_kind(s) == "fraction" for s in grid.statistics])
    values = grid.values
    known = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        whole = known & ((values == 0.0) | (values == 1.0))
    mixed = known & ~whole
    t = len(values)
    at = np.arange(t)
    lo = np.clip(at - window, 0, None)
    cum_mixed = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(mixed, axis=0)])
    cum_known = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(known, axis=0)])
    # A few odd partitions (a fault in the window) do not make a flag a proportion.
    clean = (cum_mixed[at] - cum_mixed[lo] < ROBUST_RANK) &                               \
        (cum_known[at] - cum_known[lo] - (cum_mixed[at] - cum_mixed[lo]) >= 2 * ROBUST_RANK)
    return clean & whole & fraction[None, :]


def bits(p: np.ndarray) -> np.ndarray:
    """Surprise of probabilities, in bits, within [0, MAX_BITS]."""
    with np.errstate(divide="ignore"):
        return np.clip(-np.log2(np.clip(p, 0.0, 1.0)), 0.0, MAX_BITS) + 0.0  # no -0.0


TAIL_INDEX = 3.0  # the Pareto index of scores beyond their series' anchors
# Critical: a deviation twice as far beyond the series' anchor as one that warns, so
# 8 times less likely (3 bits more surprising) than the budget allows.
CRITICAL_FACTOR = 2.0 ** -TAIL_INDEX
RECUR = 2  # deviations at least as far, the same way, in this many partitions of the
# window make one familiar: its probability is the share of the window that went as far
NEAR_REACH = 2.0  # how far beyond a familiar deviation the familiar tail reaches
EXCLUSION_REACH = 2  # windows before the first judged partition whose paged cells count
ROBUST_RANK = 6  # the anchor is a series' 6th largest score (a tenth of a 56-window):
# five odd partitions in the window (an outage and its recovery) move nothing


@dataclass(frozen=True)
class PooledTail:
    """How often the table's scores go beyond their series' anchors, pooled over series.

    Ratios ``z / anchor`` above 1 (a score beyond what its series' window saw, bar one)
    are the exceedances; their rate is counted over every series of the table, and
    beyond 1 they thin out as a Pareto tail of index :data:`TAIL_INDEX`. The rate is
    the table's own (a volatile table exceeds its anchors more often); the index is not
    estimated, because the few natural exceedances of a calm table are outnumbered by
    its faults, which would make any estimate of it a measure of the faults.
    """

    rate: float   # P(ratio > 1)
    index: float  # Pareto index of the ratios beyond 1
    cluster: float = 1.0  # exceedances per partition that has any: they come together

    @classmethod
    def fit_counts(cls, exceed: np.ndarray, known: np.ndarray) -> "PooledTail":
        """From per-partition counts of exceedances and of calibrated series."""
        total, rows = int(exceed.sum()), int((exceed > 0).sum())
        rate = float(min(1.0, (total + 1.0) / (int(known.sum()) + 1.0)))
        return cls(rate, TAIL_INDEX, max(1.0, total / rows) if rows else 1.0)

    def tests(self, m: float) -> float:
        """The effective number of independent tests among ``m`` series: exceedances come
        in clusters (a column's quantiles move together), so a partition with one has
        :attr:`cluster` of them on average, and ``m / cluster`` chances to have one."""
        return max(1.0, float(m) / self.cluster)

    def survival(self, x: np.ndarray) -> np.ndarray:
        """P(ratio >= x) for ratios beyond 1."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmin(1.0, self.rate * np.fmax(x, 1.0) ** (-self.index))

    def quantile(self, p: float) -> float:
        """The ratio whose survival is ``p`` (at least 1)."""
        if p >= self.rate:
            return 1.0
        return float((p / self.rate) ** (-1.0 / self.index))


def tail_probabilities(z: np.ndarray, point_mass: np.ndarray, calibrating: np.ndarray,
                       rows: np.ndarray, window: int, min_calibration: int,
                       scale: np.ndarray | None = None, side: np.ndarray | None = None,
                       paged: float = 0.0, volume: np.ndarray | None = None,
                       share: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Per (row of ``rows``, series): the tail probability of its score.

    ``z`` (T x S) holds the scores of every row the calibration sets read;
    ``calibrating`` (T,) says which rows may calibrate (observed, judged, not excluded,
    not a calendar day). ``point_mass`` (T x S) marks cells whose scale was zero.
    ``scale`` (T x S), when given, puts the calibration sets in the statistic's own unit:
    past deviations are compared with today's as they were, whatever noise scale each
    was scored with (a series whose scale swings with the share of odd partitions in its
    window keeps one yardstick). ``side`` (T x S, the sign of each deviation) keeps only
    the deviations that went the same way.
    Returns ``p``, the anchor and the calibration size as (len(rows) x S) arrays, and
    per row the pooled tail it was judged with. ``p`` is 1 where the score is at most
    :data:`ANCHOR` or fewer than ``min_calibration`` scores calibrate it.

    Only cells scoring above :data:`ANCHOR` can exceed an anchor, so only theirs are
    looked up: the cost follows the few cells beyond noise, not the grid.
    """
    total, s = z.shape
    p = np.ones((len(rows), s))
    anchor = np.full((len(rows), s), ANCHOR)
    usable = np.where(calibrating[:, None] & np.isfinite(z), z, np.nan)
    counts = np.vstack([np.zeros((1, s)), np.cumsum(np.isfinite(usable), axis=0)])
    at = np.arange(total)
    n_all = counts[at] - counts[np.clip(at - window, 0, None)]
    n = n_all[rows]
    # The pooled tail of each judged row, from the calibrating cells of the window before it.
    reach = np.zeros(total, dtype=bool)
    reach[max(0, int(rows.min()) - window):int(rows.max())] = True
    known = calibrating[:, None] & (n_all >= min_calibration) & np.isfinite(z)
    cal_r, cal_s = np.nonzero(known & (z > ANCHOR) & reach[:, None])
    top, _ = _window(usable, cal_r, cal_s, window, z[cal_r, cal_s])
    exceeds = z[cal_r, cal_s] > np.fmax(np.nan_to_num(top, nan=ANCHOR), ANCHOR)
    per_row_known = known.sum(axis=1)
    per_row_exceed = np.bincount(cal_r[exceeds], minlength=total)

    def _tail_at(r: int) -> PooledTail:
        return PooledTail.fit_counts(per_row_exceed[max(0, r - window):r],
                                     per_row_known[max(0, r - window):r])

    tails = [_tail_at(int(r)) for r in rows]
    if scale is not None:
        with np.errstate(invalid="ignore"):
            history = np.where(np.isfinite(scale) & (scale > 0), usable * scale, np.nan)
    else:
        history = usable.copy()
    unit = scale if scale is not None else np.ones_like(z)
    hot = (z > ANCHOR) & (n_all >= min_calibration)
    position = {int(r): i for i, r in enumerate(rows)}
    # In time order: the partitions of the windows before the first judged one (whose
    # paged cells must be known), then the judged ones, a partition's cells together.
    lead = [r for r in range(max(0, int(rows.min()) - EXCLUSION_REACH * window),
                             int(rows.min())) if calibrating[r] and hot[r].any()]
    for r in lead + [int(r) for r in rows]:
        cells = np.flatnonzero(hot[r])
        if cells.size == 0:
            continue
        at_r = np.full(cells.size, r)
        now = unit[r, cells]
        score = z[r, cells]
        top, beaten = _window(history, at_r, cells, window, score * now, side)
        near = _window(history, at_r, cells, window, score * now, side, RECUR)[0] / now
        top = np.fmax(np.nan_to_num(top / now, nan=ANCHOR), ANCHOR)
        beaten = np.where(beaten >= RECUR, beaten, 0)
        size = n_all[r, cells]
        tail = tails[position[r]] if r in position else _tail_at(r)
        value = np.where(beaten >= 1, (beaten + 1.0) / (size + 1.0),
                         tail.survival(score / top))
        # Just beyond what the series did RECUR times (up to NEAR_REACH times as far): the
        # share of the window that went that far, thinning out as the tail does (a storm a
        # little heavier than the last). Farther, the tail from the anchor.
        with np.errstate(invalid="ignore", divide="ignore"):
            just_beyond = RECUR / (size + 1.0) * np.fmax(score / near, 1.0) ** -TAIL_INDEX
        within = np.isfinite(near) & (near > ANCHOR) & (score <= NEAR_REACH * near)
        value = np.where(within, np.fmax(value, just_beyond), value)
        value = np.where(point_mass[r, cells], np.fmax(value, 1.0 / (size + 1.0)), value)
        value = np.clip(value, 0.0, 1.0)
        if r in position:
            p[position[r], cells] = value
            anchor[position[r], cells] = top
        if calibrating[r] and paged > 0:  # paged: calibrates nothing after it
            tests = tail.tests((n_all[r] >= min_calibration).sum())
            factor = multipliers(np.array([tests]), volume if volume is not None
                                 else np.zeros(s, dtype=bool), share)[0, cells]
            history[r, cells[value * factor <= paged]] = np.nan
    return p, anchor, n, tails


def _window(usable: np.ndarray, t_idx: np.ndarray, series: np.ndarray, window: int,
            score: np.ndarray, side: np.ndarray | None = None, rank: int = ROBUST_RANK
            ) -> tuple[np.ndarray, np.ndarray]:
    """Per cell (row ``t_idx[i]``, series ``series[i]``): the ``rank``-th largest
    calibrating score of the ``window`` rows before it (NaN if fewer), and how many of
    them are at least ``score[i]``; with ``side``, of those that went the same way."""
    if t_idx.size == 0:
        return np.zeros(0), np.zeros(0, dtype=int)
    lags = t_idx[:, None] - np.arange(window, 0, -1)[None, :]
    history = np.where(lags >= 0, usable[np.clip(lags, 0, None), series[:, None]], np.nan)
    if side is not None:
        same = side[np.clip(lags, 0, None), series[:, None]] == side[t_idx, series][:, None]
        history = np.where(same, history, np.nan)
    with np.errstate(invalid="ignore"):
        beaten = (history >= score[:, None]).sum(axis=1)
    filled = np.where(np.isfinite(history), history, -np.inf)
    kth = np.partition(filled, window - rank, axis=1)[:, window - rank] \
        if window >= rank else np.full(len(t_idx), -np.inf)
    return np.where(np.isfinite(kth), kth, np.nan), beaten


def multipliers(tests: np.ndarray, volume: np.ndarray, share: float) -> np.ndarray:
    """Per (row, series): the factor from a series' tail probability to the partition's
    family-wise probability, a weighted Bonferroni over each row's ``tests`` effective
    tests. The table's row count (``volume``) gets ``share`` of the budget, since rows lost
    are the commonest fault; the other series share the rest. ``share`` 0: all alike."""
    tests = np.asarray(tests, dtype=float)[:, None]
    volume = np.asarray(volume, dtype=bool)
    if share <= 0 or not volume.any():
        return np.repeat(tests, len(volume), axis=1)
    return np.where(volume[None, :], 1.0 / share, tests / (1.0 - share))


def warning_scores(anchor: np.ndarray, n: np.ndarray, factor: np.ndarray, tails: list,
                   rate: float) -> np.ndarray:
    """The score at which each series would reach the warning level: its band's half-width
    in noise units (``inf`` where too little history calibrates it). ``factor`` is
    :func:`multipliers`."""
    out = np.empty(anchor.shape)
    for i, tail in enumerate(tails):
        target = rate / factor[i]
        with np.errstate(divide="ignore"):
            ratio = np.where(target >= tail.rate, 1.0,
                             (target / tail.rate) ** (-1.0 / tail.index))
        out[i] = anchor[i] * np.fmax(ratio, 1.0)
    return np.where(n > 0, out, np.inf)
