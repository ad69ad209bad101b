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
from ._rolling import prior_quantile

Q80_TO_SIGMA = 1.0 / 1.2816  # |N(0,1)| has its 80th percentile at 1.2816
SEASONS = 4
SEASONAL_MARGIN = 0.8  # a seasonal forecast must cut the scale by 20% to be preferred


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

    @property
    def carry(self) -> int:
        """How far a level or bias is carried over unknown (excluded) partitions."""
        return self.scale // 2 + self.level

    def lookback(self) -> int:
        """Rows before a scored row that its expectation can depend on."""
        forecast = max(self.level, (self.period or 0) * SEASONS)
        return self.scale + 2 * self.carry + self.trend + forecast + 1


def expectations(values: np.ndarray, sizes: np.ndarray, kinds: np.ndarray,
                 spread: tuple[np.ndarray, np.ndarray, np.ndarray], w: Windows,
                 start: int = 0) -> Expectation:
    """Causal expected value and noise scale of every series, for rows ``start`` onwards."""
    t, s = values.shape
    first_resid = max(0, start - w.scale - w.carry - w.trend)
    forecasts = [_level(values, w, first_resid)]
    if w.period and t > 2 * w.period:
        forecasts.append(_seasonal(values, w.period, first_resid))
    center = scale = None
    for forecast in forecasts:
        c, sc = _residual_model(values, forecast, w, start)
        if center is None:
            center, scale = c, sc
            continue
        better = sc < SEASONAL_MARGIN * np.where(np.isnan(scale), np.inf, scale)
        center, scale = np.where(better, c, center), np.where(better, sc, scale)
    return Expectation(center, _floored(scale, center, sizes, kinds, spread, w, start))


def _level(values: np.ndarray, w: Windows, start: int) -> np.ndarray:
    """Median of the last ``level`` partitions; carried forward (up to ``carry`` rows) when
    they are all unknown, e.g. excluded as confirmed bad, so judging goes on."""
    t, s = values.shape
    first = max(0, start - w.carry)
    level = prior_quantile(values, w.level, 0.5, first,
                           min_periods=max(2, min(w.level, w.min_history // 2)))
    level = pd.DataFrame(level).ffill(limit=w.carry).to_numpy()
    return _placed(t, s, start, level[start - first:])


def _placed(t: int, s: int, start: int, rows: np.ndarray) -> np.ndarray:
    out = np.full((t, s), np.nan)
    out[start:] = rows
    return out


def _seasonal(values: np.ndarray, period: int, start: int) -> np.ndarray:
    """Median of the values 1..SEASONS periods back (same weekday, same hour); needs 2."""
    t, s = values.shape
    lagged = np.full((t - start, s, SEASONS), np.nan)
    for i in range(1, SEASONS + 1):
        rows = np.arange(start, t) - i * period
        ok = rows >= 0
        lagged[ok, :, i - 1] = values[rows[ok]]
    lagged.sort(axis=-1)
    count = np.isfinite(lagged).sum(axis=-1)
    from ._rolling import _interpolate

    return _placed(t, s, start, _interpolate(lagged, count, 0.5, 2))


def _residual_model(values: np.ndarray, forecast: np.ndarray, w: Windows, start: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected center and the raw (unfloored) residual scale, both causal."""
    t, s = values.shape
    residual = values - forecast
    first_bias = max(0, start - w.scale - w.carry)
    bias = prior_quantile(residual, w.trend, 0.5, first_bias, min_periods=max(2, w.trend // 2))
    # Carried forward like the level, so a run of excluded partitions does not stop judging.
    bias = _placed(t, s, first_bias, pd.DataFrame(bias).ffill(limit=w.carry).to_numpy())
    deviation = np.abs(residual - bias)
    scale = _placed(t, s, start, prior_quantile(deviation, w.scale, 0.8, start,
                                                min_periods=w.min_history)) * Q80_TO_SIGMA
    return forecast + bias, scale


def _floored(scale: np.ndarray, center: np.ndarray, sizes: np.ndarray, kinds: np.ndarray,
             spread: tuple[np.ndarray, np.ndarray, np.ndarray], w: Windows, start: int
             ) -> np.ndarray:
    """Widen small partitions, and never go below the noise sampling alone would give."""
    t, s = scale.shape
    prior_sizes = _placed(t, s, start, prior_quantile(sizes, w.level, 0.5, start))
    n = np.where(np.isfinite(sizes) & (sizes > 0), sizes, prior_sizes)
    n = np.where(np.isfinite(n) & (n > 0), n, 1.0)
    typical = np.where(np.isfinite(prior_sizes) & (prior_sizes > 0), prior_sizes, n)
    sampled = (kinds == KIND_CODES["fraction"]) | (kinds == KIND_CODES["location"])
    widen = np.where(sampled[None, :], np.sqrt(np.fmax(1.0, typical / n)), 1.0)

    floor = 1e-9 + 1e-4 * np.abs(np.nan_to_num(center))
    floor = np.where((kinds == KIND_CODES["count"])[None, :], np.fmax(floor, 0.5), floor)
    p = np.clip(np.nan_to_num(center, nan=0.0), 1.0 / n, 1.0 - 1.0 / np.maximum(n, 2.0))
    floor = np.where((kinds == KIND_CODES["fraction"])[None, :],
                     np.fmax(floor, np.sqrt(p * (1.0 - p) / n)), floor)
    values, factor, per_root_n = spread
    # The column's spread as it was before this partition: a fault that collapses or
    # inflates the spread must not move its own band.
    sampling = _placed(t, s, start, prior_quantile(values, w.level, 0.5, start)) * factor
    sampling = np.where(per_root_n[None, :], sampling / np.sqrt(n), sampling)
    floor = np.fmax(floor, np.nan_to_num(sampling, nan=0.0))
    # Unknown until enough history: a floor alone is no evidence of what normal looks like.
    return np.where(np.isnan(scale), np.nan, np.fmax(scale * widen, floor))
