"""Partition summaries: per-partition, per-column statistics from one fused scan."""

from .profile import Notice, ProfileResult, profile
from .vocabulary import QUANTILES, STATISTIC_NAMES, STATISTICS, TABLE_COLUMN, statistics_for

__all__ = ["Notice", "ProfileResult", "QUANTILES", "STATISTICS", "STATISTIC_NAMES",
           "TABLE_COLUMN", "profile", "statistics_for"]
