"""The detection benchmark (issue 4): one command, one table per dataset and method.

    .venv/bin/python benchmarks/detection/run.py [--quick] [--datasets a,b] [--no-gate]

Protocol (docs/benchmarks.md, "Detection (issue 4)"):
1. profile the clean dataset through ``watchkeeper.profile``;
2. backtest every method on the clean history: warnings or worse there are false
   alarms (reported per 30 judged partitions, after a common warm-up);
3. for each fault type, corrupt the raw rows of random partitions after the warm-up,
   re-profile them, and judge each against the clean history before it. Each faulty
   partition is paired with the same partition uncorrupted: precision, recall and F1
   count alerts on both;
4. "top 3": of the detected faults, how often a faulty column is among the first 3
   columns the method blames (``*`` for table-level faults).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baselines  # noqa: E402

import watchkeeper as wk  # noqa: E402
from watchkeeper.datasets import FAULTS, inject, load  # noqa: E402
from watchkeeper.detect import OnlineNormalDetector, RobustDetector, Severity  # noqa: E402

GATE_PYTHON = HERE / ".venv-gate" / "bin" / "python"
DEFAULT_DATASETS = ("pizzaplace", "mpls_stops", "birthdays", "seattle_pets", "synthetic")
WARMUP = {"day": 60, "week": 40, "hour": 72}
METHODS = ("watchkeeper", "gate", "tfdv", "ks_chi2", "deequ_online_normal", "coverage_drop")


@dataclass
class Case:
    id: int
    fault: str
    partition: pd.Timestamp
    columns: tuple[str, ...]
    rows: pd.DataFrame
    stats: pd.DataFrame | None = None
    tops: pd.DataFrame | None = None


@dataclass
class Tally:
    clean_alerts: int = 0
    clean_judged: int = 0
    tp: int = 0
    fn: int = 0
    fp: int = 0
    top3_hits: int = 0
    seconds: list = field(default_factory=list)
    by_fault: dict = field(default_factory=dict)

    def add_case(self, fault: str, alert: bool, top: list[str], truth: tuple[str, ...]) -> None:
        hit = self.by_fault.setdefault(fault, [0, 0])
        hit[1] += 1
        if alert:
            self.tp += 1
            hit[0] += 1
            self.top3_hits += any(c in truth for c in top[:3])
        else:
            self.fn += 1

    def row(self) -> dict:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": p, "recall": r, "f1": f1,
                "fa_per_30": 30 * self.clean_alerts / max(1, self.clean_judged),
                "top3": self.top3_hits / self.tp if self.tp else float("nan"),
                "ms": 1000 * float(np.mean(self.seconds)) if self.seconds else float("nan")}


def partition_of(values: pd.Series, grain: str) -> pd.Series:
    ts = pd.to_datetime(values)
    if grain == "hour":
        return ts.dt.floor("h")
    day = ts.dt.normalize()
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D") if grain == "week" else day


def make_cases(ds, parts: list[pd.Timestamp], key: pd.Series, per_fault: int,
               rng: np.random.Generator) -> list[Case]:
    cases, groups = [], ds.frame.groupby(key)
    for fault in FAULTS:
        chosen = rng.choice(len(parts), size=min(per_fault, len(parts)), replace=False)
        for i in chosen:
            rows = groups.get_group(parts[i])
            try:
                bad, cols = inject(rows, fault, rng, exclude=(ds.partition_column,))
            except wk.UserError:
                # No column this fault can hit in this partition (e.g. no category of >= 5%
                # of rows to merge): skipped, so a table without one gets no such cases.
                continue
            cases.append(Case(len(cases), fault, parts[i], cols, bad))
    return cases


def profile_cases(ds, cases: list[Case]) -> None:
    """Re-profile corrupted partitions, several per call (partitions distinct within a batch)."""
    pending = list(cases)
    while pending:
        batch, seen = [], set()
        for c in pending:
            if c.partition not in seen:
                batch.append(c)
                seen.add(c.partition)
        pending = [c for c in pending if c not in batch]
        frame = pd.concat([c.rows for c in batch], ignore_index=True)
        result = wk.profile(frame, partition_column=ds.partition_column,
                            granularity=ds.granularity)
        stats, tops = result.statistics, result.top_values
        by_part = dict(tuple(stats.groupby("partition")))
        tops_by_part = dict(tuple(tops.groupby("partition"))) if len(tops) else {}
        for c in batch:
            c.stats = by_part.get(c.partition, stats.iloc[:0])
            c.tops = tops_by_part.get(c.partition, tops.iloc[:0])


def run_detector(make, clean: pd.DataFrame, judged: set, cases: list[Case], tally: Tally,
                 tops: pd.DataFrame | None = None) -> None:
    """``tops`` (clean top values) go to detectors that take them: the live path passes
    the stored top values too (alerts/check.py)."""
    with_tops = {} if tops is None else {"top_values": tops}
    clean_verdict = {v.partition: v for v in make().backtest(clean, **with_tops)}
    for p, v in clean_verdict.items():
        if p in judged:
            tally.clean_judged += 1
            tally.clean_alerts += v.severity >= Severity.WARNING
    for c in cases:
        started = time.perf_counter()
        if tops is None:
            verdict = make().fit(clean[clean["partition"] < c.partition]).judge(c.stats)[0]
        else:
            verdict = make().fit(clean[clean["partition"] < c.partition],
                                 top_values=tops[tops["partition"] < c.partition]
                                 ).judge(c.stats, top_values=c.tops)[0]
        tally.seconds.append(time.perf_counter() - started)
        tally.add_case(c.fault, verdict.severity >= Severity.WARNING,
                       [e.column for e in verdict.columns], c.columns)
        tally.fp += clean_verdict[c.partition].severity >= Severity.WARNING


def run_raw(rule, ds, key: pd.Series, parts, judged: set, cases: list[Case], tally: Tally) -> None:
    columns = [c for c in ds.frame.columns if c != ds.partition_column]
    groups = ds.frame.groupby(key)
    previous = {p: parts[i - 1] for i, p in enumerate(parts) if i}
    alert_clean = {}
    for p in parts:
        if p in judged or any(c.partition == p for c in cases):
            alert_clean[p] = bool(rule(groups.get_group(p), groups.get_group(previous[p]), columns))
    for p in judged:
        tally.clean_judged += 1
        tally.clean_alerts += alert_clean[p]
    for c in cases:
        started = time.perf_counter()
        hits = rule(c.rows, groups.get_group(previous[c.partition]), columns)
        tally.seconds.append(time.perf_counter() - started)
        tally.add_case(c.fault, bool(hits), [h[0] for h in hits], c.columns)
        tally.fp += alert_clean[c.partition]


def run_coverage(clean: pd.DataFrame, parts, judged: set, cases: list[Case], tally: Tally) -> None:
    by_part = dict(tuple(clean.groupby("partition")))
    previous = {p: parts[i - 1] for i, p in enumerate(parts) if i}
    for p in judged:
        tally.clean_judged += 1
        tally.clean_alerts += bool(baselines.coverage_drop(by_part[p], by_part[previous[p]]))
    for c in cases:
        started = time.perf_counter()
        hits = baselines.coverage_drop(c.stats, by_part[previous[c.partition]])
        tally.seconds.append(time.perf_counter() - started)
        tally.add_case(c.fault, bool(hits), [h[0] for h in hits], c.columns)
        tally.fp += bool(baselines.coverage_drop(by_part[c.partition],
                                                 by_part[previous[c.partition]]))


def _gate_frame(frame: pd.DataFrame, partition_column: str) -> pd.DataFrame:
    out = frame.drop(columns=[partition_column]).copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = (s.astype("int64") // 10**6).astype("Int64")  # GATE takes int/float/string
        elif pd.api.types.is_string_dtype(s) or s.dtype == object:
            out[c] = s.astype(object).where(s.notna(), None)
    return out


def run_gate(ds, key: pd.Series, parts, judged: set, cases: list[Case], tally: Tally) -> str:
    if not GATE_PYTHON.exists():
        return "GATE venv missing (benchmarks/detection/.venv-gate): see docs/benchmarks.md"
    index = {p: i for i, p in enumerate(parts)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clean = _gate_frame(ds.frame, ds.partition_column).assign(__pidx=key.map(index).to_numpy())
        clean.to_parquet(tmp / "clean.parquet", index=False)
        rows = [_gate_frame(c.rows, ds.partition_column).assign(__case=c.id, __pidx=index[c.partition])
                for c in cases]
        pd.concat(rows, ignore_index=True).to_parquet(tmp / "cases.parquet", index=False)
        wanted = sorted({index[p] for p in judged} | {index[c.partition] for c in cases})
        (tmp / "meta.json").write_text(json.dumps({"columns": [c for c in clean.columns
                                                               if c != "__pidx"],
                                                   "judge": wanted}))
        done = subprocess.run([str(GATE_PYTHON), str(HERE / "gate_worker.py"), str(tmp)],
                              capture_output=True, text=True)
        if done.returncode:
            return "GATE failed: " + done.stderr.strip().splitlines()[-1]
        results = [json.loads(line) for line in (tmp / "results.jsonl").read_text().splitlines()]
    clean_alert = {r["pidx"]: r["alert"] for r in results if r["kind"] == "clean"}
    for p in judged:
        tally.clean_judged += 1
        tally.clean_alerts += clean_alert.get(index[p], False)
    by_case = {r["case"]: r for r in results if r["kind"] == "case"}
    for c in cases:
        r = by_case[c.id]
        tally.seconds.append(r["seconds"])
        tally.add_case(c.fault, r["alert"], r["top"], c.columns)
        tally.fp += clean_alert.get(index[c.partition], False)
    return ""


def benchmark(name: str, per_fault: int, seed: int, use_gate: bool,
              methods: tuple[str, ...] = METHODS) -> tuple[dict, str]:
    ds = load(name)
    key = partition_of(ds.frame[ds.partition_column], ds.granularity)
    profiled = wk.profile(ds.frame, partition_column=ds.partition_column,
                          granularity=ds.granularity)
    clean, clean_tops = profiled.statistics, profiled.top_values
    clean["partition"] = pd.to_datetime(clean["partition"])
    clean_tops["partition"] = pd.to_datetime(clean_tops["partition"])
    parts = sorted(key.unique())
    judged_parts = parts[WARMUP[ds.granularity]:]
    judged = set(judged_parts)
    rng = np.random.default_rng(seed)
    cases = make_cases(ds, judged_parts, key, per_fault, rng)
    profile_cases(ds, cases)
    tallies = {m: Tally() for m in METHODS if m in methods}
    runs = {
        "watchkeeper": lambda t: run_detector(RobustDetector, clean, judged, cases, t, clean_tops),
        "deequ_online_normal": lambda t: run_detector(OnlineNormalDetector, clean, judged,
                                                      cases, t),
        "tfdv": lambda t: run_raw(baselines.tfdv, ds, key, parts, judged, cases, t),
        "ks_chi2": lambda t: run_raw(baselines.ks_chi2, ds, key, parts, judged, cases, t),
        "coverage_drop": lambda t: run_coverage(clean, parts, judged, cases, t),
    }
    note = ""
    for method, tally in tallies.items():
        if method == "gate":
            note = run_gate(ds, key, parts, judged, cases, tally) if use_gate else "skipped"
        else:
            runs[method](tally)
    if note or "gate" not in methods:
        tallies.pop("gate", None)
    info = f"{ds.name}: {len(parts)} partitions ({ds.granularity}), {len(judged)} judged clean, " \
           f"{len(cases)} faulty cases over {len({c.fault for c in cases})} fault types"
    return {"info": info, "note": note, "tallies": tallies}, info


def fmt(x: float, digits: int = 2) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}"


def print_tables(results: dict, markdown: bool) -> None:
    head = ("method", "precision", "recall", "F1", "false alarms/30", "top-3", "ms/partition")
    for name, res in results.items():
        print(f"\n### {res['info']}" if markdown else f"\n== {res['info']}")
        if res["note"]:
            print(f"note: {res['note']}")
        rows = [(m, *(fmt(t.row()[k]) for k in ("precision", "recall", "f1", "fa_per_30", "top3")),
                 fmt(t.row()["ms"], 1)) for m, t in res["tallies"].items()]
        if markdown:
            print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
            for r in rows:
                print("| " + " | ".join(r) + " |")
        else:
            print("".join(f"{h:>17}" for h in head))
            for r in rows:
                print("".join(f"{v:>17}" for v in r))
    print("\nRecall per fault type (watchkeeper / gate):" if not markdown else
          "\n### Recall per fault type (watchkeeper / GATE)")
    faults = list(FAULTS)
    if markdown:
        print("| dataset | " + " | ".join(faults) + " |\n|" + "---|" * (len(faults) + 1))
    for name, res in results.items():
        cells = []
        for f in faults:
            parts = []
            for m in ("watchkeeper", "gate"):
                t = res["tallies"].get(m)
                hit = t.by_fault.get(f) if t else None
                parts.append(f"{hit[0]}/{hit[1]}" if hit else "-")
            cells.append(" / ".join(parts))
        print(("| " + name + " | " + " | ".join(cells) + " |") if markdown
              else f"{name:>14}: " + ", ".join(f"{f}={c}" for f, c in zip(faults, cells)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 faulty partitions per fault type")
    parser.add_argument("--per-fault", type=int, default=10)
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS))
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--no-gate", action="store_true")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated subset of " + ", ".join(METHODS))
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--no-speed", action="store_true")
    args = parser.parse_args(argv)
    per_fault = 3 if args.quick else args.per_fault
    results = {}
    for name in args.datasets.split(","):
        started = time.perf_counter()
        results[name], info = benchmark(name, per_fault, args.seed, not args.no_gate,
                                        tuple(args.methods.split(",")))
        print(f"{info} [{time.perf_counter() - started:.0f}s]", file=sys.stderr)
    print_tables(results, args.markdown)
    if not args.no_speed:
        import speed

        speed.main(markdown=args.markdown)


if __name__ == "__main__":
    main()
