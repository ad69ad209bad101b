"""``RobustDetector``: robust, seasonal, trend- and sample-size-aware bands per statistic."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..engine.types import Granularity
from . import _features
from ._features import (check_top_values, null_partners, poisson_capped, top_features,
                        with_null_gaps, with_uniqueness)
from ._grid import (Grid, check_history, combine, infer_granularity, partition_offsets, spreads,
                    tail, to_grid)
from ._judge import (agreement, cap_seen_before, capped_exclusions, constant_counts,
                     discrete_steps, fixed_design, masked, not_id_like, seen_counts, thresholds,
                     uncorroborated, verdicts, widened, z_scores)
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
    def fit(self, history: pd.DataFrame, exclude=None, *, top_values=None,
            tolerance=None) -> "RobustDetector":
        """Learn normal from ``history``; partitions in ``exclude`` are confirmed bad.

        ``top_values`` (optional; ``ProfileResult.top_values`` or
        ``Store.load_top_values``) adds the top-value statistics of ``_features``.
        ``tolerance`` maps ``(column, statistic)`` to a band multiplier (false-positive
        feedback): that series' noise scale is multiplied by it.
        """
        self.levels_ = thresholds(self.sensitivity)  # fails early on a bad parameter
        frame = check_history(history)
        tops = check_top_values(top_values)
        parts = pd.DatetimeIndex(sorted(frame["partition"].unique()))
        grain = self._grain(parts)
        self.granularity_ = grain
        self.period_ = self._period(grain)
        self.tolerance_ = _tolerance(tolerance)
        self.excluded_ = capped_exclusions(parts, exclude, self.window, grain.offset,
                                           self.max_excluded)
        keep = self._windows().lookback() + 1
        recent = frame[frame["partition"] > parts[-keep]] if len(parts) > keep else frame
        if tops is not None:  # the top lists the tail's derived statistics look back on
            tparts = np.sort(tops["partition"].unique())
            reach = keep + self.level_window + int(self.max_excluded * self.window)
            tops = tops[tops["partition"] >= tparts[max(0, len(tparts) - reach)]] \
                if len(tparts) else tops
        recent = self._derived(recent, tops, self.excluded_)
        # Only the tail is kept: no expectation depends on anything older.
        grid = with_uniqueness(to_grid(recent, grain, checked=True)) if len(parts) else None
        self.null_partners_ = _partners(grid)
        self.grid_ = tail(with_null_gaps(grid, self.null_partners_), keep) \
            if grid is not None else None
        self.top_values_ = None if tops is None else \
            tops[tops["partition"].isin(self.grid_.partitions if self.grid_ else [])]
        self.n_seen_ = int(len(parts) - (self.grid_.observed.sum() if self.grid_ else 0))
        return self

    def judge(self, statistics: pd.DataFrame, *, top_values=None) -> list[Verdict]:
        """Verdicts for the new partitions in ``statistics``, in time order.

        Each is judged against the fitted history and the new partitions before it,
        exactly as :meth:`backtest` would have judged it. ``top_values`` are the new
        partitions' top values (used when ``fit`` had them too).
        """
        self._check_fitted()
        new = check_history(statistics)
        if new.empty:
            return []
        tops = check_top_values(top_values)
        if self.grid_ is None:
            return self.backtest(new, top_values=tops, tolerance=self.tolerance_)
        if tops is not None and self.top_values_ is not None:
            tops = pd.concat([self.top_values_, tops], ignore_index=True)
        new = self._derived(new, tops, self.excluded_)
        grid = with_null_gaps(with_uniqueness(combine(self.grid_, to_grid(
            new, self.granularity_, checked=True,
            series=(self.grid_.columns, self.grid_.statistics)))), self.null_partners_)
        rows = np.flatnonzero(grid.partitions.isin(pd.DatetimeIndex(new["partition"].unique())))
        return self._judge(grid, rows, self.excluded_, self.n_seen_, self.tolerance_)

    def score(self, statistics: pd.DataFrame, *, top_values=None) -> pd.Series:
        """The anomaly score of each new partition (higher is more anomalous)."""
        judged = self.judge(statistics, top_values=top_values)
        return pd.Series([v.score for v in judged],
                         index=pd.DatetimeIndex([v.partition for v in judged]), name="score",
                         dtype="float64")

    def backtest(self, history: pd.DataFrame, exclude=None, *, top_values=None,
                 tolerance=None) -> list[Verdict]:
        """Judge every partition of ``history`` against the ones before it only.

        ``top_values`` and ``tolerance`` as in :meth:`fit`.
        """
        self.levels_ = thresholds(self.sensitivity)
        frame = check_history(history)
        if frame.empty:
            return []
        grain = self._grain(frame["partition"].unique())
        parts = pd.DatetimeIndex(sorted(frame["partition"].unique()))
        excluded = capped_exclusions(parts, exclude, self.window, grain.offset,
                                     self.max_excluded)
        frame = self._derived(frame, check_top_values(top_values), excluded)
        grid = with_uniqueness(to_grid(frame, grain, checked=True))
        grid = with_null_gaps(grid, _partners(grid))
        self.granularity_ = grid.granularity
        self.period_ = self._period(grid.granularity)
        return self._judge(grid, np.flatnonzero(grid.observed), excluded, 0,
                           _tolerance(tolerance))

    # -- shared by judge and backtest: the one code path -------------------------------
    def _judge(self, grid: Grid, rows: np.ndarray, excluded, seen_before: int,
               tolerance: dict) -> list[Verdict]:
        if len(rows) == 0:
            return []
        grid, offset = partition_offsets(grid)
        learn = masked(grid, excluded)
        model = expectations(learn, grid.sizes, grid.kinds,
                             spreads(grid.columns, grid.statistics, learn, self.window), self._windows(),
                             start=int(rows.min()),
                             fixed_design=fixed_design(grid, learn, self.window))
        levels = thresholds(self.sensitivity)
        multipliers = widened(grid, tolerance)
        center, scale, held = constant_counts(grid, learn, model.center,
                                        model.scale * multipliers[None, :], rows, self.window,
                                        multipliers)
        if 2 * len(rows) < len(grid.partitions):  # every rule below reads the judged rows only
            z = np.zeros(grid.values.shape)
            z[rows] = z_scores(grid.values[rows], center[rows], scale[rows])
        else:
            z = z_scores(grid.values, center, scale)
        z = poisson_capped(grid.statistics, grid.values, grid.sizes, z, rows)
        z = cap_seen_before(learn, grid.values, z, rows, self.window, self.min_history, levels[0])
        z = discrete_steps(grid, learn, z, center, rows, self.window, levels[0])
        z = uncorroborated(grid, z, center, rows, levels[0])
        z = not_id_like(grid, z, center, rows, held)
        z = agreement(grid, z, center, rows, levels[0], levels[1])
        return verdicts(grid, rows, z, center, scale,
                        seen_counts(grid.observed, seen_before), min_history=self.min_history,
                        levels=levels, max_explanations=self.max_explanations,
                        tolerance=multipliers, offset=offset)

    def _derived(self, frame: pd.DataFrame, tops: pd.DataFrame | None, excluded) -> pd.DataFrame:
        """``frame`` with the derived statistics of ``_features`` for its partitions."""
        if tops is None:
            return frame
        parts = pd.DatetimeIndex(frame["partition"].unique())
        extra = top_features(tops, parts, excluded, self.level_window)
        return pd.concat([frame, extra], ignore_index=True) if len(extra) else frame

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


def _partners(grid) -> dict:
    """Co-null partners (``_features.null_partners``) of the grid's columns, or none."""
    return null_partners(grid) if grid is not None and _features.NULL_GAPS else {}


def _tolerance(tolerance) -> dict:
    """``{(column, statistic): multiplier}``, checked: multipliers are positive numbers."""
    from ..errors import ConfigError

    out = {}
    for key, m in dict(tolerance or {}).items():
        try:
            column, statistic = key
            m = float(m)
        except (TypeError, ValueError):
            raise ConfigError(f"tolerance {key!r}: {m!r} must map (column, statistic) to a "
                              "number, e.g. {('fare', 'mean'): 2.0}") from None
        if not m > 0:
            raise ConfigError(f"tolerance of {key!r} is {m}: a band multiplier must be > 0")
        out[(str(column), str(statistic))] = m
    return out
