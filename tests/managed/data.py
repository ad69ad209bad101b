"""Batches and projects for the managed-table tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

CHECKS = [
    {"name": "price_positive", "kind": "between", "column": "price", "min": 0,
     "strict_min": True},
    {"kind": "not_null", "column": "order_id"},
    {"kind": "unique", "column": "order_id"},
    {"name": "size_known", "kind": "in_set", "column": "size", "values": ["S", "M", "L"]},
    {"name": "qty_small", "kind": "between", "column": "qty", "max": 5, "severity": "warning"},
    {"kind": "row_count", "min": 5, "max": 1000},
]


def batch(day: str, n: int = 20, *, seed: int = 0, bad_price: int = 0, null_ids: int = 0,
          dup_ids: int = 0, bad_size: int = 0, outside: int = 0) -> pd.DataFrame:
    """One day of orders; the first rows are made bad as asked (each fault on its own rows)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(day)
    frame = pd.DataFrame({
        "order_id": [f"{day}-{i}" for i in range(n)],
        "date": [start.date()] * n,
        "price": rng.uniform(1, 30, n).round(2),
        "size": rng.choice(["S", "M", "L"], n),
        "qty": rng.integers(1, 5, n),
    })
    row = 0
    for count, fault in ((bad_price, "price"), (null_ids, "null"), (dup_ids, "dup"),
                         (bad_size, "size"), (outside, "outside")):
        for _ in range(count):
            if fault == "price":
                frame.loc[row, "price"] = -1.0
            elif fault == "null":
                frame.loc[row, "order_id"] = None
            elif fault == "dup":
                frame.loc[row, "order_id"] = frame.loc[n - 1, "order_id"]
            elif fault == "size":
                frame.loc[row, "size"] = "XXL"
            else:
                frame.loc[row, "date"] = (start + pd.Timedelta(days=1)).date()
            row += 1
    return frame


def write_project(root: Path, *, checks=None, managed=None, triggers=None) -> Path:
    config = {"version": 1, "store": ".watchkeeper/store.duckdb", "tables": {},
              "managed": {"orders": {"partition_column": "date", **(managed or {})}},
              "slos": {"tables": {"orders": {"key": ["order_id"],
                                             "checks": CHECKS if checks is None else checks}}}}
    if triggers:
        config["triggers"] = triggers
    (root / "watchkeeper.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def user_rows(table) -> pd.DataFrame:
    """Rows as a sorted pandas frame without watchkeeper's bookkeeping columns."""
    frame = table.to_pandas() if hasattr(table, "to_pandas") else table
    frame = frame[[c for c in frame.columns if not c.startswith("_wk_")]]
    if frame.empty:
        return frame.reset_index(drop=True)
    return frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)
