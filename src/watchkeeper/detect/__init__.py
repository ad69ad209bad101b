"""Learned detectors over the partition-summary history, and the backtest.

Detectors see numbers from summaries (``partition, column, statistic, value``),
never raw data.
"""

from .backtest import backtest
from ._judge import thresholds
from .base import DETECTOR_VERSION, BaseDetector, NotFittedError, clone, detector_key
from .normal import OnlineNormalDetector
from .robust import RobustDetector
from .verdict import Explanation, Severity, Verdict

__all__ = [
    "DETECTOR_VERSION",
    "BaseDetector",
    "Explanation",
    "NotFittedError",
    "OnlineNormalDetector",
    "RobustDetector",
    "Severity",
    "Verdict",
    "backtest",
    "clone",
    "detector_key",
    "thresholds",
]
