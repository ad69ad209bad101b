"""One chart's data: a column's statistic over time with what watchkeeper said about it.

- ``points``: the statistic per partition (``wk summary`` values);
- ``bands``: the detector's expected band where it judged the series anomalous
  (every anomaly stores the band it was compared with);
- ``limits``: SLO limits that bound this statistic (``statistic``, ``between``,
  ``coverage``, ``not_null``, ``row_count`` checks), as data from watchkeeper.yaml;
- ``alerts``: incidents whose anomalies touch this series, with their status
  (a false positive, an acknowledgement) so feedback shows on the chart.
"""

from __future__ import annotations

import pandas as pd

from ..engine import Granularity
from ..store import Store
from ..store.alerts import AlertLog
from . import records

# Row-level checks bound the values, so every statistic in the values' unit.
_VALUE_STATISTICS = {"min", "max", "mean", "median", "p01", "p05", "p25", "p50", "p75", "p95",
                     "p99"}


def series(store: Store, spec, table: str, column: str, statistic: str) -> dict:
    record = store.table(table)
    if record is None:
        store._require(table)  # raises, naming the profiled tables and the fix
    fmt = Granularity.parse(record.granularity).format
    values = store.fetch_filtered(
        "SELECT partition_start AS partition, value FROM wk_statistics",
        {"table_name": table, "column_name": column, "statistic": statistic},
        "partition_start")
    points = [{"partition": fmt(p), "value": records.plain(v)}
              for p, v in zip(values["partition"], values["value"].tolist())]
    bands, marks = [], {}
    found = AlertLog(store).anomalies_of(table, column, statistic)
    for a in found.to_dict("records"):
        partition = fmt(pd.Timestamp(a["partition_start"]))
        incident = int(a["incident_id"])
        if a["source"] == "detector":
            bands.append({"partition": partition, "low": records.plain(a["expected_low"]),
                          "high": records.plain(a["expected_high"]), "incident": incident})
        marks[(incident, partition)] = {
            "partition": partition, "incident": incident, "severity": a["severity"],
            "status": a["status"], "source": a["source"], "check": a["check_name"]}
    return {"table": table, "column": column, "statistic": statistic, "points": points,
            "bands": bands, "limits": limits(spec, table, column, statistic),
            "alerts": list(marks.values())}


def limits(spec, table: str, column: str, statistic: str) -> list[dict]:
    """``{check, min, max}`` of each declared SLO check that bounds this statistic."""
    out = []
    slo = spec.tables.get(table)
    for check in (slo.checks if slo is not None else ()):
        p = check.params
        low = high = None
        if check.kind == "row_count" and column == "*" and statistic == "row_count":
            low, high = p.get("min"), p.get("max")
        elif check.column != column:
            continue
        elif check.kind == "statistic" and p.get("statistic") == statistic:
            low, high = p.get("min"), p.get("max")
        elif check.kind == "between" and statistic in _VALUE_STATISTICS:
            low, high = p.get("min"), p.get("max")
        elif check.kind == "coverage" and statistic == "null_fraction":
            high = 1 - float(p["min"])
        elif check.kind == "not_null" and statistic == "null_fraction":
            high = 1 - float(check.mostly)
        if low is not None or high is not None:
            out.append({"check": check.name, "severity": check.severity,
                        "min": _number(low), "max": _number(high)})
    return out


def _number(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):  # a date bound, say: not drawable on a number axis
        return None
