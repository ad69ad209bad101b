"""Replay a summary history: what would watchkeeper have said, partition by partition?"""

from __future__ import annotations

import pandas as pd

from .base import BaseDetector, clone
from .verdict import Verdict


def backtest(history: pd.DataFrame, detector: BaseDetector | None = None, *,
             exclude=None, top_values=None, tolerance=None) -> list[Verdict]:
    """Judge every partition in time order, each only against earlier ones.

    Uses the detector's own judging code (the one live scoring uses); partitions too
    early to judge come back as ``ok`` with no explanations. ``detector`` is cloned,
    so the caller's instance is left untouched. The result is a list that Jupyter shows
    as rich HTML (the score over time, the partitions that would have paged).
    """
    from .._display import BacktestResult
    from .robust import RobustDetector

    model = clone(detector) if detector is not None else RobustDetector()
    extra = {k: v for k, v in (("top_values", top_values), ("tolerance", tolerance))
             if v is not None}  # detectors without these features keep their old signature
    return BacktestResult(model.backtest(history, exclude=exclude, **extra))
