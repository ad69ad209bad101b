"""Column kinds and granularities: the engine-neutral words the rest of the code uses."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import pandas as pd


class Kind(str, Enum):
    """How a column is summarized; decided from its engine type."""

    NUMERIC = "numeric"
    FLOAT = "float"  # numeric, plus NaN / infinity counts
    STRING = "string"
    BOOLEAN = "boolean"
    TEMPORAL = "temporal"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    kind: Kind
    dtype: str  # the engine-neutral type name, e.g. "int64", "string", "timestamp"


class Granularity(str, Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"

    @property
    def offset(self) -> pd.Timedelta:
        return {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1),
                "week": pd.Timedelta(weeks=1)}[self.value]

    def format(self, start: pd.Timestamp) -> str:
        """ISO 8601: a date for day and week partitions, a timestamp for hours."""
        return start.isoformat() if self is Granularity.HOUR else start.date().isoformat()

    def start_of(self, value) -> pd.Timestamp:
        """A partition's start from a date, timestamp or ISO text (naive UTC); the value
        must itself start a partition, so a typo never silently picks another one."""
        from ..errors import ConfigError

        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError):
            ts = pd.NaT
        if ts is pd.NaT:
            raise ConfigError(f"partition {value!r} is not a date: write e.g. 2024-01-31")
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        start = {"hour": ts.floor("h"), "day": ts.floor("D"),
                 "week": ts.to_period("W-SUN").start_time}[self.value]
        if start != ts:
            raise ConfigError(f"partition {value!r} is not the start of a {self.value} "
                              f"partition: pass {self.format(start)}")
        return start

    @classmethod
    def parse(cls, value: "str | Granularity") -> "Granularity":
        from ..errors import ConfigError

        try:
            return cls(value if isinstance(value, Granularity) else str(value).lower())
        except ValueError:
            raise ConfigError(
                f"granularity {value!r} is not one of hour, day, week: pass --granularity day"
            ) from None
