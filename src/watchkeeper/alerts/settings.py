"""The ``alerts:`` section of ``watchkeeper.yaml``: everything about alerting, as data.

```yaml
alerts:
  sensitivity: medium          # low | medium | high: the detector's score levels
  detector: {window: 56}       # more RobustDetector parameters, if needed
  processors: [...]            # the processor chain (default: every built-in, in order)
tables:
  orders:
    source: data/orders/*.parquet
    partition_column: date
    consumers: [churn_model, revenue_dashboard]   # who reads it: ranks its incidents
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..detect import RobustDetector
from ..errors import ConfigError

_KEYS = {"sensitivity", "detector", "processors"}


@dataclass(frozen=True)
class AlertSettings:
    sensitivity: str = "medium"
    detector: Mapping[str, Any] = field(default_factory=dict)
    processors: tuple | None = None

    @classmethod
    def from_dict(cls, raw: Any, where: str = "alerts") -> "AlertSettings":
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: must be a mapping with sensitivity, detector, processors")
        unknown = set(raw) - _KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)}: use "
                              f"{', '.join(sorted(_KEYS))}")
        detector = raw.get("detector") or {}
        if not isinstance(detector, Mapping):
            raise ConfigError(f"{where}.detector: must map RobustDetector parameters to values")
        processors = raw.get("processors")
        if processors is not None and not isinstance(processors, list):
            raise ConfigError(f"{where}.processors: must be a list of processor names")
        settings = cls(str(raw.get("sensitivity", "medium")), dict(detector),
                       tuple(processors) if processors is not None else None)
        settings.levels()  # a bad sensitivity fails when the file is read
        return settings

    @classmethod
    def of(cls, project) -> "AlertSettings":
        if project is None:
            return cls()
        return cls.from_dict(project.extra.get("alerts"), f"{project.path}: alerts")

    def levels(self) -> tuple[float, float, float]:
        """(info, warning, critical) score levels of the detector at this sensitivity."""
        # The detector's own table, so alert severities and backtest severities agree.
        from ..detect import thresholds

        return thresholds(self.sensitivity)

    def make_detector(self, granularity: str) -> RobustDetector:
        params = {"sensitivity": self.sensitivity, "granularity": granularity,
                  "max_explanations": 50, **self.detector}
        try:
            return RobustDetector(**params)
        except TypeError as exc:
            raise ConfigError(f"alerts.detector: {exc}: use RobustDetector's parameters"
                              ) from None


def consumers_of(project, table: str) -> int:
    """How many consumers the project file lists for a table (0 when unknown)."""
    if project is None or table not in project.tables:
        return 0
    return len(getattr(project.tables[table], "consumers", ()) or ())
