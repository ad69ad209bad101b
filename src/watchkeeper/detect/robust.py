"""``RobustDetector``: robust, seasonal, trend- and sample-size-aware expectations per
statistic, calibrated to a false-alarm budget."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..engine.types import Granularity
from . import _calibration
from ._calendar import calendar_expected, calendar_mask, check_calendar
from ._calibration import partition_flags, point_masses
from ._order import capped as order_capped
from ._causes import CALENDAR, CO_WINDOWS, SHIFT, TABLE, cause_of, co_moved
from ._features import (check_top_values, null_partners, poisson_capped, top_features,
                        with_null_gaps, with_uniqueness)
from ._grid import (Grid, check_history, combine, infer_granularity, partition_offsets, spreads,
                    tail, to_grid)
from ._judge import (NOISE_INFO, NOISE_WARNING, agreement, capped_exclusions, constant_counts,
                     fixed_design, lattice, masked, not_id_like, seen_counts, uncorroborated, verdicts,
                     widened, z_scores)
from ._model import Windows, expectations
from .base import BaseDetector
from .verdict import Severity, Verdict

PERIODS = {Granularity.HOUR: 24, Granularity.DAY: 7, Granularity.WEEK: None}


class RobustDetector(BaseDetector):
    """Learns, per (column, statistic), a one-step forecast and its normal noise, and pages
    no more often on clean data than its false-alarm budget allows.

    Parameters
    ----------
    false_alarms: the budget, the one knob: expected false alarms per partition, as
        ``"1 per 90"`` (the default) or a fraction such as ``1/90``. Warnings are
        calibrated to it (``_calibration``); critical is a deviation twice as far.
    calendar: an ISO country (or ``country-subdivision``) code of the ``holidays``
        package, e.g. ``"US"``: holidays and their eves are learned around and their
        deviations expected (only likely faults page on them). None: no calendar.
    mute: columns (``"price"``) or ``(column, statistic)`` pairs (``"price.p99"`` or a
        tuple) never judged.
    page_shifts: also page real-world shifts (many columns moving together with no
        sign of a fault); by default they are recorded as info.
    shift_columns: columns that must move at once, with no sign of a fault, for a shift.
    volume_share: the share of the budget given to the table's row count (rows lost are
        the commonest fault); the other series share the rest. 0: every series alike.
    level_window: partitions the plain forecast takes the median of.
    trend_window: recent residuals whose median corrects a trend's lag.
    window: partitions the noise scale and the calibration are learned from.
    min_history: partitions needed before any judgement (earlier ones are "ok"), and
        scores a series needs before it is calibrated.
    seasonality: "auto" (24 for hourly, 7 for daily, none for weekly), an int, or None.
    max_excluded: largest fraction of a window that confirmed-bad partitions may take.
    shift_after: partitions in a row beyond their bands on one side after which their
        level is expected (a lasting change is learned); 0 never re-levels early.
    max_explanations: most columns listed per verdict.
    granularity: "auto" (inferred from the gaps between partitions), "hour", "day" or "week".
    """

    def __init__(self, false_alarms="1 per 90", calendar: str | None = None, mute=(),
                 page_shifts: bool = False, shift_columns: int = 3,
                 volume_share: float = 0.25,
                 level_window: int = 7, trend_window: int = 14, window: int = 56,
                 min_history: int = 14, seasonality="auto", max_excluded: float = 0.5,
                 max_explanations: int = 10, granularity: str = "auto",
                 shift_after: int = 3) -> None:
        self.false_alarms = false_alarms
        self.calendar = calendar
        self.mute = mute
        self.page_shifts = page_shifts
        self.shift_columns = shift_columns
        self.volume_share = volume_share
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
        self.levels_ = self._check_params()  # fails early on a bad parameter
        frame = check_history(history)
        tops = check_top_values(top_values)
        parts = pd.DatetimeIndex(sorted(frame["partition"].unique()))
        grain = self._grain(parts)
        self.granularity_ = grain
        self.period_ = self._period(grain)
        self.tolerance_ = _tolerance(tolerance)
        self.excluded_ = capped_exclusions(parts, exclude, self.window, grain.offset,
                                           self.max_excluded)
        keep = self._windows().lookback() + self.window + 1  # + the calibration window
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
        self.calibration_ = self._calibration_scores() if self.grid_ is not None else None
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
        return self._judge(grid, rows, self.excluded_, self.n_seen_, self.tolerance_,
                           cached=self.calibration_)

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
        self.levels_ = self._check_params()
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
    def _scores(self, grid: Grid, span: np.ndarray, excluded, tolerance: dict,
                holiday: np.ndarray) -> tuple[np.ndarray, ...]:
        """Scores (noise units) of the rows ``span``, with their centers and scales."""
        learn = masked(grid, excluded)
        learn[holiday] = np.nan  # calendar days teach nothing about ordinary days
        model = expectations(learn, grid.sizes, grid.kinds,
                             spreads(grid.columns, grid.statistics, learn, self.window),
                             self._windows(), start=int(span.min()) if len(span) else 0,
                             fixed_design=fixed_design(grid, learn, self.window))
        multipliers = widened(grid, tolerance)
        center, scale, held = constant_counts(grid, learn, model.center,
                                              model.scale * multipliers[None, :], span,
                                              self.window, multipliers)
        z = np.zeros(grid.values.shape)
        z[span] = z_scores(grid.values[span], center[span], scale[span])
        z = lattice(grid, learn, z, center, scale, span, self.window, NOISE_INFO)
        z = poisson_capped(grid.statistics, grid.values, grid.sizes, z, span)
        z = uncorroborated(grid, z, center, span, NOISE_INFO)
        z = order_capped(grid, learn, z, span, self.window, NOISE_INFO)
        z = not_id_like(grid, z, center, span, held)
        z = agreement(grid, z, center, span, NOISE_INFO, NOISE_WARNING)
        z[:, self._muted(grid)] = 0.0
        return z, center, scale, multipliers

    def _calibration_scores(self) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray,
                                           np.ndarray]:
        """The scores of the fitted tail's last partitions, with their noise scales and
        the sides of their deviations: the calibration sets of the partitions
        :meth:`judge` will see (computed once, when fitting)."""
        grid, _ = partition_offsets(self.grid_)
        holiday, _ = calendar_mask(grid.partitions, grid.granularity,
                                   check_calendar(self.calendar))
        # The calibration reads one window back; the patterns of co-movement, more.
        span = np.flatnonzero(grid.observed)[-self.window * CO_WINDOWS:]
        z, center, scale, _ = self._scores(grid, span, self.excluded_, self.tolerance_, holiday)
        return grid.partitions[span], z[span], scale[span], _sides(grid.values, center)[span]

    def _judge(self, grid: Grid, rows: np.ndarray, excluded, seen_before: int,
               tolerance: dict, cached: tuple | None = None) -> list[Verdict]:
        """Verdicts for ``rows``; ``cached`` (partitions, scores) are known scores of earlier
        rows (from :meth:`fit`), which are otherwise computed here."""
        if len(rows) == 0:
            return []
        rate = _calibration.budget_rate(self.false_alarms)
        levels = _calibration.levels(rate)
        grid, offset = partition_offsets(grid)
        holiday, names = calendar_mask(grid.partitions, grid.granularity,
                                       check_calendar(self.calendar))
        # The calibration reads the scores of the ``window`` partitions before each judged
        # one, the patterns of co-movement (``_causes.co_moved``) CO_WINDOWS windows.
        first = max(0, int(rows.min()) - self.window * CO_WINDOWS)
        span = np.flatnonzero(grid.observed[first:]) + first
        if cached is not None:
            span = rows
        z, center, scale, multipliers = self._scores(grid, span, excluded, tolerance, holiday)
        side = _sides(grid.values, center)
        if cached is not None:
            at = grid.partitions.get_indexer(cached[0])
            keep = (at >= 0) & ~np.isin(at, rows)
            z[at[keep]] = cached[1][keep]
            scale[at[keep]] = cached[2][keep]
            side[at[keep]] = cached[3][keep]
        seen = seen_counts(grid.observed, seen_before)
        calibrating = grid.observed & (seen >= self.min_history) & ~holiday & \
            ~grid.partitions.isin(excluded)
        with np.errstate(invalid="ignore"):
            point_mass = (scale <= (1e-9 + 1e-4 * np.abs(center)) * (1 + 1e-6)) & \
                point_masses(grid.statistics)[None, :]
        point_mass |= partition_flags(grid, self.window)
        volume = (grid.columns == TABLE) & (grid.statistics == "row_count")
        share = float(self.volume_share)
        p, anchor, n, tails = _calibration.tail_probabilities(
            z, point_mass, calibrating, rows, self.window, self.min_history,
            scale=scale, side=side, paged=rate,
            volume=volume, share=share)
        m = np.array([t.tests(k) for t, k in zip(tails, (n >= self.min_history).sum(axis=1))])
        scores = np.zeros(grid.values.shape)
        factor = _calibration.multipliers(m, volume, share)
        scores[rows] = _calibration.bits(p * factor)
        half = np.full(grid.values.shape, np.inf)
        half[rows] = _calibration.warning_scores(anchor, n, factor, tails, rate) * scale[rows]
        judged = verdicts(grid, rows, scores, center, half, seen,
                          min_history=self.min_history, levels=levels,
                          max_explanations=self.max_explanations, tolerance=multipliers,
                          offset=offset, order=z)
        judged_rows = grid.observed & (seen >= self.min_history)
        expected = calendar_expected(z, holiday, judged_rows, rows, self.window)
        return [self._with_cause(v, grid, scores[r], center, levels, names.get(int(r)), e,
                                 (z, judged_rows, int(r)))
                for v, r, e in zip(judged, rows, expected)]

    def _with_cause(self, verdict: Verdict, grid: Grid, scores: np.ndarray,
                    center: np.ndarray, levels: tuple[float, float, float],
                    holiday: str | None, expected: np.ndarray, history: tuple) -> Verdict:
        """The verdict with its cause class; shifts and calendar days page only if asked.
        On a calendar day, series whose deviation the calendar does not explain
        (``expected`` False: ``_calendar.calendar_expected``) are judged as on any day.
        Series moving in a pattern the table showed before (``_causes.co_moved``; ``history``
        is the scores, the judged rows and this row) are a shift."""
        if verdict.severity < Severity.WARNING:
            return verdict
        hot = np.flatnonzero(scores >= levels[1])
        unexplained = hot[~expected[hot]]
        calendar_day = holiday is not None and unexplained.size == 0
        if holiday is not None and unexplained.size:
            hot = unexplained
        z, judged, row = history
        cause = SHIFT
        if not calendar_day:
            familiar = co_moved(z, judged, row, hot, grid.columns, grid.statistics,
                                self.window, int(self.shift_columns))
            hot = hot[~familiar]
        with np.errstate(invalid="ignore"):
            up = np.sign(grid.values[row, hot] - center[row, hot])
        if hot.size:
            dup = np.flatnonzero((grid.columns == TABLE) &
                                 (grid.statistics == "duplicate_fraction"))
            with np.errstate(invalid="ignore"):
                rose = bool(((scores[dup] >= levels[0]) &
                             (grid.values[row, dup] > center[row, dup])).any())
            cause = cause_of([(str(grid.columns[j]), str(grid.statistics[j]), int(d))
                              for j, d in zip(hot, np.nan_to_num(up))],
                             calendar_day, int(self.shift_columns), rose)
        extra = {**verdict.extra, "cause": cause}
        if holiday is not None:
            extra["calendar"] = holiday
        if cause == CALENDAR or (cause == SHIFT and not self.page_shifts):
            return replace(verdict, severity=Severity.INFO, extra=extra)
        return replace(verdict, extra=extra)

    def _muted(self, grid: Grid) -> np.ndarray:
        """Series the ``mute`` parameter names: a whole column, or one statistic of one."""
        pairs, columns = set(), set()
        for item in self.mute or ():
            if isinstance(item, (tuple, list)) and len(item) == 2:
                pairs.add((str(item[0]), str(item[1])))
            elif isinstance(item, str) and "." in item and item not in set(grid.columns):
                column, _, statistic = item.rpartition(".")
                pairs.add((column, statistic))
            else:
                columns.add(str(item))
        return np.array([c in columns or (c, s) in pairs
                         for c, s in zip(grid.columns, grid.statistics)], dtype=bool)

    def _check_params(self) -> tuple[float, float, float]:
        """The (info, warning, critical) levels; ConfigError for a bad parameter."""
        from ..errors import ConfigError

        levels = _calibration.levels(_calibration.budget_rate(self.false_alarms))
        check_calendar(self.calendar)
        if isinstance(self.mute, (str, bytes)) or not all(
                isinstance(m, str) or (isinstance(m, (tuple, list)) and len(m) == 2)
                for m in (self.mute or ())):
            raise ConfigError(f"mute {self.mute!r} must be a list of columns ('price') or "
                              "column.statistic pairs ('price.p99')")
        share = self.volume_share
        if isinstance(share, bool) or not isinstance(share, (int, float)) or \
                not 0.0 <= float(share) < 1.0:
            raise ConfigError(f"volume_share {share!r} must be a number in [0, 1), e.g. 0.25 "
                              "(a quarter of the false-alarm budget for the row count)")
        return levels

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


def _sides(values: np.ndarray, center: np.ndarray) -> np.ndarray:
    """The side of each deviation from its expectation: -1, 0 or +1 (0 where unknown)."""
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(np.sign(values - center))


def _partners(grid) -> dict:
    """Co-null partners (``_features.null_partners``) of the grid's columns, or none."""
    return null_partners(grid) if grid is not None else {}


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
