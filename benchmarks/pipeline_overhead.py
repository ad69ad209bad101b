"""Overhead of a watchkeeper pipeline run over plain scikit-learn, and of logging predictions.

1. **Run**: ``wk.run`` on synthetic daily data (gates with profiles and SLO checks, the
   windows, the search, the fit, per-partition scores, MLflow logging and registration,
   lineage) against the same work in plain code: read the Parquet file, fit the same
   estimator with the same params on the same train window, predict the eval window.
2. **Logging**: ``wk.log`` of a prediction batch (``mode="replace"``: one ingest into a
   managed table, validated, versioned) against ``DataFrame.to_parquet`` of it.

Run: ``.venv/bin/python benchmarks/pipeline_overhead.py [--days N] [--rows-per-day N]
[--trees N] [--log-rows N] [--repeat N] [--json]``
Targets: run <= 1.1x plain scikit-learn; logging 100k rows <= 1.5x writing Parquet.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

MODEL = "sklearn.ensemble.RandomForestRegressor"


def daily(days: int, rows_per_day: int, seed: int = 0) -> pd.DataFrame:
    """Orders-like rows: an id, a day, four features and a noisy linear target."""
    rng = np.random.default_rng(seed)
    n = days * rows_per_day
    frame = pd.DataFrame({
        "order_id": np.arange(n),
        "date": np.repeat(pd.date_range("2024-01-01", periods=days, freq="D"), rows_per_day),
        "hour": rng.integers(10, 23, n).astype(float),
        "items": rng.poisson(2.0, n).astype(float) + 1,
        "large_share": rng.random(n), "discount": rng.random(n) * 0.3})
    frame["revenue"] = (12 * frame["items"] * (1 + frame["large_share"]) *
                        (1 - frame["discount"]) + rng.normal(0, 3, n))
    return frame


def project(root: Path, frame: pd.DataFrame, days: int, trees: int):
    import watchkeeper as wk

    frame.drop(columns=["revenue"]).to_parquet(root / "features.parquet", index=False)
    frame[["order_id", "date", "revenue"]].to_parquet(root / "labels.parquet", index=False)
    proj = wk.Project.init(root)
    proj.add_table(wk.TableSpec("features", "features.parquet", "date"))
    proj.add_table(wk.TableSpec("labels", "labels.parquet", "date"))
    proj.extra["slos"] = {"tables": {"features": {"checks": [
        {"name": "items_positive", "kind": "between", "column": "items", "min": 1}]}}}
    train, evaluation = days - days // 5, days // 5
    proj.extra["pipelines"] = {"revenue": {
        "features": [{"table": "features", "entity": ["order_id"]}],
        "label": {"table": "labels", "column": "revenue", "entity": ["order_id"]},
        "model": {"import": MODEL, "params": {"n_estimators": trees, "max_depth": 12,
                                              "random_state": 0, "n_jobs": 1}},
        "windows": {"train": train, "eval": evaluation}, "metrics": ["rmse"]}}
    proj.save()
    return proj, train, evaluation


def plain(root: Path, train: int, evaluation: int, trees: int) -> float:
    """The same fit and predict in plain code; returns the eval RMSE."""
    from sklearn.ensemble import RandomForestRegressor

    x = pd.read_parquet(root / "features.parquet")
    y = pd.read_parquet(root / "labels.parquet")
    rows = x.merge(y, on=["order_id", "date"])
    days = sorted(rows["date"].unique())
    fit_rows = rows[rows["date"].isin(days[-(train + evaluation):-evaluation])]
    eval_rows = rows[rows["date"].isin(days[-evaluation:])]
    cols = ["hour", "items", "large_share", "discount"]
    model = RandomForestRegressor(n_estimators=trees, max_depth=12, random_state=0, n_jobs=1)
    model.fit(fit_rows[cols], fit_rows["revenue"])
    error = model.predict(eval_rows[cols]) - eval_rows["revenue"]
    return float(np.sqrt((error ** 2).mean()))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_run(days: int, rows_per_day: int, trees: int, repeat: int) -> dict:
    import watchkeeper as wk

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old = Path.cwd()
        os.chdir(root)
        try:
            _, train, evaluation = project(root, daily(days, rows_per_day), days, trees)
            wk.run("revenue")  # warm: imports, the MLflow store's schema, first profiles
            ours = [timed(lambda: wk.run("revenue")) for _ in range(repeat)]
            base = [timed(lambda: plain(root, train, evaluation, trees)) for _ in range(repeat)]
        finally:
            os.chdir(old)
    return {"days": days, "rows_per_day": rows_per_day, "trees": trees,
            "watchkeeper_s": statistics.median(ours), "plain_s": statistics.median(base),
            "ratio": statistics.median(ours) / statistics.median(base)}


def bench_log(rows: int, repeat: int) -> dict:
    import watchkeeper as wk

    rng = np.random.default_rng(1)
    batch = pd.DataFrame({"order_id": np.arange(rows), "date": pd.Timestamp("2024-03-01"),
                          "prediction": rng.normal(40, 10, rows),
                          "model_version": "3", "stage": "champion", "batch_id": "b" * 16})
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old = Path.cwd()
        os.chdir(root)
        try:
            wk.Project.init(root)
            log = lambda: wk.log(batch, table="predictions", partition="2024-03-01",  # noqa: E731
                                 partition_column="date", mode="replace")
            log()  # warm
            ours = [timed(log) for _ in range(repeat)]
            base = [timed(lambda: batch.to_parquet(root / "batch.parquet", index=False))
                    for _ in range(repeat)]
        finally:
            os.chdir(old)
    return {"rows": rows, "watchkeeper_s": statistics.median(ours),
            "parquet_s": statistics.median(base),
            "ratio": statistics.median(ours) / statistics.median(base)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rows-per-day", type=int, default=2000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--log-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = {"python": platform.python_version(),
               "run": bench_run(args.days, args.rows_per_day, args.trees, args.repeat),
               "log": bench_log(args.log_rows, args.repeat)}
    if args.json:
        print(json.dumps(results))
    else:
        r, g = results["run"], results["log"]
        print(f"run: {r['days']} days x {r['rows_per_day']} rows, {r['trees']} trees: "
              f"watchkeeper {r['watchkeeper_s']:.2f} s, plain {r['plain_s']:.2f} s, "
              f"{r['ratio']:.2f}x (target <= 1.1x)")
        print(f"log: {g['rows']:,} rows: wk.log {g['watchkeeper_s']:.3f} s, Parquet "
              f"{g['parquet_s']:.3f} s, {g['ratio']:.2f}x (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
