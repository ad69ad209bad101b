"""The peers watchkeeper's detector is compared with, re-implemented from their published rules.

Raw-data baselines (they need the rows, which watchkeeper's detectors never see):
- ``tfdv``: TensorFlow Data Validation's drift comparator against the previous
  partition: Jensen-Shannon divergence > 0.1 (numeric, 10 equal-width bins over
  both samples' range) or L-infinity distance > 0.1 (categorical frequencies).
- ``ks_chi2``: two-sample Kolmogorov-Smirnov (numeric) or chi-squared (categorical)
  against the previous partition, p < 0.05. p-values use the asymptotic Kolmogorov
  distribution and the Wilson-Hilferty approximation (no scipy in our pins).

Summary baselines:
- ``coverage_drop``: a column's coverage (1 - null_fraction) fell by 25% or more
  from the previous partition.
- Deequ's OnlineNormal is :class:`watchkeeper.detect.OnlineNormalDetector`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

JS_THRESHOLD = 0.1
LINF_THRESHOLD = 0.1
P_VALUE = 0.05


def _numeric(s: pd.Series) -> np.ndarray | None:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dropna().astype("int64").to_numpy(dtype=float) / 1e6
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.dropna().to_numpy(dtype=float)
        return v[np.isfinite(v)]
    return None


def js_divergence(a: np.ndarray, b: np.ndarray, bins: int = 10) -> float:
    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) != len(b) else 0.0
    low, high = min(a.min(), b.min()), max(a.max(), b.max())
    if high <= low:
        return 0.0
    edges = np.linspace(low, high, bins + 1)
    p = np.histogram(a, edges)[0] / len(a)
    q = np.histogram(b, edges)[0] / len(b)
    m = (p + q) / 2
    return float(0.5 * _kl(p, m) + 0.5 * _kl(q, m))


def _kl(x: np.ndarray, m: np.ndarray) -> float:
    ratio = np.divide(x, m, out=np.ones_like(x), where=(x > 0) & (m > 0))
    return float(np.sum(np.where(x > 0, x * np.log2(ratio), 0.0)))


def linf(a: pd.Series, b: pd.Series) -> float:
    p = a.dropna().astype(str).value_counts(normalize=True)
    q = b.dropna().astype(str).value_counts(normalize=True)
    keys = p.index.union(q.index)
    if len(keys) == 0:
        return 0.0
    return float((p.reindex(keys, fill_value=0) - q.reindex(keys, fill_value=0)).abs().max())


def ks_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or len(b) < 2:
        return 1.0
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    d = np.max(np.abs(np.searchsorted(a, grid, "right") / len(a)
                      - np.searchsorted(b, grid, "right") / len(b)))
    ne = len(a) * len(b) / (len(a) + len(b))
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d
    if lam < 1e-3:
        return 1.0
    total = sum(2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))
    return float(min(1.0, max(0.0, total)))


def chi2_pvalue(a: pd.Series, b: pd.Series) -> float:
    p = a.dropna().astype(str).value_counts()
    q = b.dropna().astype(str).value_counts()
    keys = p.index.union(q.index)
    table = np.vstack([p.reindex(keys, fill_value=0), q.reindex(keys, fill_value=0)]).astype(float)
    if table.shape[1] < 2 or table.sum() == 0:
        return 1.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = float(np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)))
    k = table.shape[1] - 1
    z = ((stat / k) ** (1 / 3) - (1 - 2 / (9 * k))) / math.sqrt(2 / (9 * k))
    return 0.5 * math.erfc(z / math.sqrt(2))


def tfdv(current: pd.DataFrame, previous: pd.DataFrame, columns: list[str]) -> list[tuple]:
    """(column, distance / threshold) for columns over threshold, worst first."""
    out = []
    for c in columns:
        x, y = _numeric(current[c]), _numeric(previous[c])
        if x is not None:
            ratio = js_divergence(x, y) / JS_THRESHOLD
        else:
            ratio = linf(current[c], previous[c]) / LINF_THRESHOLD
        if ratio > 1:
            out.append((c, ratio))
    return sorted(out, key=lambda t: -t[1])


def ks_chi2(current: pd.DataFrame, previous: pd.DataFrame, columns: list[str]) -> list[tuple]:
    out = []
    for c in columns:
        x, y = _numeric(current[c]), _numeric(previous[c])
        p = ks_pvalue(x, y) if x is not None else chi2_pvalue(current[c], previous[c])
        if p < P_VALUE:
            out.append((c, -math.log10(max(p, 1e-300))))
    return sorted(out, key=lambda t: -t[1])


def coverage_drop(current: pd.DataFrame, previous: pd.DataFrame) -> list[tuple]:
    """Summary rule: coverage = 1 - null_fraction fell by >= 25% vs the previous partition."""
    cur = current[current["statistic"] == "null_fraction"].set_index("column")["value"]
    old = previous[previous["statistic"] == "null_fraction"].set_index("column")["value"]
    cov_now, cov_then = 1 - cur, (1 - old).reindex(cur.index)
    drop = (cov_then - cov_now) / cov_then.where(cov_then > 0)
    hits = drop[drop >= 0.25].sort_values(ascending=False)
    return list(hits.items())
