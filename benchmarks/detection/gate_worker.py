"""Runs GATE (PyPI ``gate-drift``, ``cluster=False``) inside benchmarks/detection/.venv-gate.

gate-drift pins polars 0.17 and pulls torch, so it cannot share our venv. The benchmark
writes the replayed raw rows (faults substituted) as Parquet, calls this script with the
GATE venv's Python, and reads one JSON line per judged partition back; each partition is
judged against the summaries of the partitions before it, faulty ones included.

Input folder: rows.parquet (rows, ``__pidx`` = partition number), meta.json (columns,
partitions to judge).
"""

import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

warnings.filterwarnings("ignore")
import gate  # noqa: E402


def top_columns(result, k=3):
    try:
        return [str(c) for c in result.drifted_columns(limit=k).index]
    except Exception:  # noqa: BLE001 - an empty drill-down is no ranking
        return []


def main(folder: str) -> None:
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    rows = pd.read_parquet(folder / "rows.parquet")
    summaries = gate.summarize(rows, columns=meta["columns"], partition_key="__pidx")
    by_index = {int(s.partition): s for s in summaries}
    with open(folder / "results.jsonl", "w") as out:
        for pidx in meta["judge"]:
            previous = [by_index[i] for i in sorted(by_index) if i < pidx]
            if len(previous) < 5 or pidx not in by_index:
                continue
            started = time.perf_counter()
            result = gate.detect_drift(by_index[pidx], previous, cluster=False)
            out.write(json.dumps({"pidx": pidx, "alert": bool(result.is_drifted),
                                  "score": float(result.score), "top": top_columns(result),
                                  "seconds": time.perf_counter() - started}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
