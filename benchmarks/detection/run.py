"""The detection benchmark: faults at a realistic prevalence, design set and lockbox.

    .venv/bin/python benchmarks/detection/run.py [--quick] [--tables a,b] [--seeds 1,2]
        [--methods watchkeeper,avh] [--format json] [--no-speed]

Per table and seed, 10% of the judged partitions get one injected fault each and every
method backtests the one replayed series in time order (``protocol.py`` has the protocol,
``LOCKBOX.md`` the design/lockbox split). Also a clean-only run per table: the realized
false-alarm rate per partition against the method's configured budget. Counts are pooled
over seeds (summed); the JSON written to ``benchmarks/.data/`` also holds every seed's.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import protocol  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from rich.table import Table as RichTable  # noqa: E402

from watchkeeper.datasets import FAULTS, LOCKBOX_FAULTS, names  # noqa: E402

OUT = HERE.parent / ".data"
QUICK_TABLES = ("pizzaplace", "covid_testing", "small_partitions", "elecdemand")
ALL_TABLES = (*protocol.DESIGN_REAL, *protocol.DESIGN_SYNTHETIC, *protocol.LOCKBOX)
KEYS = ("precision", "recall", "f1", "fa_per_30", "top3")
WORSE_IS_HIGHER = {"fa_per_30"}
FAULT_METHODS = ("watchkeeper", "avh", "gate")  # printed by fault type
DESIGN_ALL = "design (all)"  # real and synthetic design tables together


def run_table(name: str, seeds: list[int], methods: dict, notes: dict, dataset=None,
              prevalence: float = protocol.PREVALENCE) -> dict:
    """Every method on one table: per-seed counts, pooled metrics, the clean-only run."""
    started = time.perf_counter()
    table = protocol.prepare(name, dataset)
    out = {"group": protocol.group_of(name), "grain": table.grain,
           "partitions": len(table.parts), "judged": len(table.judged),
           "median_rows": float(statistics.median(len(r) for r in table.rows.values())),
           "seeds": {}, "pooled": {}, "clean_run": {}, "seconds": {}}
    replays = {s: protocol.replay(table, s, prevalence) for s in seeds}
    for s, r in replays.items():
        out["seeds"][s] = {"faults": [{"partition": str(i.partition), "fault": i.fault,
                                       "columns": list(i.columns)} for i in r.faults.values()],
                           "methods": {}}
    for method, run in methods.items():
        if method in notes:
            continue
        began = time.perf_counter()
        try:
            clean = protocol.clean_rate(run(protocol.clean(table)), table)
            pooled = None
            for s, r in replays.items():
                counts = protocol.score(run(r), r)
                out["seeds"][s]["methods"][method] = counts
                pooled = counts if pooled is None else protocol.add(pooled, counts)
        except protocol.GateUnavailable as why:
            notes[method] = str(why)
            continue
        budget = protocol.BUDGETS.get(method, lambda: None)()
        rate = protocol.budget_rate(budget)
        clean.update(budget=budget if budget is None or isinstance(budget, str)
                     else float(budget), budget_rate=rate,
                     ratio=clean["rate"] / rate if rate else None)
        out["clean_run"][method] = clean
        out["pooled"][method] = {"counts": pooled, "metrics": protocol.metrics(pooled["main"])}
        out["seconds"][method] = time.perf_counter() - began
    out["seconds"]["total"] = time.perf_counter() - started
    return out


def summarize(results: dict, methods: list[str]) -> dict:
    """Worst table and median over tables per group and method, and the lockbox gap."""
    summary = {}
    for group in (*protocol.GROUPS, DESIGN_ALL):
        tables = [t for t in results.values() if t["group"] == group
                  or (group == DESIGN_ALL and t["group"].startswith("design"))]
        if not tables:
            continue
        summary[group] = {}
        for m in methods:
            rows = [t["pooled"][m]["metrics"] for t in tables if m in t["pooled"]]
            if not rows:
                continue
            med, worst = {}, {}
            for k in KEYS:
                values = [r[k] for r in rows if not math.isnan(r[k])]
                med[k] = statistics.median(values) if values else math.nan
                pick = max if k in WORSE_IS_HIGHER else min
                worst[k] = pick(values) if values else math.nan
            summary[group][m] = {"median": med, "worst": worst, "tables": len(rows)}
    gap = {}
    if "lockbox" in summary and "design (real)" in summary:
        for m, s in summary["lockbox"].items():
            d = summary["design (real)"].get(m)
            if d:
                gap[m] = {k: s["median"][k] - d["median"][k] for k in KEYS}
    return {"groups": summary, "gap_lockbox_minus_design_real": gap}


def by_fault(results: dict, methods: list[str]) -> dict:
    """Recall (detected, injected, top-3 hits) per fault type, pooled per group."""
    out = {}
    for t in results.values():
        for m in methods:
            if m not in t["pooled"]:
                continue
            counts = t["pooled"][m]["counts"]
            rows = {**counts["main"]["by_fault"], **counts["lockbox_faults"]}
            dest = out.setdefault(t["group"], {}).setdefault(m, {})
            for f, v in rows.items():
                dest[f] = [a + b for a, b in zip(dest.get(f, [0, 0, 0]), v)]
    return out


def fmt(x, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}"


def print_report(report: dict, console: Console) -> None:
    results, methods = report["tables"], report["config"]["methods"]
    for group in protocol.GROUPS:
        tables = {n: t for n, t in results.items() if t["group"] == group}
        if not tables:
            continue
        main = "watchkeeper" if "watchkeeper" in methods else methods[0]
        rt = RichTable(title=f"{group}: {main} (seeds {report['config']['seeds']} pooled; "
                             "alerts = warning or worse)")
        for h in ("table", "grain", "parts", "rows/part", "faulty", "precision", "recall",
                  "F1", "FA/30", "top-3", "clean FA rate", "budget"):
            rt.add_column(h, justify="right" if h != "table" else "left")
        for n, t in tables.items():
            if main not in t["pooled"]:
                continue
            m, c = t["pooled"][main]["metrics"], t["clean_run"][main]
            rt.add_row(n, t["grain"], str(t["partitions"]), f"{t['median_rows']:.0f}",
                       str(m["faulty"]), *(fmt(m[k]) for k in KEYS), fmt(c["rate"], 3),
                       fmt(c["budget_rate"], 3))
        _summary_rows(rt, report["summary"]["groups"].get(group, {}).get(main), 5, 5)
        console.print(rt)
        ft = RichTable(title=f"{group}: F1 of every method (false alarms per 30 clean)")
        ft.add_column("table")
        shown = [m for m in methods if any(m in t["pooled"] for t in tables.values())]
        for m in shown:
            ft.add_column(m, justify="right")
        for n, t in tables.items():
            ft.add_row(n, *(f"{fmt(t['pooled'][m]['metrics']['f1'])} "
                            f"({fmt(t['pooled'][m]['metrics']['fa_per_30'], 1)})"
                            if m in t["pooled"] else "-" for m in shown))
        groups = report["summary"]["groups"].get(group, {})
        for label in ("median", "worst"):
            ft.add_row(f"[bold]{label}", *(
                f"{fmt(groups[m][label]['f1'])} ({fmt(groups[m][label]['fa_per_30'], 1)})"
                if m in groups else "-" for m in shown))
        console.print(ft)
    methods = [m for m in methods if m not in report["notes"]]
    st = RichTable(title="Median (worst) table per group: F1, false alarms per 30 clean")
    st.add_column("group")
    for m in methods:
        st.add_column(m, justify="right")
    for group, by_method in report["summary"]["groups"].items():
        st.add_row(group, *(
            f"{fmt(by_method[m]['median']['f1'])} ({fmt(by_method[m]['worst']['f1'])}), "
            f"{fmt(by_method[m]['median']['fa_per_30'], 1)} "
            f"({fmt(by_method[m]['worst']['fa_per_30'], 1)})" if m in by_method else "-"
            for m in methods))
    console.print(st)
    gap = report["summary"]["gap_lockbox_minus_design_real"]
    if gap:
        gt = RichTable(title="Lockbox gap: median over lockbox tables minus median over "
                             "design (real) tables")
        gt.add_column("method")
        for k in KEYS:
            gt.add_column(k, justify="right")
        for m, g in gap.items():
            gt.add_row(m, *(f"{g[k]:+.2f}" if not math.isnan(g[k]) else "n/a" for k in KEYS))
        console.print(gt)
    _print_faults(report, console)
    for m, why in report["notes"].items():
        console.print(f"[yellow]note[/]: {m} skipped: {why}")


def _summary_rows(rt: RichTable, s: dict | None, lead: int, tail: int) -> None:
    if not s:
        return
    for label in ("median", "worst"):
        rt.add_row(f"[bold]{label}", *[""] * (lead - 1), *(fmt(s[label][k]) for k in KEYS),
                   *[""] * (tail - 3))


def _print_faults(report: dict, console: Console) -> None:
    faults = report["by_fault"]
    methods = [m for m in report["config"]["methods"] if m in FAULT_METHODS]
    ft = RichTable(title="Recall by fault type (detected/injected), pooled over tables and "
                         "seeds; lockbox fault types last (every method: the JSON)")
    ft.add_column("fault")
    cols = [(g, m) for g in faults for m in methods if m in faults[g]]
    for g, m in cols:
        ft.add_column(f"{m}\n{g.replace('design ', '')}", justify="right")
    for f in [*[f for f in FAULTS if f not in LOCKBOX_FAULTS], *LOCKBOX_FAULTS]:
        cells = []
        for g, m in cols:
            v = faults[g][m].get(f)
            cells.append(f"{v[0]}/{v[1]}" if v else "-")
        ft.add_row(f"{f} (lockbox)" if f in LOCKBOX_FAULTS else f, *cells)
    console.print(ft)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=HERE).stdout.strip()
    except OSError:
        return "unknown"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: {', '.join(QUICK_TABLES)}, seed 1, no speed test")
    parser.add_argument("--tables", default=None, help="comma-separated tables (default: all "
                        "design and lockbox tables)")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default 1,2)")
    parser.add_argument("--methods", default=",".join(protocol.METHODS),
                        help="comma-separated subset of " + ", ".join(protocol.METHODS))
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--out", default=None, help="JSON results path (default "
                        "benchmarks/.data/detection-<time>.json)")
    args = parser.parse_args(argv)
    tables = (args.tables.split(",") if args.tables else
              list(QUICK_TABLES if args.quick else ALL_TABLES))
    known = names()
    if any(t not in known for t in tables):
        parser.error(f"unknown table(s) {', '.join(t for t in tables if t not in known)}: "
                     f"use {', '.join(known)}")
    try:
        seeds = [int(s) for s in (args.seeds or ("1" if args.quick else "1,2")).split(",")]
    except ValueError:
        parser.error(f"--seeds takes comma-separated integers, not {args.seeds!r}")
    wanted = args.methods.split(",")
    unknown = [m for m in wanted if m not in protocol.METHODS]
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}: use "
                     f"{', '.join(protocol.METHODS)}")
    methods = {m: protocol.METHODS[m] for m in wanted}
    wide = None if sys.stdout.isatty() else 180  # Rich's 80 columns truncate when piped
    console = Console(stderr=args.format == "json", width=wide)
    notes, results = {}, {}
    started = time.perf_counter()
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("detection benchmark", total=len(tables))
        for name in tables:
            progress.update(task, description=f"{name}")
            results[name] = run_table(name, seeds, methods, notes)
            progress.advance(task)
    report = {"config": {"tables": tables, "seeds": seeds, "methods": wanted,
                         "prevalence": protocol.PREVALENCE, "warmup": protocol.WARMUP,
                         "commit": _commit(), "pooled": "counts summed over seeds",
                         "seconds": time.perf_counter() - started},
              "tables": results, "notes": notes}
    report["summary"] = summarize(results, wanted)
    report["by_fault"] = by_fault(results, wanted)
    if not (args.quick or args.no_speed):
        import speed

        report["speed"] = speed.main(quiet=args.format == "json")
    OUT.mkdir(parents=True, exist_ok=True)
    path = Path(args.out) if args.out else OUT / f"detection-{time.strftime('%Y%m%d-%H%M%S')}.json"
    report = _plain(report)
    path.write_text(json.dumps(report, indent=1))
    if args.format == "json":
        print(json.dumps(report))
    else:
        print_report(report, console)
        console.print(f"raw results: {path} ({report['config']['seconds']:.0f} s)")
    return report


def _plain(x):
    """JSON-ready: NaN becomes null, numpy scalars Python numbers, keys strings."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if hasattr(x, "item"):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)


if __name__ == "__main__":
    main()
