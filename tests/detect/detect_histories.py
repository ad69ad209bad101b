"""Tiny summary histories built directly as long frames: no engine, no raw data."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_history(days: int = 90, seed: int = 0, start: str = "2024-01-01", weekly: float = 0.0,
                 trend: float = 0.0, rows: int = 500) -> pd.DataFrame:
    """Two columns (``amount`` numeric, ``city`` string) plus row_count, one row per statistic."""
    rng = np.random.default_rng(seed)
    parts = pd.date_range(start, periods=days, freq="D")
    out = []
    for i, p in enumerate(parts):
        n = rows * (1 + weekly * (p.dayofweek >= 5)) + rng.normal(0, 10)
        mean = 50 + trend * i + rng.normal(0, 0.5)
        values = {
            ("*", "row_count"): round(n),
            ("amount", "non_null_count"): round(n * 0.99),
            ("amount", "null_fraction"): 0.01 + rng.normal(0, 0.002),
            ("amount", "mean"): mean,
            ("amount", "std"): 10 + rng.normal(0, 0.2),
            ("amount", "p25"): mean - 7 + rng.normal(0, 0.3),
            ("amount", "p50"): mean + rng.normal(0, 0.3),
            ("amount", "p75"): mean + 7 + rng.normal(0, 0.3),
            ("amount", "min"): mean - 30 + rng.normal(0, 2),
            ("amount", "max"): mean + 30 + rng.normal(0, 2),
            ("city", "non_null_count"): round(n),
            ("city", "null_fraction"): 0.0,
            ("city", "distinct_count"): 20 + rng.integers(-1, 2),
            ("city", "top_ratio"): 0.2 + rng.normal(0, 0.01),
        }
        out.extend((p, c, s, float(v)) for (c, s), v in values.items())
    return pd.DataFrame(out, columns=["partition", "column", "statistic", "value"])


def set_value(history: pd.DataFrame, partition, column: str, statistic: str, value: float
              ) -> pd.DataFrame:
    out = history.copy()
    mask = ((out["partition"] == pd.Timestamp(partition)) & (out["column"] == column)
            & (out["statistic"] == statistic))
    assert mask.any(), "the cell to change must exist"
    out.loc[mask, "value"] = value
    return out
