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


def timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds of ``fn()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def paired(ours_fn, base_fn, repeat: int) -> dict:
    """Both contenders ``repeat`` times, interleaved (ours, base, ours, base, ...) so a
    change of load on the shared machine hits both: medians and ranges of wall and CPU
    seconds, and the median of the per-pair ratios."""
    ours, base = [], []
    for _ in range(repeat):
        ours.append(timed(ours_fn))
        base.append(timed(base_fn))
    out = {}
    for name, runs in (("watchkeeper", ours), ("baseline", base)):
        for i, kind in enumerate(("wall", "cpu")):
            values = [r[i] for r in runs]
            out[f"{name}_{kind}_s"] = statistics.median(values)
            out[f"{name}_{kind}_range"] = [min(values), max(values)]
    out["ratio"] = statistics.median(o[0] / b[0] for o, b in zip(ours, base))
    out["cpu_ratio"] = statistics.median(o[1] / b[1] for o, b in zip(ours, base))
    out["repeat"] = repeat
    return out


def bench_run(days: int, rows_per_day: int, trees: int, repeat: int) -> dict:
    import watchkeeper as wk

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old = Path.cwd()
        os.chdir(root)
        try:
            _, train, evaluation = project(root, daily(days, rows_per_day), days, trees)
            wk.run("revenue")  # warm: imports, the MLflow store's schema, first profiles
            found = paired(lambda: wk.run("revenue"),
                           lambda: plain(root, train, evaluation, trees), repeat)
            # Whole processes, as cron runs them: imports included on both sides.
            processes = paired(
                lambda: _process([sys.executable, "-m", "watchkeeper.cli", "run", "revenue"],
                                 root),
                lambda: _process([sys.executable, str(Path(__file__).resolve()), "--plain-in",
                                  str(root), "--days", str(days), "--trees", str(trees)], root),
                repeat)
        finally:
            os.chdir(old)
    return {"days": days, "rows_per_day": rows_per_day, "trees": trees, **found,
            "processes": {k: v for k, v in processes.items() if "wall" in k or k == "ratio"}}


def _process(command: list[str], cwd: Path) -> None:
    import subprocess

    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: "
                           f"{done.stderr[-500:]}")


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
            found = paired(log, lambda: batch.to_parquet(root / "batch.parquet", index=False),
                           repeat)
        finally:
            os.chdir(old)
    return {"rows": rows, **found}


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _span(found: dict, who: str, kind: str, digits: int = 2) -> str:
    low, high = found[f"{who}_{kind}_range"]
    return f"{found[f'{who}_{kind}_s']:.{digits}f} [{low:.{digits}f}-{high:.{digits}f}]"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rows-per-day", type=int, default=2000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--log-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--plain-in", help=argparse.SUPPRESS)  # the plain process's side
    args = parser.parse_args(argv)
    if args.plain_in:
        plain(Path(args.plain_in), args.days - args.days // 5, args.days // 5, args.trees)
        return 0
    results = {"python": platform.python_version(), "cores": os.cpu_count(),
               "load_before": _load(),
               "run": bench_run(args.days, args.rows_per_day, args.trees, args.repeat),
               "log": bench_log(args.log_rows, args.repeat), "load_after": _load()}
    if args.json:
        print(json.dumps(results))
    else:
        r, g = results["run"], results["log"]
        print(f"load average (1, 5, 15 min) before {results['load_before']}, after "
              f"{results['load_after']}, {results['cores']} cores; {args.repeat} interleaved "
              "repetitions each; medians [min-max]")
        print(f"run: {r['days']} days x {r['rows_per_day']} rows, {r['trees']} trees: "
              f"watchkeeper {_span(r, 'watchkeeper', 'wall')} s wall, "
              f"{_span(r, 'watchkeeper', 'cpu')} s CPU; plain {_span(r, 'baseline', 'wall')} s "
              f"wall, {_span(r, 'baseline', 'cpu')} s CPU; {r['ratio']:.2f}x wall, "
              f"{r['cpu_ratio']:.2f}x CPU (target <= 1.1x)")
        p = r["processes"]
        print(f"run as whole processes (wk run vs python plain fit, imports included): "
              f"{_span(p, 'watchkeeper', 'wall')} s vs {_span(p, 'baseline', 'wall')} s wall, "
              f"{p['ratio']:.2f}x")
        print(f"log: {g['rows']:,} rows: wk.log {_span(g, 'watchkeeper', 'wall', 3)} s wall, "
              f"{_span(g, 'watchkeeper', 'cpu', 3)} s CPU; Parquet "
              f"{_span(g, 'baseline', 'wall', 3)} s wall, {_span(g, 'baseline', 'cpu', 3)} s "
              f"CPU; {g['ratio']:.2f}x wall, {g['cpu_ratio']:.2f}x CPU (target <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
