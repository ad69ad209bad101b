"""A small orders table with known faults, as a project with SLO checks.

Partition days (0-based from 2023-01-02, 50 days, ~80 rows a day):

- day 35: one row with rating 6: the warning check ``rating_at_most_5`` fails,
  the detector calls one odd row info at most;
- day 40: a tenth of the rows with items = -1: the critical check
  ``items_positive`` fails;
- day 42: one row with rating 6 again (warning), day 43: 40% of the ratings NULL
  (the detector's critical), so the day-42 incident is extended over day 43;
- day 45: ``watchkeeper.datasets.faults`` "nulls" on ``amount`` (detector only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CHECKS = [
    {"name": "items_positive", "kind": "between", "column": "items", "min": 1,
     "severity": "critical"},
    {"name": "rating_at_most_5", "kind": "between", "column": "rating", "max": 5,
     "severity": "warning"},
]


@dataclass(frozen=True)
class OrdersProject:
    root: Path
    days: list[str]

    def day(self, i: int) -> str:
        return self.days[i]


def orders_frame(*, faults: bool = True, last_day: int | None = None) -> pd.DataFrame:
    from watchkeeper.datasets import synthetic
    from watchkeeper.datasets.faults import inject

    frame = synthetic(seed=1, days=50, rows_per_day=80).frame
    days = sorted(frame["order_date"].unique())
    rng = np.random.default_rng(7)
    parts = []
    for i, day in enumerate(days[:None if last_day is None else last_day + 1]):
        part = frame[frame["order_date"] == day].reset_index(drop=True)
        if faults and i in (35, 42):
            part.loc[0, "rating"] = 6.0
        if faults and i == 40:
            part["items"] = part["items"].where(part.index % 10 != 0, -1)
        if faults and i == 43:
            part["rating"] = part["rating"].where(rng.random(len(part)) >= 0.4)
        if faults and i == 45:
            part, _ = inject(part, "nulls", rng, column="amount")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def make_project(root: Path, frame: pd.DataFrame | None = None,
                 triggers: dict | None = None) -> OrdersProject:
    """``root`` with orders.parquet, watchkeeper.yaml (table, SLO checks, triggers), store."""
    import watchkeeper as wk

    frame = orders_frame() if frame is None else frame
    frame.to_parquet(root / "orders.parquet")
    project = wk.Project.init(root)
    project.add_table(wk.TableSpec("orders", "orders.parquet", "order_date"))
    project.extra["slos"] = {"tables": {"orders": {"checks": CHECKS}}}
    if triggers:
        project.extra["triggers"] = triggers
    project.save()
    days = [pd.Timestamp(d).date().isoformat() for d in sorted(frame["order_date"].unique())]
    return OrdersProject(root, days)
