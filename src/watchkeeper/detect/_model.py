"""The learned normal of every (column, statistic) series, computed for many partitions at once.

Row ``t`` of every output depends only on rows ``< t`` of the input, and on at most
:func:`lookback` of them. The backtest runs :func:`expectations` once over the whole
history (``start=0``); live scoring runs the same function over the fitted tail with
``start`` at the new partition. That is how "same code as live checking" holds.

Per series:
1. two one-step forecasts: the median of the last ``level_window`` partitions, and
   (daily / hourly data) the median of the same phase in the last 4 seasons;
2. residual = value - forecast; the median of the last ``trend_window`` residuals
   corrects the lag a median forecast has under a trend (a steady trend leaves a
   constant residual), so the center is forecast + that bias;
3. scale = q80 of the last ``window`` absolute deviations / 1.2816: robust to up
   to 20% outliers already in the history (the MAD would collapse on statistics
   that are constant most of the time, like a discrete price's p95);
4. the forecast whose scale is clearly smaller so far wins, per series and partition;
5. small partitions widen the band by sqrt(typical rows / rows), and the scale never
   goes below what sampling alone would give (binomial for fractions, sigma/sqrt(n)
   for locations, the usual gap for min/max, 0.5 for counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._grid import KIND_CODES
from ._rolling import median_of, prior_quantile, series_share

Q80_TO_SIGMA = 1.0 / 1.2816  # |N(0,1)| has its 80th percentile at 1.2816
SEASONS = 4
SEASONAL_MARGIN = 0.8  # a seasonal forecast must cut the scale by 20% to be preferred
SHIFT_BAND = 4.0  # scale units beyond which a run of partitions counts as a new level


@dataclass(frozen=True)
class Expectation:
    """For every partition and series: what was expected, and how much noise is normal."""

    center: np.ndarray  # (T, S); NaN before ``start`` or without enough history
    scale: np.ndarray   # (T, S), > 0 where known


@dataclass(frozen=True)
class Windows:
    level: int
    trend: int
    scale: int
    period: int | None
    min_history: int
    shift: int = 3

    @property
    def carry(self) -> int:
        """How far a level or bias is carried over unknown (excluded) partitions."""
        return self.scale // 2 + self.level

    def lookback(self) -> int:
        """Rows before a scored row that its expectation can depend on."""
        forecast = max(self.level, (self.period or 0) * SEASONS)
        return self.scale + 2 * self.carry + self.trend + forecast + self.shift + 1


def expectations(values: np.ndarray, sizes: np.ndarray, kinds: np.ndarray,
                 spread: tuple[np.ndarray, np.ndarray, np.ndarray], w: Windows,
                 start: int = 0, fixed_design: np.ndarray | None = None) -> Expectation:
    """Causal expected value and noise scale of every series, for rows ``start`` onwards.

    ``fixed_design`` (per row, optional): the table had the very same row count over
    the whole window before that row (51 states a day). Its rows are then not a sample
    of a population but the same entities again, whose own variation the learned
    scale measures, so the sampling floor of locations (sigma / sqrt(n)) is not applied.

    Every series is modelled on its own, so wide grids go through in blocks of
    :data:`BLOCK_CELLS` values: each step then works on arrays that stay in the CPU's
    cache instead of streaming the whole grid through memory some hundred times.
    """
    t, s = values.shape
    width = max(1, BLOCK_CELLS // max(1, t))
    if s <= width:
        return _expectations(values, sizes, kinds, spread, w, start, fixed_design)
    center, scale = np.empty((t, s)), np.empty((t, s))
    for lo in range(0, s, width):
        block = slice(lo, lo + width)
        # Rolling quantiles choose their method as they would for the whole grid.
        with series_share(s, min(s, lo + width) - lo):
            part = _expectations(values[:, block], sizes[:, block], kinds[block],
                                 (spread[0][:, block], spread[1][block], spread[2][block]), w,
                                 start, fixed_design)
            center[:, block], scale[:, block] = part.center, part.scale
    return Expectation(center, scale)


BLOCK_CELLS = 1 << 16  # values per series block of expectations (rows x series)


def _expectations(values: np.ndarray, sizes: np.ndarray, kinds: np.ndarray,
                  spread: tuple[np.ndarray, np.ndarray, np.ndarray], w: Windows,
                  start: int = 0, fixed_design: np.ndarray | None = None) -> Expectation:
    first = max(0, start - w.shift)  # the level-shift check looks at the rows before start
    center, raw = _expected(values, w, first)
    floors = _Floors(sizes, kinds, spread, w, first,
                     None if fixed_design is None else fixed_design[first:], values)
    shifted = _shifted(values, center, floors.apply(raw, center), w, start)
    # Counts vary in proportion to their level (twice the rows, twice the wobble), so a
    # count's noise grows with a shift up; a binomial floor follows any new level.
    counts = (kinds == KIND_CODES["count"])[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        grown = np.where(counts & (shifted != center), np.abs(shifted / center), 1.0)
    scale = floors.apply(raw * np.fmax(1.0, np.nan_to_num(grown, nan=1.0, posinf=1.0)), shifted)
    shifted[:start], scale[:start] = np.nan, np.nan
    return Expectation(shifted, scale)


def _expected(values: np.ndarray, w: Windows, start: int) -> tuple[np.ndarray, np.ndarray]:
    """The forecast with the smaller noise so far, and that (unfloored) noise scale.

    Rows ``start`` on look back at most :func:`_deviations_from` rows for their scale,
    ``trend`` more for its bias and ``level`` more for the forecast: judging the newest
    partition computes just those rows. Only a level or bias carried over unknown
    partitions (``carry``) reaches further back; a series with one of those in its
    rows is computed again over the whole reach (``RESTRICTED`` off: always).
    """
    first_resid = max(0, start - w.scale - w.carry - w.trend)
    whole = (first_resid, w.carry, max(0, start - w.scale - w.carry))
    need = _deviations_from(w, start) - w.trend  # the earliest residual the rows use
    if not RESTRICTED or need <= max(0, first_resid - w.carry) or np.isinf(values).any():
        return _expected_rows(values, w, start, *whole)[:2]
    # An unknown value among the rows the levels look at makes an unknown level.
    carried = np.isnan(values[max(0, need - w.level):]).any(axis=0)
    if carried.all():
        return _expected_rows(values, w, start, *whole)[:2]
    if carried.any():
        center, scale = (np.full(values.shape, np.nan) for _ in range(2))
        rest = ~carried
        center[:, rest], scale[:, rest], more = _expected_rows(values[:, rest], w, start, need,
                                                               None, need + w.trend)
        carried[np.flatnonzero(rest)[more]] = True
    else:
        center, scale, carried = _expected_rows(values, w, start, need, None, need + w.trend)
    if carried.any():  # an unknown level or bias: computed again, carried as it would be
        again = _expected_rows(values[:, carried], w, start, *whole)
        center[:, carried], scale[:, carried] = again[0], again[1]
    return center, scale


RESTRICTED = True  # judging computes only the rows the scored ones look back on


def _deviations_from(w: Windows, start: int) -> int:
    """The earliest row whose deviation the scale of rows ``start`` on looks at."""
    need = start - w.scale
    if w.period:
        need = min(need, (start // w.period - max(2, w.scale // w.period)) * w.period)
    return need


def _expected_rows(values: np.ndarray, w: Windows, start: int, first_resid: int,
                   carry: int | None, first_bias: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_expected` from residuals at ``first_resid`` and biases at ``first_bias`` on;
    levels and biases carried up to ``carry`` rows (from ``carry`` rows further back),
    or, with ``carry`` None, not at all: the third result then says which series have
    an unknown level or bias in those rows (one the carry might have filled)."""
    t, s = values.shape
    carried = np.zeros(s, dtype=bool)
    forecasts = [_level(values, w, first_resid, carry, carried)]
    if w.period and t > 2 * w.period:
        forecasts.append(_seasonal(values, w.period, first_resid))
    center = scale = None
    for forecast in forecasts:
        c, sc = _residual_model(values, forecast, w, start, first_bias, carry, carried)
        if center is None:
            center, scale = c, sc
            continue
        better = sc < SEASONAL_MARGIN * np.where(np.isnan(scale), np.inf, scale)
        center, scale = np.where(better, c, center), np.where(better, sc, scale)
    return center, scale, carried


def _shifted(values: np.ndarray, center: np.ndarray, scale: np.ndarray, w: Windows, start: int
             ) -> np.ndarray:
    """After ``w.shift`` partitions in a row beyond their bands on one side, expect the new level.

    A median over ``level`` partitions (and a bias over ``trend`` residuals) follows a
    lasting change (a column starts being recorded, a volume step) only once half its
    window has changed, and until then every partition of the new regime alerts.
    Standard level-shift handling in robust forecasting: ``shift`` consecutive
    partitions all above (or all below) their own bands confirm the shift, and their
    median becomes the forecast. One broken partition never moves it; partitions
    confirmed bad are masked out before this, so they cannot confirm one.
    """
    if not w.shift:
        return center
    t, s = values.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (values - center) / scale
    # The last ``shift`` rows before each row; NaN anywhere (too early, unknown) means no shift.
    lags = np.full((t - start, s, w.shift), np.nan)
    for k in range(1, w.shift + 1):
        rows = np.arange(start, t) - k
        ok = rows >= 0
        lags[ok, :, k - 1] = z[rows[ok]]
    with np.errstate(invalid="ignore"):
        moved = (lags.min(axis=-1) > SHIFT_BAND) | (lags.max(axis=-1) < -SHIFT_BAND)
    if not moved.any():
        return center
    recent = _placed(t, s, start, prior_quantile(values, w.shift, 0.5, start, w.shift))
    return np.where(_placed(t, s, start, moved) == 1, recent, center)


def _level(values: np.ndarray, w: Windows, start: int, carry: int | None = None,
           carried: np.ndarray | None = None) -> np.ndarray:
    """Median of the last ``level`` partitions; carried forward (up to ``carry`` rows) when
    they are all unknown, e.g. excluded as confirmed bad, so judging goes on.

    ``carry`` None: not carried; the series with an unknown level are marked in ``carried``.
    """
    t, s = values.shape
    first = max(0, start - (carry or 0))
    level = prior_quantile(values, w.level, 0.5, first,
                           min_periods=max(2, min(w.level, w.min_history // 2)))
    if carry is None:
        carried |= np.isnan(level).any(axis=0)
    else:
        level = pd.DataFrame(level).ffill(limit=carry).to_numpy()
    return _placed(t, s, start, level[start - first:])


def _placed(t: int, s: int, start: int, rows: np.ndarray) -> np.ndarray:
    out = np.full((t, s), np.nan)
    out[start:] = rows
    return out


def _seasonal(values: np.ndarray, period: int, start: int) -> np.ndarray:
    """Median of the values 1..SEASONS periods back (same weekday, same hour); needs 2."""
    t, s = values.shape
    lagged = np.full((SEASONS, t - start, s), np.nan)
    for i in range(1, SEASONS + 1):
        rows = np.arange(start, t) - i * period
        ok = rows >= 0
        lagged[i - 1, ok] = values[rows[ok]]
    return _placed(t, s, start, median_of(list(lagged), min_periods=2))


def _residual_model(values: np.ndarray, forecast: np.ndarray, w: Windows, start: int,
                    first_bias: int, carry: int | None, carried: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected center and the raw (unfloored) residual scale, both causal.

    Biases from ``first_bias`` on, carried as in :func:`_level`."""
    t, s = values.shape
    residual = values - forecast
    bias = prior_quantile(residual, w.trend, 0.5, first_bias, min_periods=max(2, w.trend // 2))
    if carry is None:
        carried |= np.isnan(bias).any(axis=0)
    else:
        # Carried forward like the level, so a run of excluded partitions does not stop judging.
        bias = pd.DataFrame(bias).ffill(limit=carry).to_numpy()
    bias = _placed(t, s, first_bias, bias)
    deviation = np.abs(residual - bias)
    scale = _placed(t, s, start, prior_quantile(deviation, w.scale, 0.8, start,
                                                min_periods=w.min_history)) * Q80_TO_SIGMA
    if w.period and t > 2 * w.period:
        scale = np.fmax(scale, _phase_scale(deviation, w, start))
    return forecast + bias, scale


def _phase_scale(deviation: np.ndarray, w: Windows, start: int) -> np.ndarray:
    """The noise of the same weekday (hour) alone, over the same window.

    Noise differs by phase: a weekend's p75 of small integers flips between 4 and 5
    while weekdays sit at 4, and a scale pooled over all days calls every weekend flip
    an anomaly. The band takes the larger of the pooled and the phase's own scale.
    """
    t, s = deviation.shape
    p = w.period
    cycles = -(-t // p)
    # Row k, block phase of ``by_phase`` is row k * p + phase: one call for every phase.
    padded = np.full((cycles * p, s), np.nan)
    padded[:t] = deviation
    by_phase = padded.reshape(cycles, p * s)
    first = start // p
    q = prior_quantile(by_phase, max(2, w.scale // p), 0.8, first,
                       min_periods=max(2, w.min_history // p))
    out = np.full((cycles * p, s), np.nan)
    out[first * p:] = q.reshape(-1, s)
    return out[:t] * Q80_TO_SIGMA


class _Floors:
    """Small partitions widen the band; sampling alone sets a least noise.

    The parts that do not depend on the center are computed once, for rows ``start`` on.
    """

    def __init__(self, sizes: np.ndarray, kinds: np.ndarray,
                 spread: tuple[np.ndarray, np.ndarray, np.ndarray], w: Windows, start: int,
                 fixed_design: np.ndarray | None = None, values: np.ndarray | None = None):
        self.start = start
        prior_sizes = prior_quantile(sizes, w.level, 0.5, start)
        now = sizes[start:]
        n = np.where(np.isfinite(now) & (now > 0), now, prior_sizes)
        self.n = np.where(np.isfinite(n) & (n > 0), n, 1.0)
        typical = np.where(np.isfinite(prior_sizes) & (prior_sizes > 0), prior_sizes, self.n)
        sampled = (kinds == KIND_CODES["fraction"]) | (kinds == KIND_CODES["location"])
        self.widen = np.where(sampled[None, :], np.sqrt(np.fmax(1.0, typical / self.n)), 1.0)
        spreads, factor, per_root_n = spread
        # The column's spread as it was before this partition: a fault that collapses or
        # inflates the spread must not move its own band.
        sampling = prior_quantile(spreads, w.level, 0.5, start) * factor
        sampling = np.where(per_root_n[None, :], sampling / np.sqrt(self.n), sampling)
        if fixed_design is not None:
            sampling = np.where(per_root_n[None, :] & fixed_design[:, None], 0.0, sampling)
        self.sampling = np.nan_to_num(sampling, nan=0.0)
        self.counts = (kinds == KIND_CODES["count"])[None, :]
        self.fractions = (kinds == KIND_CODES["fraction"])[None, :]
        self.rare = 1.0 / self.n
        if values is not None:
            self.rare = np.fmin(self.rare, _pooled_rarity(values, sizes, w.level, start))

    def apply(self, scale: np.ndarray, center: np.ndarray) -> np.ndarray:
        n, first = self.n, self.start
        scale, center = scale[first:], np.nan_to_num(center[first:], nan=0.0)
        floor = 1e-9 + 1e-4 * np.abs(center)
        floor = np.where(self.counts, np.fmax(floor, 0.5), floor)
        # A fraction's binomial floor at its center, kept off 0 and 1 by the rate its
        # window's rows show (a count test: 3 NULLs in 7 rows after 200 rows with none
        # is no sampling accident), or by one row in this partition if that is rarer.
        p = np.clip(center, self.rare, 1.0 - self.rare)
        floor = np.where(self.fractions, np.fmax(floor, np.sqrt(p * (1.0 - p) / n)), floor)
        floor = np.fmax(floor, self.sampling)
        # Unknown until enough history: a floor alone is no evidence of what normal looks like.
        out = np.full((first + len(scale), scale.shape[1]), np.nan)
        out[first:] = np.where(np.isnan(scale), np.nan, np.fmax(scale * self.widen, floor))
        return out


def _pooled_rarity(values: np.ndarray, sizes: np.ndarray, window: int, start: int
                   ) -> np.ndarray:
    """Rows ``start..``: the rarer side of each fraction over the rows of the ``window``
    partitions before (Jeffreys' ``(k + 1/2) / (n + 1)``, for the smaller of the counts
    of rows in and out of the fraction), NaN-free; 1/2 where the window is empty."""
    lead = max(0, start - window)  # only the rows the windows of ``start..`` read
    values, sizes, start = values[lead:], sizes[lead:], start - lead
    known = np.isfinite(values) & np.isfinite(sizes) & (sizes > 0)
    rows = np.where(known, sizes, 0.0)
    inside = np.where(known, np.clip(values, 0.0, 1.0) * rows, 0.0)
    cum_rows = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(rows, axis=0)])
    cum_in = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(inside, axis=0)])
    at = np.arange(start, len(values))
    lo = np.clip(at - window, 0, None)
    n = cum_rows[at] - cum_rows[lo]
    k = cum_in[at] - cum_in[lo]
    return (np.fmin(k, n - k) + 0.5) / (n + 1.0)

