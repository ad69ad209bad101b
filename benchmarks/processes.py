"""Whole processes, start-up included, interleaved and paired: what a user's shell sees.

Each repetition runs every contender once, in a rotated order, as its own process,
and records wall time, CPU time (user + sys of the child) and peak RSS. Every
contender gets the same repetitions; the report gives medians with ranges and, per
repetition, the ratio of each contender to ``wk profile`` from the same repetition
(paired: a busy moment on a shared machine slows both sides of a ratio).

Contenders: ``wk profile --full-refresh`` (CLI), the same statistics as one pass of
hand-written DuckDB SQL (``handwritten.py``, Parquet only), DuckDB's own one-pass
aggregate over a CSV file (``--csv``), pandas ``describe()`` + ``isna().mean()`` per
partition; with ``--peers``, pandas computing watchkeeper's own statistics
(``peers.py pandas-same``) and, when ``make bench-peers`` built their venv, whylogs
and Evidently (``peers.py``: same daily partitions, imports included here); and
start-up: ``wk --version`` and ``wk --help`` beside ``python -c "import duckdb"`` and
``python -c "import duckdb, pyarrow"``. The machine's load average is printed before
and after (the machine may be shared).

    python benchmarks/processes.py --rows 1000000 --repeat 5          # shape B, Parquet
    python benchmarks/processes.py --rows 1000000 --repeat 5 --csv    # and CSV
    python benchmarks/processes.py --rows 1000000 --repeat 3 --peers  # and whylogs, ...
    python benchmarks/processes.py --rows 5000000 --big               # 5M/10M: --big only
    python benchmarks/processes.py --startup --repeat 10               # start-up only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import shapes  # noqa: E402
from measure import PEERS_PYTHON  # noqa: E402

PYTHON = sys.executable
WK = str(Path(PYTHON).with_name("wk"))

_PANDAS = """
import sys, pandas as pd
f = pd.read_parquet(sys.argv[1]) if sys.argv[1].endswith('.parquet') else pd.read_csv(sys.argv[1], parse_dates=['ts'])
for _, part in f.groupby(f['ts'].dt.floor('D')):
    part.describe(); part.isna().mean()
"""

_HANDWRITTEN = """
import sys; sys.path.insert(0, sys.argv[2])
import handwritten
handwritten.run(sys.argv[1], 'ts', 'case')
"""

_DUCKDB_CSV = """
import sys, duckdb
cols = [r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_csv('{sys.argv[1]}')").fetchall()]
aggs = ", ".join(f'count("{c}"), min("{c}"), max("{c}")' for c in cols if c != 'ts')
duckdb.sql(f"SELECT date_trunc('day', ts), {aggs} FROM read_csv('{sys.argv[1]}') GROUP BY 1").fetchall()
"""


def _run(argv: list[str], cwd: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=3600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} failed: {proc.stderr.strip()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "rss_mib": int(proc.stderr.strip().splitlines()[-1]) / 1024}


STARTUP = {
    "wk --version": [WK, "--version"],
    "wk --help": [WK, "--help"],
    "import duckdb": [PYTHON, "-c", "import duckdb"],
    "import duckdb, pyarrow": [PYTHON, "-c", "import duckdb, pyarrow"],
}


def peers(path: str) -> dict[str, list[str]]:
    """pandas computing our statistics; whylogs and Evidently where their venv exists."""
    script = str(HERE / "peers.py")
    out = {"pandas, same statistics": [PYTHON, script, "pandas-same", path, "ts"]}
    if (HERE / ".venv-peers" / ".done").is_file():  # written by make bench-peers
        out.update({tool: [str(PEERS_PYTHON), script, tool, path, "ts"]
                    for tool in ("whylogs", "evidently")})
    else:
        print(f"no {PEERS_PYTHON.parent.parent} (make bench-peers): whylogs and Evidently "
              "left out",
              file=sys.stderr)
    return out


def contenders(path: str, csv: str | None) -> dict[str, list[str]]:
    out = {
        "wk profile": [WK, "profile", path, "--partition-column", "ts", "--full-refresh",
                       "-f", "json"],
        "one-pass SQL": [PYTHON, "-c", _HANDWRITTEN, path, str(HERE)],
        "pandas describe": [PYTHON, "-c", _PANDAS, path],
        **STARTUP,
    }
    if csv:
        out["wk profile (CSV)"] = [WK, "profile", csv, "--partition-column", "ts",
                                   "--full-refresh", "-f", "json"]
        out["DuckDB over CSV"] = [PYTHON, "-c", _DUCKDB_CSV, csv]
    return out


def measure(runs: dict[str, list[str]], repeat: int) -> dict:
    names = list(runs)
    found: dict[str, list[dict]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as cwd:  # a store of its own, removed afterwards
        for r in range(repeat):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                found[name].append(_run(runs[name], cwd))
                print(f"  rep {r + 1} {name}: {found[name][-1]}", file=sys.stderr, flush=True)
    return found


def _summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(found: dict[str, list[dict]], base: str = "wk profile") -> str:
    lines = [f"| contender | wall s | CPU s | peak RSS MiB | paired CPU ratio to {base} |",
             "|---|---|---|---|---|"]
    ours = found[base]
    for name, runs in found.items():
        ratios = [run["cpu"] / mine["cpu"] for run, mine in zip(runs, ours)]
        lines.append(f"| {name} | {_summary([x['wall'] for x in runs])} | "
                     f"{_summary([x['cpu'] for x in runs])} | "
                     f"{_summary([x['rss_mib'] for x in runs])} | {_summary(ratios)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--csv", action="store_true", help="also time the CSV copy")
    parser.add_argument("--big", action="store_true", help="allow more than 1M rows")
    parser.add_argument("--peers", action="store_true",
                        help="also pandas with our statistics, whylogs and Evidently")
    parser.add_argument("--startup", action="store_true",
                        help="time only start-up (wk --version, wk --help, imports)")
    args = parser.parse_args()
    if args.startup:
        before = os.getloadavg()
        found = measure(STARTUP, args.repeat)
        print(report(found, base="import duckdb, pyarrow"))
        print(f"\nload average (1, 5, 15 min): before {_load(before)}, "
              f"after {_load(os.getloadavg())}")
        shapes.DATA_DIR.mkdir(parents=True, exist_ok=True)
        out = shapes.DATA_DIR / "processes-startup.json"
        out.write_text(json.dumps({"load": os.getloadavg(), "runs": found}))
        return
    if args.rows > 1_000_000 and not args.big:
        parser.error("more than 1,000,000 rows needs --big (the machine may be shared)")
    path = shapes.ensure(shapes.DATA_DIR / f"shape-b-{args.rows}.parquet", rows=args.rows)
    csv = (shapes.ensure(shapes.DATA_DIR / f"shape-b-{args.rows}.csv", rows=args.rows)
           if args.csv else None)
    runs = contenders(str(path), str(csv) if csv else None)
    if args.peers:
        runs.update(peers(str(path)))
    before = os.getloadavg()
    found = measure(runs, args.repeat)
    after = os.getloadavg()
    print(report(found))
    print(f"\nload average (1, 5, 15 min): before {_load(before)}, after {_load(after)}")
    out = shapes.DATA_DIR / f"processes-{args.rows}.json"
    out.write_text(json.dumps({"rows": args.rows, "load": [before, after], "runs": found}))


def _load(values) -> str:
    return " ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    main()
