"""The detector's speed target: 1,000 columns x 730 daily partitions.

Scoring the newest partition against the history must take < 1 s, a backtest of
every partition < 30 s. The history is a synthetic long frame shaped exactly like
``ProfileResult.statistics`` (17 statistics per numeric column, plus row_count).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from watchkeeper.detect import RobustDetector

STATS = ("non_null_count", "null_fraction", "mean", "std", "min", "max", "p01", "p05", "p25",
         "p50", "p75", "p95", "p99", "zero_fraction", "negative_fraction", "distinct_count")


def history(columns: int = 1000, partitions: int = 730, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", periods=partitions, freq="D")
    rows = 1000 + 100 * np.sin(np.arange(partitions) * 2 * np.pi / 7) + rng.normal(0, 20, partitions)
    level = rng.normal(50, 10, columns)[None, :] + np.cumsum(rng.normal(0, 0.1, (partitions, columns)), 0)
    noise = lambda s: rng.normal(0, s, (partitions, columns))  # noqa: E731
    values = {
        "non_null_count": rows[:, None] * (1 - 0.01) + noise(2), "null_fraction": 0.01 + noise(0.002),
        "mean": level + noise(0.3), "std": 10 + noise(0.2), "min": level - 30 + noise(3),
        "max": level + 30 + noise(3), "p01": level - 23 + noise(1), "p05": level - 16 + noise(0.6),
        "p25": level - 7 + noise(0.4), "p50": level + noise(0.4), "p75": level + 7 + noise(0.4),
        "p95": level + 16 + noise(0.6), "p99": level + 23 + noise(1), "zero_fraction": np.abs(noise(0.001)),
        "negative_fraction": np.abs(noise(0.001)), "distinct_count": 900 + noise(10)}
    names = np.array([f"c{i:04d}" for i in range(columns)], dtype=object)
    parts = []
    for stat in STATS:
        parts.append(pd.DataFrame({"partition": np.repeat(days, columns),
                                   "column": np.tile(names, partitions), "statistic": stat,
                                   "value": values[stat].ravel()}))
    parts.append(pd.DataFrame({"partition": days, "column": "*", "statistic": "row_count",
                               "value": rows}))
    return pd.concat(parts, ignore_index=True)


def main(markdown: bool = False, quiet: bool = False) -> dict:
    frame = history()
    last = frame["partition"].max()
    past, newest = frame[frame["partition"] < last], frame[frame["partition"] == last]
    started = time.perf_counter()
    detector = RobustDetector().fit(past)
    fitted = time.perf_counter()
    detector.judge(newest)
    judged = time.perf_counter()
    RobustDetector().backtest(frame)
    done = time.perf_counter()
    out = {"rows": len(frame), "fit_s": fitted - started, "judge_s": judged - fitted,
           "fit_and_judge_s": judged - started, "backtest_s": done - judged}
    if quiet:
        return out
    title = f"Speed: 1,000 columns x 730 partitions ({len(frame):,} summary rows)"
    if markdown:
        print(f"\n### {title}\n| step | seconds | target |\n|---|---|---|")
        print(f"| fit on 729 partitions | {out['fit_s']:.2f} | |")
        print(f"| judge the newest partition (fitted) | {out['judge_s']:.2f} | < 1 |")
        print(f"| fit + judge | {out['fit_and_judge_s']:.2f} | |")
        print(f"| backtest all 730 partitions | {out['backtest_s']:.2f} | < 30 |")
    else:
        print(f"\n== {title}")
        for k, v in out.items():
            print(f"{k:>16}: {v:,.2f}" if k != "rows" else f"{k:>16}: {v:,}")
    return out


if __name__ == "__main__":
    main()
