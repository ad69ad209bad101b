"""Events the lower layers' results call for: ``partition.profiled`` and ``slo.failed``.

``summaries/`` and ``slo/`` compute and store results but know nothing of
projects or triggers (dependencies point down). The layers that know the
project -- the CLI (``wk profile``, ``wk check``, ``wk backtest``, ``wk
validate``), the gate and managed ingest -- hand their results to these
functions after storing them.

Both fire through :func:`fire_many`: one read of the project file, and no store
access at all when no trigger listens (a first profile of a year of daily data
is 365 events).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .dispatch import FireResult, fire_many
from .events import Event


def profiled_events(result) -> list[Event]:
    """One ``partition.profiled`` per partition ``result`` (a ``ProfileResult``) computed.

    Context: ``row_count`` and the schema ``fingerprint``. Partitions the
    incremental refresh skipped were not profiled again, so they fire nothing.
    """
    stats = result.statistics
    rows = stats[(stats["column"] == "*") & (stats["statistic"] == "row_count")]
    counts = {pd.Timestamp(p): int(v) for p, v in zip(rows["partition"], rows["value"])}
    return [Event("partition.profiled", table=result.table, partition=pd.Timestamp(p),
                  context={"row_count": counts.get(pd.Timestamp(p)),
                           "fingerprint": result.fingerprint})
            for p in result.refreshed]


def slo_failed_events(result) -> list[Event]:
    """One ``slo.failed`` per failed (or unevaluable) check and partition of ``result``
    (a ``ValidationResult``).

    Severity is the check's; context: ``check``, ``kind``, ``observed``,
    ``unexpected_count``, ``unexpected_fraction`` and ``error`` (why the check could
    not be evaluated, else None).
    """
    failed = result.failed()
    if failed.empty:
        return []
    out = []
    for row in failed.to_dict("records"):
        context = {"check": str(row["check"]), "kind": str(row["kind"]),
                   **{k: _plain(row.get(k)) for k in ("observed", "unexpected_count",
                                                      "unexpected_fraction", "error")}}
        out.append(Event("slo.failed", table=result.table, partition=pd.Timestamp(row["partition"]),
                         severity=str(row["severity"]), column=_plain(row.get("column")),
                         context=context))
    return out


def announce_profiled(result, project=None) -> list[FireResult]:
    """Fire :func:`profiled_events` at ``project``'s triggers (the nearest project if None)."""
    return fire_many(profiled_events(result), project)


def announce_slo_failed(result, project=None) -> list[FireResult]:
    """Fire :func:`slo_failed_events` at ``project``'s triggers (the nearest project if None)."""
    return fire_many(slo_failed_events(result), project)


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars as Python numbers, NaN and NA as None."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
