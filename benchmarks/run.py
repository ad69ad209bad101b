"""Every partition-summary benchmark in one run, with the ratios against their targets.

    make bench                        # = .venv/bin/python benchmarks/run.py
    .venv/bin/python benchmarks/run.py --quick     # small sizes, about a minute

The full run takes about 10 minutes on 2 cores (Evidently alone takes several).
whylogs and Evidently need ``make bench-peers`` first; without it they are
reported as missing. Results go to stdout as a Markdown table and to
``benchmarks/.data/results-{full,quick}.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import profile_speed  # noqa: E402
import refresh  # noqa: E402
import synthetic  # noqa: E402
from measure import HERE, run_json  # noqa: E402

SIZES = {
    "full": {"rows": 2_010_000, "days": 30, "refresh_rows_per_day": 10_000,
             "spark_rows": 210_000, "repeat": 3, "refresh_rounds": 7},
    "quick": {"rows": 60_000, "days": 30, "refresh_rows_per_day": 300,
              "spark_rows": 30_000, "repeat": 1, "refresh_rounds": 3},
}


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def measure(size: str, *, peers: tuple[str, ...], spark: bool) -> dict:
    cfg = SIZES[size]
    path = synthetic.DATA_DIR / f"events-{cfg['rows']}x{cfg['days']}.parquet"
    _log(f"data: {path.name} (generated once, not timed)")
    synthetic.ensure(path, rows=cfg["rows"], days=cfg["days"])
    out = {"size": size, "machine": _machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
           "load_before": _load()}
    out["speed"] = profile_speed.run(str(path), repeat=cfg["repeat"], peers=peers, progress=_log)
    out["refresh"] = refresh.run(cfg["refresh_rows_per_day"], repeat=cfg["refresh_rounds"],
                                 progress=_log)
    if spark:
        small = synthetic.DATA_DIR / f"events-{cfg['spark_rows']}x{cfg['days']}.parquet"
        synthetic.ensure(small, rows=cfg["spark_rows"], days=cfg["days"])
        _log("Spark local mode (subprocess)")
        try:
            out["spark"] = run_json([sys.executable, str(HERE / "spark_bench.py"), str(small)])
        except Exception as exc:
            out["spark"] = {"error": str(exc)}
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    out["load_after"] = _load()
    return out


def _load() -> str:
    import os

    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _machine() -> str:
    import os

    mem = Path("/proc/meminfo").read_text().split()[1] if Path("/proc/meminfo").exists() else "?"
    gib = f"{int(mem) / 2**20:.0f} GiB" if mem.isdigit() else "?"
    return f"{os.cpu_count()} cores, {gib}, {platform.system()} {platform.machine()}, " \
           f"Python {platform.python_version()}"


def _row(name, seconds, ratio, target, met, note=""):
    return (name, seconds, ratio, target, met, note)


def _x(a: dict, b: dict) -> str:
    """``a / b`` in wall time, with the CPU-time ratio (less sensitive to load) beside it."""
    return f"{a['wall_s'] / b['wall_s']:.2f}x (cpu {a['cpu_s'] / b['cpu_s']:.2f}x)"


def _fmt_t(t: dict | None) -> str:
    return "-" if not t or "wall_s" not in t else f"{t['wall_s']:.2f} s ({t['cpu_s']:.2f} cpu)"


def table(res: dict) -> list[tuple]:
    s, wk = res["speed"], res["speed"]["watchkeeper"]["wall_s"]
    rows = [_row("watchkeeper.profile, no store", _fmt_t(s["watchkeeper"]), "1.00", "", "")]
    for key, label in (("watchkeeper_store", "watchkeeper.profile, with store"),):
        rows.append(_row(label, _fmt_t(s[key]), _x(s[key], s["watchkeeper"]), "", ""))
    for form in ("case", "filter"):
        sql = s[f"sql_{form}"]["wall_s"]
        for key, label in (("watchkeeper", "no store"), ("watchkeeper_store", "with store")):
            ratio = s[key]["wall_s"] / sql
            rows.append(_row(f"hand-written SQL ({form} form) vs watchkeeper {label}",
                             _fmt_t(s[f"sql_{form}"]), "wk " + _x(s[key], s[f"sql_{form}"]),
                             "<= 1.3x",
                             _met(ratio <= 1.3)))
    for tool, target, test in (("whylogs", ">= 10x", lambda r: r >= 10),
                               ("evidently", ">= 10x", lambda r: r >= 10),
                               ("pandas", "> 1x", lambda r: r > 1)):
        peer = s.get(tool)
        if peer is None:
            continue
        if "error" in peer:
            rows.append(_row(tool, "-", "-", target, "not run", peer["error"][:120]))
            continue
        ratio = peer["wall_s"] / wk
        rows.append(_row(tool, _fmt_t(peer), _x(peer, s["watchkeeper"]) + " slower", target,
                         _met(test(ratio))))
    if "pandas_same" in s:  # for scale: no target
        rows.append(_row("pandas computing the same statistics", _fmt_t(s["pandas_same"]),
                         _x(s["pandas_same"], s["watchkeeper"]) + " slower", "(no target)", ""))
    rows.append(_row("raw columnar pass (Arrow + numpy)", _fmt_t(s["raw_pass"]),
                     "wk " + _x(s["watchkeeper"], s["raw_pass"]), "(distance to the limit)",
                     ""))
    mem, arrow = s["memory"], s["arrow_nbytes"]
    rows.append(_row("peak RSS of a profile process", f"{mem['profile_rss'] / 2**20:.0f} MiB",
                     f"{mem['profile_rss'] / arrow:.2f}x Arrow", "< 1x", 
                     _met(mem["profile_rss"] < arrow),
                     f"Arrow size {arrow / 2**20:.0f} MiB; import-only process "
                     f"{mem['baseline_rss'] / 2**20:.0f} MiB"))
    extra = mem["profile_rss"] - mem["baseline_rss"]
    rows.append(_row("memory the profile adds over imports", f"{extra / 2**20:.0f} MiB",
                     f"{extra / arrow:.2f}x Arrow", "< 1x", _met(extra < arrow)))
    r = res["refresh"]
    ratio = r["refresh"]["wall_s"] / r["one_day_alone"]["wall_s"]
    rows.append(_row(f"refresh 1 new day of {r['days'] + 1} ({r['rows_per_day']} rows/day)",
                     _fmt_t(r["refresh"]), _x(r["refresh"], r["one_day_alone"]), "<= 1.5x",
                     _met(ratio <= 1.5), f"one day alone {_fmt_t(r['one_day_alone'])}; "
                     f"first profile of {r['days']} days {_fmt_t(r['initial'])}"))
    m = r.get("memory")
    if m:
        rows.append(_row(f"peak RSS of a first profile of {m['partitions']} days at once",
                         f"{m['peak_rss'] / 2**20:.0f} MiB", f"{m['peak_rss'] / m['arrow_nbytes']:.2f}x Arrow",
                         "< 1x", _met(m["peak_rss"] < m["arrow_nbytes"]),
                         f"Arrow size {m['arrow_nbytes'] / 2**20:.0f} MiB; {_fmt_t(m)}, "
                         "in batches of partitions"))
    sp = res.get("spark")
    if sp:
        if "error" in sp:
            rows.append(_row("Spark local[2]", "-", "-", "runs", "not run", sp["error"][:120]))
        else:
            rows.append(_row("Spark local[2], same profile() path", _fmt_t(sp["spark"]),
                             f"DuckDB {_fmt_t(sp['duckdb'])}", "runs, same results",
                             _met(sp["max_relative_difference"] < 1e-9),
                             f"{sp['exact_compared']} exact statistics agree (max rel. diff "
                             f"{sp['max_relative_difference']:.1e}); session start "
                             f"{sp['session_start']['wall_s']:.0f} s not included"))
    return rows


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def markdown(res: dict) -> str:
    s = res["speed"]
    head = (f"Data: {s['rows']:,} rows x {s['columns']} columns, "
            f"{s['watchkeeper']['partitions']} daily partitions, "
            f"{s['arrow_nbytes'] / 2**20:.0f} MiB in Arrow. Machine: {res['machine']}. "
            f"Run {res['started']} - {res['finished']}, load average (1, 5, 15 min) "
            f"{res['load_before']} before, {res['load_after']} after.\n\n")
    lines = ["| measurement | time | ratio | target | | notes |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in table(res)]
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--no-peers", action="store_true", help="skip whylogs and Evidently")
    parser.add_argument("--spark", action=argparse.BooleanOptionalAction, default=None,
                        help="run the Spark benchmark (default: on in the full run)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)  # numpy/pandas on NaN and inf: expected
    size = "quick" if args.quick else "full"
    peers = () if args.no_peers else (
        ("whylogs",) if args.quick else ("whylogs", "evidently"))
    spark = (not args.quick) if args.spark is None else args.spark
    res = measure(size, peers=peers, spark=spark)
    out = synthetic.DATA_DIR / f"results-{size}.json"
    out.write_text(json.dumps(res, indent=2, default=str))
    print(markdown(res))
    _log(f"raw results: {out}")


if __name__ == "__main__":
    main()
