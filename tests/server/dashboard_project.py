"""The project the dashboard tests (and docs/dashboard.md's screenshots) use: profiled,
validated, checked and ingested through the ``wk`` CLI, with a critical incident, a
quarantine, and hostile column names."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import yaml

HOSTILE = "<script>alert(1)</script>"
HOSTILE_VALUE = "<img src=x onerror=alert(2)>"
TOKEN = "s3cret-token-for-tests"


def build(root: Path) -> None:
    from cli_helpers import run_quiet
    from watchkeeper.datasets import synthetic

    frame = synthetic(seed=2, days=40, rows_per_day=60).frame
    last = frame["order_date"] == frame["order_date"].max()
    hit = last & (np.random.default_rng(1).random(len(frame)) < 0.6)
    frame.loc[hit, "amount"] = None
    frame[HOSTILE] = frame["channel"].astype(str)
    frame.loc[last, HOSTILE] = HOSTILE_VALUE  # a new category, and a hostile one
    frame.to_parquet(root / "orders.parquet", index=False)
    batch = frame[last].head(12).copy()
    batch.loc[batch.index[:3], "amount"] = -5.0  # three rows break feed's amount_positive
    batch.to_parquet(root / "feed-batch.parquet", index=False)
    (root / "watchkeeper.yaml").write_text(yaml.safe_dump({
        "version": 1, "store": ".watchkeeper/store.duckdb",
        "tables": {"orders": {"source": "orders.parquet", "partition_column": "order_date",
                              "granularity": "day"}},
        "managed": {"feed": {"partition_column": "order_date"}},
        "slos": {"tables": {"orders": {"checks": [
            {"name": "amount_range", "kind": "between", "column": "amount", "min": 0,
             "max": 100000},
            {"name": "amount_present", "kind": "not_null", "column": "amount",
             "severity": "warning"},
            {"name": "hostile_present", "kind": "not_null", "column": HOSTILE}]},
            "feed": {"checks": [
                {"name": "amount_positive", "kind": "between", "column": "amount", "min": 0}]}}},
    }))
    old = Path.cwd()
    os.chdir(root)
    try:
        for args in (["profile", "orders"], ["validate", "orders", "--all"],
                     ["check", "orders"],
                     ["ingest", "feed", "feed-batch.parquet", "--partition", "2023-02-10"]):
            run_quiet(args)
    finally:
        os.chdir(old)
