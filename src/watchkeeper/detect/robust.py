"""``RobustDetector``: robust, seasonal, trend- and sample-size-aware bands per statistic."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.types import Granularity
from ._grid import Grid, check_history, combine, infer_granularity, spreads, tail, to_grid
from ._judge import (cap_seen_before, capped_exclusions, masked, seen_counts, thresholds,
                     uncorroborated, verdicts, z_scores)
from ._model import Windows, expectations
from .base import BaseDetector
from .verdict import Verdict

PERIODS = {Granularity.HOUR: 24, Granularity.DAY: 7, Granularity.WEEK: None}


class RobustDetector(BaseDetector):
    """Learns, per (column, statistic), a one-step forecast and its normal noise.

    Parameters
    ----------
    sensitivity: "low", "medium" or "high": how far outside its band a statistic
        must be for info / warning / critical (see ``_judge.SENSITIVITY``).
    level_window: partitions the plain forecast takes the median of.
    trend_window: recent residuals whose median corrects a trend's lag.
    window: partitions the noise scale is learned from.
    min_history: partitions needed before any judgement (earlier ones are "ok").
    seasonality: "auto" (24 for hourly, 7 for daily, none for weekly), an int, or None.
    max_excluded: largest fraction of a window that confirmed-bad partitions may take.
    shift_after: partitions in a row beyond their bands on one side after which their
        level is expected (a lasting change is learned); 0 never re-levels early.
    max_explanations: most columns listed per verdict.
    granularity: "auto" (inferred from the gaps between partitions), "hour", "day" or "week".
    """

    def __init__(self, sensitivity: str = "medium", level_window: int = 7, trend_window: int = 14,
                 window: int = 56, min_history: int = 14, seasonality="auto",
                 max_excluded: float = 0.5, max_explanations: int = 10,
                 granularity: str = "auto", shift_after: int = 3) -> None:
        self.sensitivity = sensitivity
        self.level_window = level_window
        self.trend_window = trend_window
        self.window = window
        self.min_history = min_history
        self.seasonality = seasonality
        self.max_excluded = max_excluded
        self.max_explanations = max_explanations
        self.granularity = granularity
        self.shift_after = shift_after

    # -- the contract --------------------------------------------------------------
    def fit(self, history: pd.DataFrame, exclude=None) -> "RobustDetector":
        """Learn normal from ``history``; partitions in ``exclude`` are confirmed bad."""
        thresholds(self.sensitivity)  # fail early on a bad parameter
        frame = check_history(history)
        parts = pd.DatetimeIndex(sorted(frame["partition"].unique()))
        grain = self._grain(parts)
        self.granularity_ = grain
        self.period_ = self._period(grain)
        self.excluded_ = capped_exclusions(parts, exclude, self.window, grain.offset,
                                           self.max_excluded)
        keep = self._windows().lookback() + 1
        recent = frame[frame["partition"] > parts[-keep]] if len(parts) > keep else frame
        # Only the tail is kept: no expectation depends on anything older.
        self.grid_ = tail(to_grid(recent, grain, checked=True), keep) if len(parts) else None
        self.n_seen_ = int(len(parts) - (self.grid_.observed.sum() if self.grid_ else 0))
        return self

    def judge(self, statistics: pd.DataFrame) -> list[Verdict]:
        """Verdicts for the new partitions in ``statistics``, in time order.

        Each is judged against the fitted history and the new partitions before it,
        exactly as :meth:`backtest` would have judged it.
        """
        self._check_fitted()
        new = check_history(statistics)
        if new.empty:
            return []
        if self.grid_ is None:
            return self.backtest(new)
        grid = combine(self.grid_, to_grid(new, self.granularity_, checked=True,
                                           series=(self.grid_.columns, self.grid_.statistics)))
        rows = np.flatnonzero(grid.partitions.isin(pd.DatetimeIndex(new["partition"].unique())))
        return self._judge(grid, rows, self.excluded_, self.n_seen_)

    def score(self, statistics: pd.DataFrame) -> pd.Series:
        """The anomaly score of each new partition (higher is more anomalous)."""
        judged = self.judge(statistics)
        return pd.Series([v.score for v in judged],
                         index=pd.DatetimeIndex([v.partition for v in judged]), name="score",
                         dtype="float64")

    def backtest(self, history: pd.DataFrame, exclude=None) -> list[Verdict]:
        """Judge every partition of ``history`` against the ones before it only."""
        thresholds(self.sensitivity)
        frame = check_history(history)
        if frame.empty:
            return []
        grid = to_grid(frame, self._grain(frame["partition"].unique()), checked=True)
        self.granularity_ = grid.granularity
        self.period_ = self._period(grid.granularity)
        excluded = capped_exclusions(grid.partitions[grid.observed], exclude, self.window,
                                     grid.granularity.offset, self.max_excluded)
        return self._judge(grid, np.flatnonzero(grid.observed), excluded, 0)

    # -- shared by judge and backtest: the one code path -------------------------------
    def _judge(self, grid: Grid, rows: np.ndarray, excluded, seen_before: int) -> list[Verdict]:
        if len(rows) == 0:
            return []
        learn = masked(grid, excluded)
        model = expectations(learn, grid.sizes, grid.kinds,
                             spreads(grid.columns, grid.statistics, learn, self.window), self._windows(),
                             start=int(rows.min()))
        levels = thresholds(self.sensitivity)
        z = cap_seen_before(learn, grid.values, z_scores(grid.values, model.center, model.scale),
                            rows, self.window, self.min_history, levels[0])
        z = uncorroborated(grid, z, model.center, rows, levels[0])
        return verdicts(grid, rows, z, model.center, model.scale,
                        seen_counts(grid.observed, seen_before), min_history=self.min_history,
                        levels=levels, max_explanations=self.max_explanations)

    def _grain(self, partitions) -> Granularity:
        if self.granularity == "auto":
            return infer_granularity(pd.DatetimeIndex(sorted(partitions)))
        return Granularity.parse(self.granularity)

    def _period(self, grain: Granularity) -> int | None:
        if self.seasonality == "auto":
            return PERIODS[grain]
        return int(self.seasonality) if self.seasonality else None

    def _windows(self) -> Windows:
        return Windows(self.level_window, self.trend_window, self.window,
                       getattr(self, "period_", None), self.min_history, int(self.shift_after))
