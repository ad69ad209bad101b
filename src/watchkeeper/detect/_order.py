"""Extremes of small partitions, judged as order statistics.

The min of 12 ratings' movie ids is not the min of 300: a small partition's extremes (and
the quantiles its one or two outermost rows set) move by sampling alone, far more than
the history of larger partitions suggests, and their learned band is then too narrow. An
extreme is the outermost of ``n`` draws from the column's distribution, so how surprising
it is follows from that distribution: with ``F`` the column's recent distribution (pooled
over the window's partitions, each read off its quantiles), the chance that the min of
``n`` rows lies at or above ``x`` is ``(1 - F(x)) ** n``, and at or below it
``1 - (1 - F(x)) ** n``; the max mirrors it.

That chance caps the score (never raises it): a cell scores at most the noise units a
normal tail gives the same probability, ``sqrt(2 ln(1 / p))``. A value the column's own
recent rows make likely for a partition of this size is noise, however narrow its band;
a value beyond anything the window held keeps its score (``F`` is 0 or 1 there).
"""

from __future__ import annotations

import math

import numpy as np

# Knots of a partition's distribution: (statistic, cumulative probability).
KNOTS = (("min", 0.0), ("p01", 0.01), ("p05", 0.05), ("p25", 0.25), ("p50", 0.5),
         ("p75", 0.75), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
PROBABILITY = dict(KNOTS)
SMALL = 200  # rows: beyond this, sampling moves no extreme past its learned band


def capped(grid, learn: np.ndarray, z: np.ndarray, rows: np.ndarray, window: int,
           cap_from: float) -> np.ndarray:
    """``z`` with the scores of small partitions' extremes (and the quantiles their
    outermost row sets) above ``cap_from`` capped by their order-statistic probability."""
    stats = grid.statistics
    outer = np.array([s in PROBABILITY for s in stats])
    if not outer.any():
        return z
    flagged_r, flagged_s = np.nonzero((z[rows] > cap_from) & outer[None, :])
    if flagged_r.size == 0:
        return z
    knots = _knot_series(grid)
    z = z.copy()
    for r, j in zip(rows[flagged_r], flagged_s):
        column = grid.columns[j]
        n = grid.sizes[r, j]
        if column not in knots or not (np.isfinite(n) and 0 < n <= SMALL):
            continue
        q = PROBABILITY[str(stats[j])]
        position = q * (n - 1.0)  # type-7: between order statistics floor and ceil + 1
        if 1.0 <= position <= n - 2.0:
            continue  # set by inner rows: sampled like any quantile
        x = grid.values[r, j]
        f = _pooled_cdf(learn, knots[column], r, window, x)
        if f is None:
            continue
        low = q < 0.5  # the min side (min, p01, p05) or the max side
        inside = (1.0 - f) ** n if low else f ** n  # all n rows above x (min) / below (max)
        typical = learn[max(0, r - window):r, j]
        typical = typical[np.isfinite(typical)]
        if typical.size == 0:
            continue
        above = x > float(np.median(typical))
        # Inward (min up, max down): all rows beyond x; outward: at least one row past x.
        p = inside if above == low else 1.0 - inside
        p = float(np.clip(p, 1e-300, 1.0))
        z[r, j] = min(z[r, j], math.sqrt(2.0 * math.log(1.0 / p)))
    return z


def _knot_series(grid) -> dict:
    """column -> [(series index, probability)] for columns with at least min, p50, max."""
    out: dict = {}
    for j, (c, s) in enumerate(zip(grid.columns, grid.statistics)):
        if s in PROBABILITY:
            out.setdefault(c, []).append((j, PROBABILITY[s]))
    return {c: sorted(k, key=lambda t: t[1]) for c, k in out.items()
            if {0.0, 0.5, 1.0} <= {p for _, p in k}}


def _pooled_cdf(learn: np.ndarray, knots: list, row: int, window: int, x: float
                ) -> float | None:
    """The column's distribution at ``x``, averaged over the window's partitions (each a
    piecewise-linear CDF through its quantiles); None with no partition to read."""
    index = [j for j, _ in knots]
    probs = np.array([p for _, p in knots])
    block = learn[max(0, row - window):row][:, index]
    block = block[np.isfinite(block).all(axis=1)]
    if len(block) == 0:
        return None
    values = np.sort(block, axis=1)  # ties and crossings of interpolated quantiles
    return float(np.mean([np.interp(x, v, probs, left=0.0, right=1.0) for v in values]))
