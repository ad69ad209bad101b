"""Causal rolling quantiles over many series at once: the one numeric primitive of the model.

``prior_quantile(values, window, q, start)[i]`` is the ``q``-quantile (linear
interpolation, NaN ignored) of ``values[t - window : t]`` for row ``t = start + i``:
strictly earlier rows only. Two implementations of the same definition:

- many rows (a backtest): pandas' skip-list rolling quantile, O(log window) per value,
  run once over all series laid end to end with ``window`` NaNs between them so no
  window ever mixes two series;
- few rows (live scoring of the newest partition): a sort of just those windows.

Both use the same interpolation formula; a test checks they agree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SORT_BUDGET = 100_000_000  # window cells above which the skip-list path is faster
CHUNK = 8_000_000  # window cells sorted at once (bounds memory to ~64 MB)


def prior_quantile(values: np.ndarray, window: int, q: float, start: int = 0,
                   min_periods: int = 1) -> np.ndarray:
    """Rows ``start..T-1`` of the causal rolling quantile (see module doc)."""
    t, s = values.shape
    start = max(0, start)
    if t - start <= 0 or s == 0:
        return np.full((max(0, t - start), s), np.nan)
    if (t - start) * s * window > SORT_BUDGET:
        return _skiplist(values, window, q, min_periods)[start:]
    return _sorted(values, window, q, start, min_periods)


def _skiplist(values: np.ndarray, window: int, q: float, min_periods: int) -> np.ndarray:
    t, s = values.shape
    prior = np.full((window + t, s), np.nan)
    prior[window + 1:] = values[:-1]  # row window + t' holds values[t' - 1]
    flat = pd.Series(prior.T.ravel())
    out = flat.rolling(window, min_periods=min_periods).quantile(q, interpolation="linear")
    return out.to_numpy().reshape(s, window + t)[:, window:].T


def _sorted(values: np.ndarray, window: int, q: float, start: int, min_periods: int
            ) -> np.ndarray:
    t, s = values.shape
    padded = np.vstack([np.full((window, s), np.nan), values])
    # Row t's window is values[t - window : t] = padded[t : t + window].
    views = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)[start:t]
    out = np.empty((t - start, s))
    step = max(1, CHUNK // max(1, (t - start) * window))
    for lo in range(0, s, step):
        block = np.sort(views[:, lo:lo + step, :], axis=-1)  # NaN sorts last
        count = np.isfinite(block).sum(axis=-1)
        out[:, lo:lo + step] = _interpolate(block, count, q, min_periods)
    return out


def _interpolate(block: np.ndarray, count: np.ndarray, q: float, min_periods: int) -> np.ndarray:
    position = q * (np.maximum(count, 1) - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    v_low = np.take_along_axis(block, low[..., None], axis=-1)[..., 0]
    v_high = np.take_along_axis(block, high[..., None], axis=-1)[..., 0]
    fraction = position - low
    value = np.where(fraction == 0, v_low, v_low + (v_high - v_low) * fraction)
    return np.where(count >= max(1, min_periods), value, np.nan)
