"""SLO attainment, as in SRE: the share of partitions meeting each check over the
last 7, 30 and 90 evaluated partitions, and the error budget left against a target.

With a 99% target over 30 partitions the budget is 0.3 failed partitions; one
failure leaves ``1 - 1/0.3 = -2.33`` (overspent). A check that could not be
evaluated (an engine error) counts as not met: an unknown is not a pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

WINDOWS = (7, 30, 90)


def attainment(results: pd.DataFrame, target: float, windows: Sequence[int] = WINDOWS
               ) -> pd.DataFrame:
    """One row per (table, check) from stored results (``load_results``)."""
    rows = []
    if results.empty:
        return pd.DataFrame(columns=_columns(windows))
    for (table, check), group in results.groupby(["table", "check"], sort=True):
        group = group.sort_values("partition")
        met = group["passed"].eq(True).to_numpy()
        latest = group.iloc[-1]
        row = {"table": table, "check": check, "severity": latest["severity"],
               "kind": latest["kind"], "partitions": len(group),
               "latest_partition": latest["partition"], "latest_passed": bool(met[-1]),
               "target": target}
        for w in windows:
            recent = met[-w:]
            failures = int(len(recent) - recent.sum())
            allowed = (1.0 - target) * len(recent)
            row[f"attainment_{w}"] = float(recent.mean())
            row[f"failures_{w}"] = failures
            row[f"budget_left_{w}"] = 1.0 - failures / allowed if allowed > 0 else None
        rows.append(row)
    return pd.DataFrame(rows, columns=_columns(windows))


def _columns(windows: Sequence[int]) -> list[str]:
    base = ["table", "check", "severity", "kind", "partitions", "latest_partition",
            "latest_passed", "target"]
    return base + [f"{k}_{w}" for w in windows for k in ("attainment", "failures",
                                                         "budget_left")]
