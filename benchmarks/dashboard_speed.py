"""Dashboard speed: server-side render times of the overview and table pages and one
column's series from the API, over a store holding COLUMNS columns x PARTITIONS daily
partitions of history (written straight into the store, no engine).

    python benchmarks/dashboard_speed.py                 # 1,000 x 365 (the target size)
    python benchmarks/dashboard_speed.py --columns 20 --partitions 30

Targets: overview and table page under 300 ms, one series under 50 ms (median of 5 runs,
after one warm-up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

STATS = ("non_null_count", "null_fraction", "mean", "std", "p50", "p95", "min", "max")
TARGETS_MS = {"overview": 300, "table page": 300, "series": 50}


def fill_store(store, columns: int, partitions: int, seed: int = 0) -> None:
    from watchkeeper.store import TableRecord

    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=partitions, freq="D")
    names = [f"feature_{i:04d}" for i in range(columns)]
    parts = np.repeat(days.values, columns * len(STATS))
    cols = np.tile(np.repeat(names, len(STATS)), partitions)
    stats = np.tile(STATS, columns * partitions)
    values = rng.normal(50, 5, len(parts))
    frame = pd.DataFrame({"partition": parts, "column": cols, "statistic": stats,
                          "value": values})
    rows = pd.DataFrame({"partition": days, "column": "*", "statistic": "row_count",
                         "value": 1000.0})
    frame = pd.concat([rows, frame], ignore_index=True)
    store.save_profile(TableRecord("wide", "memory", "day", "day"),
                       partitions=pd.DataFrame({"partition": days, "row_count": 1000}),
                       fingerprint="fp", columns=[(n, "numeric", "double") for n in names],
                       statistics=frame,
                       top_values=pd.DataFrame(columns=["partition", "column", "rank",
                                                        "value", "ratio"]),
                       replace_all=True)


def measure(columns: int, partitions: int, runs: int = 5) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from watchkeeper.server import create_app
    from watchkeeper.store import Store

    folder = Path(tempfile.mkdtemp(prefix="wk-dashboard-bench-"))
    store = Store.open(folder / "store.duckdb")
    fill_store(store, columns, partitions)
    client = TestClient(create_app(None, store=store))
    urls = {"overview": "/", "table page": "/table?name=wide",
            "series": "/api/series?table=wide&column=feature_0000&statistic=mean"}
    out = {}
    for name, url in urls.items():
        assert client.get(url).status_code == 200, url  # warm-up
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        out[name] = statistics.median(times)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=365)
    args = parser.parse_args()
    before = os.getloadavg()[0]
    found = measure(args.columns, args.partitions)
    # A shared machine's load stretches every time: say what it was.
    print(f"{args.columns} columns x {args.partitions} partitions; load average "
          f"{before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    for name, ms in found.items():
        verdict = "met" if ms < TARGETS_MS[name] else "NOT met"
        print(f"  {name:<11} {ms:8.1f} ms  (target {TARGETS_MS[name]} ms: {verdict})")


if __name__ == "__main__":
    main()
