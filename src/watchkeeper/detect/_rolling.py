"""Causal rolling quantiles over many series at once: the one numeric primitive of the model.

``prior_quantile(values, window, q, start)[i]`` is the ``q``-quantile (linear
interpolation, NaN ignored) of ``values[t - window : t]`` for row ``t = start + i``:
strictly earlier rows only. Implementations of the same definition, all giving the
very same numbers (a test checks they agree):

- small windows (up to :data:`NETWORK_MAX` partitions: the level, trend, seasonal
  and per-phase windows): a sorting network applied to all windows at once, in
  cache-sized blocks of series. Each of its comparators is one ``fmin`` and one
  ``maximum`` over a whole block (NaN sorts last, as in ``np.sort``), so the cost is a
  few dozen vectorised passes instead of one small sort per window;
- the 0 and 1 quantiles (the window's smallest and largest known value): a running
  ``fmin`` / ``fmax``, no sort at all;
- large windows over many rows (a backtest's noise scale): pandas' skip-list rolling
  quantile, O(log window) per value, run once over all series laid end to end with
  ``window`` NaNs between them so no window ever mixes two series;
- large windows over few rows (live scoring of the newest partition): a sort of just
  those windows.

Series holding an infinite value keep the original choice between the last two
(whose interpolation counts only finite values, which an infinity at either end of a
window makes differ from the skip list's): the fast paths above are for finite data.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

import numpy as np
import pandas as pd

SORT_BUDGET = 100_000_000  # window cells above which the skip-list path is faster
CHUNK = 8_000_000  # window cells sorted at once (bounds memory to ~64 MB)
NETWORK_MAX = 16  # windows up to this many partitions use a sorting network
NETWORK_CELLS = 1 << 14  # values per network pass: a block of windows stays in cache


def prior_quantile(values: np.ndarray, window: int, q: float, start: int = 0,
                   min_periods: int = 1) -> np.ndarray:
    """Rows ``start..T-1`` of the causal rolling quantile (see module doc)."""
    t, s = values.shape
    start = max(0, start)
    if t - start <= 0 or s == 0:
        return np.full((max(0, t - start), s), np.nan)
    finite = not np.isinf(values).any()
    if finite and q in (0.0, 1.0):
        return _extreme(values, window, q, start, min_periods)
    if finite and window <= NETWORK_MAX:
        return _network(values, window, q, start, min_periods)
    total, part = _SHARE.get()  # a block of a wider grid chooses as the whole grid would
    if (t - start) * (s * total // part) * window > SORT_BUDGET:
        return _skiplist(values, window, q, min_periods)[start:]
    return _sorted(values, window, q, start, min_periods)


_SHARE: ContextVar[tuple[int, int]] = ContextVar("series_share", default=(1, 1))


@contextmanager
def series_share(total: int, part: int):
    """Inside: calls stand for a block of ``part`` series of a grid of ``total`` series in
    choosing their method (a call on ``k * part`` columns, e.g. one per phase, for
    ``k * total``). Only values with an infinity can tell the methods apart."""
    token = _SHARE.set((total, part))
    try:
        yield
    finally:
        _SHARE.reset(token)


def _prior_rows(values: np.ndarray, window: int, start: int) -> np.ndarray:
    """Rows ``start - window .. T - 2`` of ``values`` (NaN before the first): row ``i + k``
    of the result is position ``k`` of row ``start + i``'s window. A view when it can be."""
    t, s = values.shape
    first = start - window
    if first >= 0:
        return values[first:t - 1]
    return np.vstack([np.full((-first, s), np.nan), values[:t - 1]])


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
    # Row t's window is values[t - window : t].
    views = np.lib.stride_tricks.sliding_window_view(_prior_rows(values, window, start), window,
                                                     axis=0)
    out = np.empty((t - start, s))
    step = max(1, CHUNK // max(1, (t - start) * window))
    for lo in range(0, s, step):
        block = np.sort(views[:, lo:lo + step, :], axis=-1)  # NaN sorts last
        count = np.isfinite(block).sum(axis=-1)
        out[:, lo:lo + step] = _interpolate(block, count, q, min_periods)
    return out


@lru_cache(maxsize=None)
def sorting_network(n: int) -> tuple[tuple[int, int], ...]:
    """Comparators ``(i, j)``, ``i < j``, of Batcher's odd-even merge sort of ``n`` items.

    Built for the next power of two; comparators reaching past ``n`` are dropped (the
    missing items would be the largest, so those comparators never move anything).
    """
    size = 1
    while size < n:
        size *= 2
    out = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p) and i + j + k < n:
                        out.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return tuple(out)


def _network(values: np.ndarray, window: int, q: float, start: int, min_periods: int
             ) -> np.ndarray:
    """:func:`_sorted` by a sorting network, a block of series at a time."""
    t, s = values.shape
    n_rows = t - start
    prior = _prior_rows(values, window, start)
    out = np.empty((n_rows, s))
    step = max(1, NETWORK_CELLS // n_rows)
    work = np.empty((window + 1, n_rows * min(step, s)))
    for lo in range(0, s, step):
        hi = min(s, lo + step)
        m = n_rows * (hi - lo)
        rows = []
        for k in range(window):  # position k of every window in the block
            r = work[k, :m]
            r.reshape(n_rows, hi - lo)[...] = prior[k:k + n_rows, lo:hi]
            rows.append(r)
        # Known values per window: a difference of running counts (no infinities here).
        known = np.zeros((n_rows + window, hi - lo), dtype=np.int64)
        np.cumsum(~np.isnan(prior[:, lo:hi]), axis=0, out=known[1:])
        count = (known[window:] - known[:n_rows]).reshape(-1)
        out[:, lo:hi] = _pick(_sort(rows, work[window, :m]), q, min_periods, count).reshape(
            n_rows, hi - lo)
    return out


def median_of(rows: list[np.ndarray], min_periods: int = 1) -> np.ndarray:
    """The median (as :func:`_interpolate`) of equally shaped arrays, element by element,
    by the sorting network (the same order as ``np.sort``), a cache-sized block at a time."""
    shape = rows[0].shape
    flat = [np.ascontiguousarray(r).reshape(-1) for r in rows]
    size = flat[0].size
    out = np.empty(size)
    work = np.empty((len(rows) + 1, min(size, NETWORK_CELLS)))
    for lo in range(0, size, NETWORK_CELLS):
        hi = min(size, lo + NETWORK_CELLS)
        block = []
        for k, r in enumerate(flat):
            block.append(work[k, :hi - lo])
            block[-1][...] = r[lo:hi]
        out[lo:hi] = _pick(_sort(block, work[len(rows), :hi - lo]), 0.5, min_periods)
    return out.reshape(shape)


def _sort(rows: list[np.ndarray], spare: np.ndarray) -> list[np.ndarray]:
    """``rows`` (equally shaped arrays) sorted element by element: position k of the result
    holds each element's k-th smallest value, NaN last (as ``np.sort``). In place: the
    result reuses the arrays of ``rows`` and ``spare``."""
    rows = list(rows)
    for a, b in sorting_network(len(rows)):
        np.fmin(rows[a], rows[b], out=spare)       # NaN goes up, as in np.sort
        np.maximum(rows[a], rows[b], out=rows[b])
        rows[a], spare = spare, rows[a]
    return rows


def _pick(rows: list[np.ndarray], q: float, min_periods: int,
          count: np.ndarray | None = None) -> np.ndarray:
    """:func:`_interpolate` of sorted windows held as one array per window position;
    ``count``: their finite values, if known."""
    if count is None:
        count = np.zeros(rows[0].shape, dtype=np.int64)
        for r in rows:
            count += np.isfinite(r)
    usual = int(count.flat[-1]) if count.size else 0
    # Where the window has the usual number of known values (nearly everywhere): the same
    # two positions for all, the same arithmetic as _interpolate.
    position = q * (max(usual, 1) - 1)
    low = int(np.floor(position))
    high = min(low + 1, max(usual - 1, 0))
    fraction = position - low
    if not usual >= max(1, min_periods):
        value = np.full(rows[0].shape, np.nan)
    elif fraction == 0:
        value = rows[low].copy()
    else:
        value = rows[low] + (rows[high] - rows[low]) * fraction
    odd = np.flatnonzero(count != usual)
    if odd.size:  # the others, as _interpolate, choosing from the arrays at those places
        c = count[odd]
        position = q * (np.maximum(c, 1) - 1)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(c - 1, 0))
        at = [r[odd] for r in rows]
        v_low, v_high = np.choose(low, at), np.choose(high, at)
        fraction = position - low
        picked = np.where(fraction == 0, v_low, v_low + (v_high - v_low) * fraction)
        value[odd] = np.where(c >= max(1, min_periods), picked, np.nan)
    return value


def _extreme(values: np.ndarray, window: int, q: float, start: int, min_periods: int
             ) -> np.ndarray:
    """The 0 (smallest) or 1 (largest) quantile of finite values: a running fmin / fmax."""
    t, s = values.shape
    prior = _prior_rows(values, window, start)
    n_rows = t - start
    reduce = np.fmin if q == 0.0 else np.fmax
    out = prior[:n_rows].copy()
    count = np.isfinite(out).astype(np.int64)
    for k in range(1, window):
        part = prior[k:k + n_rows]
        reduce(out, part, out=out)
        count += np.isfinite(part)
    return np.where(count >= max(1, min_periods), out, np.nan)


def _interpolate(block: np.ndarray, count: np.ndarray, q: float, min_periods: int) -> np.ndarray:
    position = q * (np.maximum(count, 1) - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(count - 1, 0))
    v_low = np.take_along_axis(block, low[..., None], axis=-1)[..., 0]
    v_high = np.take_along_axis(block, high[..., None], axis=-1)[..., 0]
    fraction = position - low
    value = np.where(fraction == 0, v_low, v_low + (v_high - v_low) * fraction)
    return np.where(count >= max(1, min_periods), value, np.nan)
