"""What a detector says about one partition: a severity, a score, and ranked explanations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import pandas as pd

from ..engine.types import Granularity


class Severity(str, Enum):
    """How urgent a partition's anomaly is; ordered ok < info < warning < critical."""

    OK = "ok"
    INFO = "info"          # recorded, no notification
    WARNING = "warning"    # a likely problem worth a look today
    CRITICAL = "critical"  # so extreme it is almost surely an engineering fault

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __ge__(self, other: "Severity") -> bool:  # type: ignore[override]
        return self.rank >= Severity(other).rank

    def __gt__(self, other: "Severity") -> bool:  # type: ignore[override]
        return self.rank > Severity(other).rank

    def __le__(self, other: "Severity") -> bool:  # type: ignore[override]
        return self.rank <= Severity(other).rank

    def __lt__(self, other: "Severity") -> bool:  # type: ignore[override]
        return self.rank < Severity(other).rank


_RANK = {Severity.OK: 0, Severity.INFO: 1, Severity.WARNING: 2, Severity.CRITICAL: 3}


@dataclass(frozen=True)
class Explanation:
    """One (column, statistic) that looked wrong: the value and the band it left."""

    column: str
    statistic: str
    observed: float
    expected_low: float
    expected_high: float
    score: float
    tolerance: float = 1.0  # band multiplier from false-positive feedback (fit(tolerance=))

    def to_record(self) -> dict:
        return {"column": self.column, "statistic": self.statistic,
                "observed": _json_float(self.observed),
                "expected_low": _json_float(self.expected_low),
                "expected_high": _json_float(self.expected_high),
                "score": _json_float(round(self.score, 3))}


@dataclass(frozen=True)
class Verdict:
    """The judgement of one partition; ``columns`` is ranked, most to blame first."""

    partition: pd.Timestamp
    severity: Severity
    score: float  # surprise in bits (RobustDetector), comparable across tables
    columns: tuple[Explanation, ...] = ()
    granularity: Granularity = Granularity.DAY
    judged: bool = True  # False when too early: too little history to judge
    extra: dict = field(default_factory=dict, compare=False)

    def to_record(self) -> dict:
        """The backtest's JSON line: ISO partition, severity, score, ranked columns."""
        record = {"partition": self.granularity.format(pd.Timestamp(self.partition)),
                  "severity": self.severity.value, "score": _json_float(round(self.score, 3)),
                  "columns": [e.to_record() for e in self.columns]}
        for key in ("cause", "calendar"):  # why it pages (or not), where the detector says
            if key in self.extra:
                record[key] = self.extra[key]
        return record


def _json_float(value: float) -> float | None:
    """JSON has no NaN or infinity; an unknown number is null."""
    value = float(value)
    return value if math.isfinite(value) else None
