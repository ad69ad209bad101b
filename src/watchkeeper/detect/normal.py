"""``OnlineNormalDetector``: Deequ's OnlineNormalStrategy on every summary series.

Running mean and standard deviation of all earlier partitions; a value more than
``deviations`` standard deviations away is an anomaly, and (like Deequ's
``ignoreAnomalies``) is not added to the running statistics. It knows nothing of
seasonality, trend or sample size: it is the baseline the robust detector must beat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._grid import Grid, check_history, to_grid
from ._judge import capped_exclusions, masked, seen_counts, verdicts, z_scores
from .base import BaseDetector
from .verdict import Verdict


class OnlineNormalDetector(BaseDetector):
    def __init__(self, deviations: float = 3.0, min_history: int = 14,
                 ignore_anomalies: bool = True, max_explanations: int = 10) -> None:
        self.deviations = deviations
        self.min_history = min_history
        self.ignore_anomalies = ignore_anomalies
        self.max_explanations = max_explanations

    def fit(self, history: pd.DataFrame, exclude=None) -> "OnlineNormalDetector":
        frame = check_history(history)
        self.history_ = frame.reset_index(drop=True)
        self.exclude_ = list(exclude or [])
        return self

    def judge(self, statistics: pd.DataFrame) -> list[Verdict]:
        """Verdicts for the new partitions, each against everything before it."""
        self._check_fitted()
        new = check_history(statistics)
        if new.empty:
            return []
        old = self.history_[~self.history_["partition"].isin(new["partition"].unique())]
        verdict = self.backtest(pd.concat([old, new], ignore_index=True), self.exclude_)
        wanted = set(pd.DatetimeIndex(new["partition"].unique()))
        return [v for v in verdict if v.partition in wanted]

    def score(self, statistics: pd.DataFrame) -> pd.Series:
        judged = self.judge(statistics)
        return pd.Series([v.score for v in judged],
                         index=pd.DatetimeIndex([v.partition for v in judged]), name="score",
                         dtype="float64")

    def backtest(self, history: pd.DataFrame, exclude=None) -> list[Verdict]:
        frame = check_history(history)
        if frame.empty:
            return []
        grid = to_grid(frame, checked=True)
        excluded = capped_exclusions(grid.partitions[grid.observed], exclude, len(grid.partitions),
                                     grid.granularity.offset, 0.5)
        center, scale = self._running(grid, masked(grid, excluded))
        z = z_scores(grid.values, center, scale)
        # Deequ's rule is a single 3-sigma threshold: anything beyond it is an alert.
        level = float(self.deviations)
        return verdicts(grid, np.flatnonzero(grid.observed), z, center, level * scale,
                        seen_counts(grid.observed), min_history=self.min_history,
                        levels=(level, level, np.inf), max_explanations=self.max_explanations)

    def _running(self, grid: Grid, learn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std of earlier partitions, skipping earlier anomalies if asked."""
        t, s = learn.shape
        count, total, squares = np.zeros(s), np.zeros(s), np.zeros(s)
        center, scale = np.full((t, s), np.nan), np.full((t, s), np.nan)
        for row in range(t):
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = total / count
                var = (squares - count * mean**2) / np.maximum(count - 1, 1)
            center[row] = np.where(count >= 2, mean, np.nan)
            scale[row] = np.where(count >= 2, np.sqrt(np.fmax(var, 0.0)) + 1e-12, np.nan)
            x = learn[row]
            ok = np.isfinite(x)
            if self.ignore_anomalies:
                with np.errstate(invalid="ignore"):
                    anomalous = np.abs(x - center[row]) > self.deviations * scale[row]
                ok &= ~(anomalous & (count >= self.min_history))
            count += ok
            total += np.where(ok, x, 0.0)
            squares += np.where(ok, x * x, 0.0)
        return center, scale
