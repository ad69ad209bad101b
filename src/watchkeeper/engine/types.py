"""Column kinds and granularities: the engine-neutral words the rest of the code uses."""

from __future__ import annotations

import re
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


PANDAS_RANGE = "1677-09-22 to 2262-04-11"
"""The dates a nanosecond timestamp holds: partitions outside it are refused."""

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
                  r"(Z|[+-]\d{2}(:?\d{2})?)?)?")
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")


def iso_text(text: str, what: str) -> str:
    """``text`` if it is an ISO 8601 date or timestamp (YYYY-MM-DD[THH[:MM[:SS]]][zone]);
    anything else is refused, with the ISO form(s) it may have meant as the hint:
    ``08/09/2017`` is the 9th of August in one country and the 8th of September in
    another, so watchkeeper never guesses."""
    from ..errors import ConfigError

    text = text.strip()
    if _ISO.fullmatch(text):
        return text
    found = _DMY.fullmatch(text)
    if found:
        a, b, year = (int(g) for g in found.groups())
        meant = sorted({f"{year:04d}-{m:02d}-{d:02d}" for m, d in ((a, b), (b, a))
                        if 1 <= m <= 12 and 1 <= d <= 31})
        if meant:
            raise ConfigError(f"{what} {text!r} is ambiguous: write it as ISO 8601 "
                              f"(YYYY-MM-DD), e.g. {' or '.join(meant)}")
    raise ConfigError(f"{what} {text!r} is not an ISO 8601 date: write YYYY-MM-DD, "
                      "e.g. 2024-01-31 (or 2024-01-31T13:00 for an hour)")


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

        if isinstance(value, str):
            value = iso_text(value, "partition")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ConfigError(f"partition {value!r} is not a date: write e.g. 2024-01-31")
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            ts = pd.NaT
        if ts is pd.NaT:
            raise ConfigError(f"partition {value!r} is not a date watchkeeper can handle "
                              f"({PANDAS_RANGE}): write e.g. 2024-01-31")
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
