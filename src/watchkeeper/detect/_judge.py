"""Shared by every detector: exclusion of bad partitions, and z-scores → verdicts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._grid import EXTREME_PAIRS, OUTLIER_SENSITIVE, SINGLE_ROW, Grid
from .verdict import Explanation, Severity, Verdict

# (info, warning, critical) thresholds on the per-series score, declared as data.
# "medium" was calibrated so that clean real data rarely reaches warning
# (docs/benchmarks.md, "Detection (issue 4)").
SENSITIVITY: dict[str, tuple[float, float, float]] = {
    "low": (6.0, 10.0, 20.0),
    "medium": (4.0, 7.0, 14.0),
    "high": (3.0, 5.0, 10.0),
}


def thresholds(sensitivity: str) -> tuple[float, float, float]:
    from ..errors import ConfigError

    try:
        return SENSITIVITY[str(sensitivity).lower()]
    except KeyError:
        raise ConfigError(f"sensitivity {sensitivity!r} is not one of low, medium, high: "
                          "pass --sensitivity medium") from None


def capped_exclusions(partitions: pd.DatetimeIndex, exclude, window: int, offset: pd.Timedelta,
                      max_fraction: float) -> pd.DatetimeIndex:
    """The confirmed-bad partitions kept out of "normal", at most ``max_fraction`` of any window.

    Exclusions are admitted oldest first. Once a trailing window is full, later ones
    are learned from after all: a change confirmed bad over and over is the new
    normal, and excluding it forever would make every partition look anomalous.
    """
    if exclude is None or len(exclude) == 0:
        return pd.DatetimeIndex([])
    wanted = pd.DatetimeIndex(pd.to_datetime(list(exclude))).sort_values().unique()
    wanted = wanted[wanted.isin(partitions)]
    limit = int(max_fraction * window)
    admitted: list[pd.Timestamp] = []
    span = offset * window
    for p in wanted:
        recent = sum(1 for a in admitted if p - a < span)
        if recent < limit:
            admitted.append(p)
    return pd.DatetimeIndex(admitted)


def masked(grid: Grid, excluded: pd.DatetimeIndex) -> np.ndarray:
    """The values a detector may learn from: excluded partitions become unknown."""
    learn = grid.values.copy()
    if len(excluded):
        learn[grid.partitions.isin(excluded)] = np.nan
    return learn


def z_scores(values: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.abs(values - center) / scale
    return np.where(np.isfinite(z), z, np.where(np.isinf(z), 1e6, 0.0))


def verdicts(grid: Grid, rows: np.ndarray, z: np.ndarray, center: np.ndarray, scale: np.ndarray,
             seen_before: np.ndarray, *, min_history: int, levels: tuple[float, float, float],
             max_explanations: int) -> list[Verdict]:
    """One verdict per row: severity from the strongest series; one explanation per column."""
    info, warning, critical = levels
    out = []
    for row in rows:
        partition = grid.partitions[row]
        if seen_before[row] < min_history:
            out.append(Verdict(partition, Severity.OK, 0.0, (), grid.granularity, judged=False))
            continue
        zr = z[row]
        score = float(zr.max()) if zr.size else 0.0
        severity = (Severity.CRITICAL if score >= critical else Severity.WARNING
                    if score >= warning else Severity.INFO if score >= info else Severity.OK)
        explained = _explanations(grid, row, zr, center[row], scale[row], info, warning,
                                  max_explanations)
        out.append(Verdict(partition, severity, score, explained, grid.granularity))
    return out


def _explanations(grid: Grid, row: int, zr: np.ndarray, center: np.ndarray, scale: np.ndarray,
                  info: float, warning: float, limit: int) -> tuple[Explanation, ...]:
    hot = np.flatnonzero(zr >= info)
    if hot.size == 0:
        return ()
    hot = hot[np.argsort(-zr[hot], kind="stable")]
    seen: set[str] = set()
    out = []
    for j in hot:
        column = str(grid.columns[j])
        if column in seen:
            continue  # one entry per column: its most telling statistic
        seen.add(column)
        band = warning * scale[j]
        out.append(Explanation(column, str(grid.statistics[j]), float(grid.values[row, j]),
                               float(center[j] - band), float(center[j] + band), float(zr[j])))
        if len(out) >= limit:
            break
    return tuple(out)


def seen_counts(observed: np.ndarray, before: int = 0) -> np.ndarray:
    """Observed partitions strictly before each row (plus ``before`` older ones)."""
    return before + np.concatenate([[0], np.cumsum(observed)[:-1]]) if len(observed) else \
        np.zeros(0, dtype=int)


def quiet_nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


# Inside the 4%-96% range of the last window (56 partitions: seen about 3 times) is
# "seen before"; one or two broken partitions in the window do not make a value normal.
ENVELOPE = (0.04, 0.96)


def cap_seen_before(learn: np.ndarray, values: np.ndarray, z: np.ndarray, rows: np.ndarray,
                    window: int, min_history: int, cap: float) -> np.ndarray:
    """A value inside the recent history's own 4%-96% range scores at most ``cap`` (info).

    The bands above are tight; on discrete or heavy-tailed statistics (a p75 of small
    integers, a zip code's min) they call values anomalous that the same series took
    several times in the last ``window`` partitions. Checked only for cells that score
    at least ``cap``, so it costs nothing on quiet data.
    """
    z = z.copy()
    flagged_rows, flagged_series = np.nonzero(z[rows] >= cap)
    if flagged_rows.size == 0:
        return z
    t_idx = rows[flagged_rows]
    lags = t_idx[:, None] - np.arange(window, 0, -1)[None, :]
    history = np.where(lags >= 0, learn[np.clip(lags, 0, None), flagged_series[:, None]], np.nan)
    history.sort(axis=1)
    count = np.isfinite(history).sum(axis=1)
    from ._rolling import _interpolate

    low = _interpolate(history, count, ENVELOPE[0], min_history)
    high = _interpolate(history, count, ENVELOPE[1], min_history)
    observed = values[t_idx, flagged_series]
    inside = (observed >= low) & (observed <= high)
    z[t_idx[inside], flagged_series[inside]] = np.minimum(z[t_idx[inside],
                                                            flagged_series[inside]], cap)
    return z


def uncorroborated(grid: Grid, z: np.ndarray, center: np.ndarray, rows: np.ndarray, cap: float
                   ) -> np.ndarray:
    """The signature of one odd row scores at most ``cap`` (info).

    An extreme (min, max, shortest or longest string) is set by one row: when it moves
    alone, the odd row came or went (a rare long category name absent today). One odd
    row pushes its extreme outwards, arbitrarily far, and drags the mean and std with
    it; quantiles, fractions, counts and the opposite extreme stay put. On real data
    both patterns are one odd record (an out-of-state zip code), which row-level checks
    (SLOs) are for. A fault in the data moves many rows, and with them a robust
    statistic, both extremes (a timezone shift), or the moments with an extreme pulled
    inwards, which no outlier does (padding raises the shortest length and the mean).
    """
    single = np.isin(grid.statistics, list(SINGLE_ROW))
    if not single.any():
        return z
    hot = z[rows] >= cap
    flagged_rows, flagged_series = np.nonzero(hot & single[None, :])
    if flagged_rows.size == 0:
        return z
    z = z.copy()
    codes = pd.factorize(grid.columns)[0]
    sensitive = np.isin(grid.statistics, list(OUTLIER_SENSITIVE))
    low_end = np.isin(grid.statistics, [a for a, _ in EXTREME_PAIRS])
    for r, c in set(zip(flagged_rows.tolist(), codes[flagged_series].tolist())):
        t = rows[r]
        moved = np.flatnonzero((codes == c) & hot[r])
        names = set(grid.statistics[moved])
        ends = moved[single[moved]]
        outward = np.where(low_end[ends], grid.values[t, ends] < center[t, ends],
                           grid.values[t, ends] > center[t, ends])
        both_ends = any(a in names and b in names for a, b in EXTREME_PAIRS)
        alone = single[moved].all()  # only extremes: the row(s) at one end came or went
        dragged = sensitive[moved].all() and outward.all()  # an outlier row and the moments
        if (alone or dragged) and not both_ends:
            z[t, moved] = np.minimum(z[t, moved], cap)
    return z
