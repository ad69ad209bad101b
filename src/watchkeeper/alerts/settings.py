"""The ``alerts:`` section of ``watchkeeper.yaml``: everything about alerting, as data.

```yaml
alerts:
  false_alarms: 1 per 90       # the budget: expected false alarms per partition
  calendar: US                 # holidays and their eves (the holidays package)
  mute: [store_id, price.p99]  # columns, or column.statistic pairs, never judged
  detector: {window: 56}       # more RobustDetector parameters, if needed
  processors: [...]            # the processor chain (default: every built-in, in order)
tables:
  orders:
    source: data/orders/*.parquet
    partition_column: date
    consumers: [churn_model, revenue_dashboard]   # who reads it: ranks its incidents
    alerts: {false_alarms: 1 per 365, mute: [comment]}   # this table's own settings
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..detect import RobustDetector
from ..detect._calibration import DEFAULT_BUDGET, budget_rate, levels
from ..detect._calendar import check_calendar
from ..errors import ConfigError

_KEYS = {"false_alarms", "calendar", "mute", "detector", "processors"}
_TABLE_KEYS = {"false_alarms", "calendar", "mute"}


@dataclass(frozen=True)
class AlertSettings:
    false_alarms: str | float = DEFAULT_BUDGET
    calendar: str | None = None
    mute: tuple = ()
    detector: Mapping[str, Any] = field(default_factory=dict)
    processors: tuple | None = None

    @classmethod
    def from_dict(cls, raw: Any, where: str = "alerts") -> "AlertSettings":
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: must be a mapping with false_alarms, calendar, mute, "
                              "detector, processors")
        if "sensitivity" in raw:
            raise ConfigError(f"{where}.sensitivity: the detector is calibrated to a budget "
                              "now: write false_alarms: 1 per 90 instead")
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
        return cls(processors=tuple(processors) if processors is not None else None,
                   detector=dict(detector)).updated(raw, where)

    def updated(self, raw: Mapping, where: str) -> "AlertSettings":
        """These settings with ``raw``'s budget, calendar and mute (checked) over them."""
        out = self
        if raw.get("false_alarms") is not None:
            budget_rate(raw["false_alarms"])  # a bad budget fails when the file is read
            out = replace(out, false_alarms=raw["false_alarms"])
        if "calendar" in raw:
            out = replace(out, calendar=check_calendar(raw["calendar"]))
        if raw.get("mute") is not None:
            mute = raw["mute"]
            if isinstance(mute, str):
                mute = [mute]
            if not isinstance(mute, list) or not all(isinstance(m, str) for m in mute):
                raise ConfigError(f"{where}.mute: must be a list of columns ('price') or "
                                  "column.statistic pairs ('price.p99')")
            out = replace(out, mute=tuple(dict.fromkeys([*out.mute, *mute])))
        return out

    @classmethod
    def of(cls, project, table: str | None = None) -> "AlertSettings":
        """The project's settings, with ``table``'s own (``tables.<name>.alerts``) over them."""
        if project is None:
            return cls()
        settings = cls.from_dict(project.extra.get("alerts"), f"{project.path}: alerts")
        spec = project.tables.get(table) if table else None
        own = getattr(spec, "alerts", None)
        if own is None:
            return settings
        where = f"{project.path}: tables.{table}.alerts"
        if not isinstance(own, Mapping):
            raise ConfigError(f"{where}: must be a mapping with false_alarms, calendar, mute")
        unknown = set(own) - _TABLE_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)}: use "
                              f"{', '.join(sorted(_TABLE_KEYS))}")
        return settings.updated(own, where)

    def levels(self) -> tuple[float, float, float]:
        """(info, warning, critical) levels of the detector's scores, in bits of surprise."""
        return levels(budget_rate(self.false_alarms))

    def with_mutes(self, mutes) -> "AlertSettings":
        """These settings with more muted columns or column.statistic pairs."""
        return replace(self, mute=tuple(dict.fromkeys([*self.mute, *mutes])))

    def detector_key(self, granularity: str) -> str:
        """The key of the detector these settings make (``detect.detector_key``): a stored
        verdict stands only while it is the same."""
        from ..detect import detector_key

        return detector_key(self.make_detector(granularity))

    def make_detector(self, granularity: str) -> RobustDetector:
        params = {"false_alarms": self.false_alarms, "calendar": self.calendar,
                  "mute": list(self.mute), "granularity": granularity,
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
