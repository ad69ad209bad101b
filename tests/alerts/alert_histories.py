"""Summary histories for the alert tests, written straight into a store (no engine)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from watchkeeper.store import TableRecord

NUMERIC = ("amount", "fare", "tip", "distance")


def make_history(days: int = 90, seed: int = 0, start: str = "2024-01-01",
                 columns=NUMERIC, rows: int = 500) -> pd.DataFrame:
    """Numeric columns with steady statistics, plus the table's row count."""
    rng = np.random.default_rng(seed)
    out = []
    for p in pd.date_range(start, periods=days, freq="D"):
        n = round(rows + rng.normal(0, 10))
        out.append((p, "*", "row_count", float(n)))
        for i, column in enumerate(columns):
            base = 50.0 * (i + 1)
            mean = base + rng.normal(0, 0.5)
            values = {"non_null_count": n, "null_fraction": max(0.0, 0.01 + rng.normal(0, 0.002)),
                      "mean": mean, "std": 10 + rng.normal(0, 0.2),
                      "p25": mean - 7 + rng.normal(0, 0.3), "p50": mean + rng.normal(0, 0.3),
                      "p75": mean + 7 + rng.normal(0, 0.3)}
            out.extend((p, column, s, float(v)) for s, v in values.items())
    return pd.DataFrame(out, columns=["partition", "column", "statistic", "value"])


def shift(history: pd.DataFrame, partition, column: str, statistic: str, by: float
          ) -> pd.DataFrame:
    """``history`` with one cell moved by ``by``."""
    out = history.copy()
    mask = ((out["partition"] == pd.Timestamp(partition)) & (out["column"] == column)
            & (out["statistic"] == statistic))
    assert mask.sum() == 1, "the cell to move must exist"
    out.loc[mask, "value"] += by
    return out


def save_history(store, table: str, history: pd.DataFrame, granularity: str = "day",
                 only=None) -> None:
    """Store ``history`` as if ``wk profile`` had computed it (``only``: an incremental
    refresh of just those partitions)."""
    if only is not None:
        history = history[history["partition"].isin(pd.DatetimeIndex(only))]
    rows = history[(history["column"] == "*") & (history["statistic"] == "row_count")]
    partitions = pd.DataFrame({"partition": rows["partition"],
                               "row_count": rows["value"].astype("int64")})
    columns = [(c, "numeric", "double") for c in history["column"].unique() if c != "*"]
    top = pd.DataFrame(columns=["partition", "column", "rank", "value", "ratio"])
    store.save_profile(TableRecord(table, "memory", "day_column", granularity),
                       partitions=partitions, fingerprint="fp", columns=columns,
                       statistics=history, top_values=top, replace_all=only is None)


def day(i: int, start: str = "2024-01-01") -> pd.Timestamp:
    return pd.Timestamp(start) + pd.Timedelta(days=i)
