"""The peers watchkeeper's detector is compared with, re-implemented from their published rules.

Raw-data baselines (they need the rows, which watchkeeper's detectors never see):
- ``tfdv``: TensorFlow Data Validation's drift comparator against the previous
  partition: Jensen-Shannon divergence > 0.1 (numeric, 10 equal-width bins over
  both samples' range) or L-infinity distance > 0.1 (categorical frequencies).
- ``ks_chi2``: two-sample Kolmogorov-Smirnov (numeric) or chi-squared (categorical)
  against the previous partition, p < 0.05. p-values use the asymptotic Kolmogorov
  distribution and the Wilson-Hilferty approximation (no scipy in our pins).

Summary baselines (on the partition statistics watchkeeper stores):
- ``coverage_drop``: a column's coverage (1 - null_fraction) fell by 25% or more
  from the previous partition.
- ``avh``: Auto-Validate-by-History (Tu et al., KDD 2023), see :class:`AVH`.
- Deequ's OnlineNormal is :class:`watchkeeper.detect.OnlineNormalDetector`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

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


# --- Auto-Validate-by-History ------------------------------------------------------------

LOCATION = ("mean", "min", "max", "p01", "p05", "p25", "p50", "p75", "p95", "p99")
SPREAD = ("std",)


def _perturbations(stats: list[str]) -> dict[str, Callable]:
    """Synthetic data errors as they move one column's statistics (``v``: examples x stats).

    AVH scores candidate constraints by how many synthetic errors injected into history
    they catch; these are the statistic-level images of the errors it injects (unit or
    scale changes, more NULLs, lost rows, a column pinned to one value)."""
    idx = {s: i for i, s in enumerate(stats)}

    def scaled(factor):
        def f(v):
            out = v.copy()
            for s in (*LOCATION, *SPREAD):
                if s in idx:
                    out[:, idx[s]] *= factor
            return out
        return f

    def nulls(v):
        out = v.copy()
        if "null_fraction" in idx:
            nf = out[:, idx["null_fraction"]]
            out[:, idx["null_fraction"]] = np.minimum(1.0, nf + 0.2)
            if "non_null_count" in idx:
                out[:, idx["non_null_count"]] *= np.clip(1 - 0.2 / np.maximum(1 - nf, 1e-9), 0, 1)
        return out

    def halved(v):
        out = v.copy()
        for s in ("row_count", "non_null_count", "distinct_count"):
            if s in idx:
                out[:, idx[s]] *= 0.5
        return out

    def doubled(v):
        out = v.copy()
        for s in ("row_count", "non_null_count"):
            if s in idx:
                out[:, idx[s]] *= 1.5
        if "duplicate_fraction" in idx:
            out[:, idx["duplicate_fraction"]] += 0.33
        return out

    def pinned(v):
        out = v.copy()
        for s, value in (("distinct_count", 1.0), ("std", 0.0), ("top_ratio", 1.0)):
            if s in idx:
                out[:, idx[s]] = value
        for s in LOCATION:
            if s in idx and "p50" in idx:
                out[:, idx[s]] = v[:, idx["p50"]]
        return out

    return {"x0.5": scaled(0.5), "x2": scaled(2.0), "nulls+0.2": nulls, "rows/2": halved,
            "rows*1.5": doubled, "pinned": pinned}


class AVH:
    """Auto-Validate-by-History (Tu et al., KDD 2023), on watchkeeper's partition statistics.

    For every (column, statistic) series of the history:
    1. **Differencing.** A series whose lag-1 autocorrelation exceeds 0.5 is treated as
       non-stationary and its first differences are validated instead (the paper tests
       stationarity; this is our simple, documented test).
    2. **Distribution-free bounds.** A constraint is ``|x - mu| <= k sigma`` (two-sided,
       Chebyshev: false-positive rate <= 1/k^2) or ``x - mu <= k sigma`` / ``mu - x <= k
       sigma`` (one-sided, Cantelli: <= 1/(1+k^2)), mu and sigma from all history before
       the partition.
    3. **Selection under a false-positive budget.** The table's budget ``false_alarms``
       (expected false alarms per partition, default 1/90) is split evenly over its
       columns; each column greedily selects up to ``per_column`` constraints that catch
       the most synthetic errors injected into its last 30 partitions (see
       ``_perturbations``), each constraint getting an equal share of the column's
       budget, so the summed bound on the false-positive rate meets the budget.

    Simplifications of the paper, stated: the candidate metrics are watchkeeper's stored
    statistics (not AVH's own metric library of distances between consecutive
    partitions); synthetic errors are applied to statistics, not to raw rows; every
    selected constraint of a column gets the same share of the budget (the paper also
    optimises the split); constraints are re-selected every ``refit_every`` partitions
    (their mu and sigma are updated at every partition). Partitions are the observed ones
    in time order (calendar gaps are ignored, as AVH validates pipeline runs).
    """

    def __init__(self, false_alarms: float = 1 / 90, per_column: int = 2,
                 min_history: int = 14, refit_every: int = 30, examples: int = 30) -> None:
        self.false_alarms = false_alarms
        self.per_column = per_column
        self.min_history = min_history
        self.refit_every = refit_every
        self.examples = examples

    def get_params(self) -> dict:
        return {"false_alarms": self.false_alarms, "per_column": self.per_column,
                "min_history": self.min_history, "refit_every": self.refit_every}

    def backtest(self, statistics: pd.DataFrame) -> list[tuple]:
        """(partition, alert, blamed columns worst first) for every partition after the
        first ``min_history``, each judged against the partitions before it only."""
        wide = statistics.pivot_table(index="partition", columns=["column", "statistic"],
                                      values="value", aggfunc="first").sort_index()
        parts = list(wide.index)
        x = wide.to_numpy(dtype=float, copy=True)
        x[~np.isfinite(x)] = np.nan
        pairs = list(wide.columns)
        columns = sorted({c for c, _ in pairs})
        budget_column = self.false_alarms / max(1, len(columns))
        level = _expanding(x)
        diffs = np.vstack([np.full((1, x.shape[1]), np.nan), _forward_diff(x)])
        change = _expanding(diffs)
        last = _last_observed(x)
        out, selected = [], None
        for t in range(self.min_history, len(parts)):
            if selected is None or (t - self.min_history) % self.refit_every == 0:
                selected = self._select(x[:t], pairs, columns, budget_column)
            hits = []
            for j, differenced, side, k in selected:
                mean, std = (change if differenced else level)
                value = x[t, j] - (last[t - 1, j] if differenced else 0.0)
                mu, sigma = mean[t - 1, j], std[t - 1, j]
                if not (np.isfinite(value) and np.isfinite(mu) and np.isfinite(sigma)):
                    continue
                r = value - mu
                bad = {"two": abs(r) > k * sigma, "upper": r > k * sigma,
                       "lower": -r > k * sigma}[side]
                if bad:
                    hits.append((pairs[j][0], abs(r) / sigma if sigma > 0 else math.inf))
            blamed = [c for c, _ in sorted(hits, key=lambda h: -h[1])]
            out.append((parts[t], bool(hits), list(dict.fromkeys(blamed))))
        return out

    def _select(self, history: np.ndarray, pairs: list, columns: list, budget: float) -> list:
        """The constraints of every column: (pair index, differenced, side, k)."""
        chosen = []
        share = budget / self.per_column
        k_two, k_one = 1 / math.sqrt(share), math.sqrt(max(1 / share - 1, 0.0))
        for column in columns:
            idx = [j for j, (c, _) in enumerate(pairs) if c == column]
            h = history[:, idx]
            enough = np.sum(np.isfinite(h), axis=0) >= self.min_history
            if not enough.any():
                continue
            differenced = np.array([_non_stationary(h[:, i]) for i in range(h.shape[1])])
            series = np.where(differenced, np.vstack([np.full((1, h.shape[1]), np.nan),
                                                      _forward_diff(h)]), h)
            with warnings.catch_warnings():  # all-NaN series: mu = sigma = NaN, skipped
                warnings.simplefilter("ignore", RuntimeWarning)
                mu, sigma = np.nanmean(series, axis=0), np.nanstd(series, axis=0)
            rows = np.flatnonzero(np.isfinite(h).any(axis=1))[-self.examples:]
            rows = rows[rows > 0]
            if len(rows) == 0:
                continue
            previous = _last_observed(h)[rows - 1]
            stats = [pairs[j][1] for j in idx]
            residuals = []
            for perturb in _perturbations(stats).values():
                bad = perturb(h[rows])
                residuals.append(np.where(differenced, bad - previous, bad) - mu)
            r = np.vstack(residuals)  # examples x stats
            candidates = []
            for i in np.flatnonzero(enough & np.isfinite(mu) & np.isfinite(sigma)):
                with np.errstate(invalid="ignore"):
                    ri = r[:, i]
                    for side, k, caught in (
                            ("two", k_two, np.abs(ri) > k_two * sigma[i]),
                            ("upper", k_one, ri > k_one * sigma[i]),
                            ("lower", k_one, -ri > k_one * sigma[i])):
                        candidates.append((idx[i], bool(differenced[i]), side, k,
                                           np.nan_to_num(caught, nan=0).astype(bool)))
            covered = np.zeros(r.shape[0], dtype=bool)
            picked = []
            for _ in range(self.per_column):
                gains = [int((c[4] & ~covered).sum()) for c in candidates]
                if not gains or max(gains) == 0:
                    break
                best = candidates.pop(int(np.argmax(gains)))
                covered |= best[4]
                picked.append(best)
            # the unspent budget widens nothing: each picked constraint keeps its share
            chosen.extend((j, d, side, k) for j, d, side, k, _ in picked)
        return chosen


def _forward_diff(x: np.ndarray) -> np.ndarray:
    """x[t] - (the last observed value before t), NaN where either is missing."""
    prior = _last_observed(x)[:-1]
    return x[1:] - prior


def _last_observed(x: np.ndarray) -> np.ndarray:
    """Row t holds the last finite value at or before t (forward fill), per column."""
    frame = pd.DataFrame(x)
    return frame.ffill().to_numpy()


def _expanding(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std of each column over rows 0..t (NaN-aware), per row t."""
    finite = np.isfinite(x)
    v = np.where(finite, x, 0.0)
    n = np.cumsum(finite, axis=0)
    total, squares = np.cumsum(v, axis=0), np.cumsum(v * v, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / n, np.nan)
        var = np.maximum(np.where(n > 0, squares / n - mean * mean, np.nan), 0.0)
    # cumulative sums lose the tiny variance of near-constant series: zero stays zero
    return mean, np.sqrt(np.where(var < 1e-12 * np.maximum(mean * mean, 1e-300), 0.0, var))


def _non_stationary(series: np.ndarray) -> bool:
    """Lag-1 autocorrelation above 0.5: treat as non-stationary (difference it)."""
    v = series[np.isfinite(series)]
    if len(v) < 10 or np.std(v) == 0:
        return False
    a, b = v[:-1] - v.mean(), v[1:] - v.mean()
    return float(np.sum(a * b) / np.sum((v - v.mean()) ** 2)) > 0.5
