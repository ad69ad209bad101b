"""Overhead of ``watchkeeper.guard`` on a prediction batch.

Measures the median time added by a three-rule guard (clip, replace nulls with a
constant, flag rows outside a set) over the identity (returning the batch as
is) at 1k, 10k and 100k rows. The batches are synthetic churn scores with 2%
NaN and a few out-of-range values, so every rule has work to do.

Run: ``.venv/bin/python benchmarks/guard_overhead.py [--runs N] [--json]``
Target: median added <= 1 ms at 1,000 rows, and linear in batch size.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import watchkeeper as wk
from watchkeeper.triggers import flush_guard_log

RULES = {"churn-guard": {"event": "serve.before", "model": "churn", "actions": [
    {"clip": {"column": "score", "min": 0, "max": 1}},
    {"replace": {"column": "score", "nulls": True, "value": 0.5}},
    {"flag": {"when": {"column": "segment", "not_in_set": ["new", "active", "dormant"]}}},
]}}


def batch(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.beta(2, 5, rows) * 1.1 - 0.05  # a few values outside [0, 1]
    score[rng.random(rows) < 0.02] = np.nan
    segment = rng.choice(["new", "active", "dormant", "unknown"], rows, p=[.3, .5, .19, .01])
    return pd.DataFrame({"customer_id": np.arange(rows), "score": score, "segment": segment})


def median_seconds(fn, runs: int) -> float:
    for _ in range(max(runs // 20, 5)):  # warm up caches and the compiled guard
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def identity(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="timed runs at 1k rows "
                        "(fewer at larger sizes)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "watchkeeper.yaml").write_text(yaml.safe_dump(
            {"version": 1, "store": ".watchkeeper/store.duckdb", "tables": {},
             "triggers": RULES}, sort_keys=False))
        project = wk.Project.load(root / "watchkeeper.yaml")
        results = []
        for rows in (1_000, 10_000, 100_000):
            frame = batch(rows)
            runs = max(args.runs * 1_000 // rows, 50)
            base = median_seconds(lambda f=frame: identity(f), runs)
            guarded = median_seconds(
                lambda f=frame: wk.guard(f, model="churn", project=project), runs)
            results.append({"rows": rows, "runs": runs, "identity_ms": base * 1e3,
                            "guard_ms": guarded * 1e3, "added_ms": (guarded - base) * 1e3,
                            "added_us_per_1k_rows": (guarded - base) * 1e6 * 1_000 / rows})
        flush_guard_log()
    meta = {"python": platform.python_version(), "pandas": pd.__version__,
            "machine": platform.machine(), "rules": 3}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=2))
        return
    print(f"guard overhead, 3 rules (python {meta['python']}, pandas {meta['pandas']})")
    print(f"{'rows':>8} {'runs':>6} {'identity ms':>12} {'guard ms':>9} {'added ms':>9} "
          f"{'added us/1k rows':>17}")
    for r in results:
        print(f"{r['rows']:>8} {r['runs']:>6} {r['identity_ms']:>12.4f} {r['guard_ms']:>9.3f} "
              f"{r['added_ms']:>9.3f} {r['added_us_per_1k_rows']:>17.1f}")
    target = results[0]["added_ms"] <= 1.0
    print(f"target (<= 1 ms added at 1,000 rows): {'met' if target else 'MISSED'}")
    sys.exit(0 if target else 1)


if __name__ == "__main__":
    main()
