"""The detection benchmark's protocol: faults at a realistic prevalence in one replayed series.

Per table and seed:
1. profile the clean table through ``watchkeeper.profile`` (statistics and top values);
2. after a warm-up, pick 10% of the judged partitions (seeded) and inject one fault into
   each one's raw rows, fault types assigned round-robin over the ones eligible there;
3. re-profile those partitions and substitute their statistics and top values into the
   series: one replayed series, with its faults in time order, so faulty partitions are
   part of later history as in production without feedback;
4. backtest each method once on the replayed series; an alert is warning or worse.

Scoring (:func:`score`): precision, recall and F1 over the judged partitions, false
alarms per 30 clean judged partitions, recall by fault type, and top-3 (of the detected
faults, how often a faulty column is among the first three blamed; ``*`` for table
faults). Partitions holding a lockbox fault type are left out of the main counts and
scored in their own rows (``lockbox_faults``).

A method is a callable ``method(replay) -> {partition: Judgement}``: the benchmark's
methods are in :data:`METHODS`, a test can pass its own.
"""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

import baselines
import watchkeeper as wk
from watchkeeper.datasets import FAULTS, GENERATORS, LOCKBOX_FAULTS, inject, load
from watchkeeper.detect import OnlineNormalDetector, RobustDetector, Severity

HERE = Path(__file__).resolve().parent
GATE_PYTHON = HERE / ".venv-gate" / "bin" / "python"

DESIGN_REAL = ("pizzaplace", "pizzaplace_hourly", "mpls_stops", "birthdays", "seattle_pets",
               "movielens", "covid_testing", "surveys", "clemson_temps")
LOCKBOX = ("trump_tweets", "storms", "mn_police", "elecdemand")  # LOCKBOX.md
DESIGN_SYNTHETIC = ("synthetic", *GENERATORS)
GROUPS = {"design (real)": DESIGN_REAL, "design (synthetic)": DESIGN_SYNTHETIC,
          "lockbox": LOCKBOX}
WARMUP = {"hour": 72, "day": 60, "week": 40}
PREVALENCE = 0.10


def group_of(table: str) -> str:
    for group, tables in GROUPS.items():
        if table in tables:
            return group
    return "design (synthetic)" if table.split("-")[0] in GENERATORS else "design (real)"


@dataclass(frozen=True)
class Judgement:
    alert: bool
    blamed: tuple[str, ...] = ()


@dataclass
class Injection:
    partition: pd.Timestamp
    fault: str
    columns: tuple[str, ...]


@dataclass
class Table:
    """One table's clean material, shared by every seed and method."""

    name: str
    partition_column: str
    grain: str
    parts: list[pd.Timestamp]
    judged: list[pd.Timestamp]
    rows: dict  # partition -> raw rows
    stats: pd.DataFrame
    tops: pd.DataFrame
    previous: dict = field(init=False)  # partition -> the partition before it
    stats_by_part: dict = field(init=False)  # partition -> its statistics

    def __post_init__(self) -> None:
        self.previous = {p: self.parts[i - 1] for i, p in enumerate(self.parts) if i}
        self.stats_by_part = {p: g for p, g in self.stats.groupby("partition")}


@dataclass
class Replay:
    """One replayed series: the clean table with faults substituted into some partitions."""

    table: Table
    stats: pd.DataFrame
    tops: pd.DataFrame
    faults: dict = field(default_factory=dict)  # partition -> Injection
    bad_rows: dict = field(default_factory=dict)  # partition -> corrupted rows
    bad_stats: dict = field(default_factory=dict)  # partition -> re-profiled statistics

    def rows(self, partition) -> pd.DataFrame:
        return self.bad_rows.get(partition, self.table.rows[partition])

    def statistics(self, partition) -> pd.DataFrame:
        if partition in self.bad_stats:
            return self.bad_stats[partition]
        return self.table.stats_by_part.get(partition, self.table.stats.iloc[:0])


def partition_of(values: pd.Series, grain: str) -> pd.Series:
    ts = pd.to_datetime(values)
    if grain == "hour":
        return ts.dt.floor("h")
    day = ts.dt.normalize()
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D") if grain == "week" else day


def warmup(grain: str, partitions: int) -> int:
    """Partitions before the first judged one: the grain's warm-up, at most a third."""
    return min(WARMUP[grain], partitions // 3)


def _profile(frame: pd.DataFrame, table: str, partition_column: str, grain: str):
    result = wk.profile(frame, partition_column=partition_column, granularity=grain)
    stats, tops = result.statistics.copy(), result.top_values.copy()
    stats["partition"] = pd.to_datetime(stats["partition"]).astype("datetime64[ns]")
    tops["partition"] = pd.to_datetime(tops["partition"]).astype("datetime64[ns]")
    return stats, tops


def prepare(name: str, dataset=None) -> Table:
    """Load and profile one clean table (``dataset`` overrides :func:`load`)."""
    ds = dataset if dataset is not None else load(name)
    key = partition_of(ds.frame[ds.partition_column], ds.granularity).astype("datetime64[ns]")
    rows = {p: g.reset_index(drop=True) for p, g in ds.frame.groupby(key.to_numpy())}
    parts = sorted(rows)
    stats, tops = _profile(ds.frame, name, ds.partition_column, ds.granularity)
    return Table(name, ds.partition_column, ds.granularity, parts,
                 parts[warmup(ds.granularity, len(parts)):], rows, stats, tops)


def replay(table: Table, seed: int, prevalence: float = PREVALENCE,
           faults: tuple[str, ...] = tuple(FAULTS)) -> Replay:
    """Inject one fault into ``prevalence`` of the judged partitions and re-profile them."""
    rng = np.random.default_rng(seed)
    k = max(1, int(round(prevalence * len(table.judged))))
    chosen = [table.judged[i] for i in rng.choice(len(table.judged), size=k, replace=False)]
    order = list(faults)
    start = int(rng.integers(len(order)))
    order = order[start:] + order[:start]
    cursor, injected, bad_rows, previous = 0, {}, {}, table.previous
    for p in chosen:
        for step in range(len(order)):
            fault = order[(cursor + step) % len(order)]
            try:
                bad, cols = inject(table.rows[p], fault, rng, exclude=(table.partition_column,),
                                   previous=table.rows.get(previous.get(p)),
                                   partition_column=table.partition_column,
                                   shift=p - previous[p] if p in previous else None)
            except wk.UserError:
                continue  # not eligible in this partition: the next type in the cycle
            injected[p] = Injection(p, fault, cols)
            bad_rows[p] = bad
            cursor = (cursor + step + 1) % len(order)
            break
    if not injected:
        return Replay(table, table.stats, table.tops)
    frame = pd.concat(list(bad_rows.values()), ignore_index=True)
    bad_stats, bad_tops = _profile(frame, table.name, table.partition_column, table.grain)
    hit = list(injected)
    strays = set(bad_stats["partition"]) - set(hit)
    if strays:  # a fault moved rows out of their partition: the replay would be wrong
        raise RuntimeError(f"{table.name}: injected rows landed in partitions {sorted(strays)}"
                           " that hold no fault")
    stats = pd.concat([table.stats[~table.stats["partition"].isin(hit)], bad_stats],
                      ignore_index=True).sort_values("partition", kind="stable")
    tops = pd.concat([table.tops[~table.tops["partition"].isin(hit)], bad_tops],
                     ignore_index=True).sort_values("partition", kind="stable")
    return Replay(table, stats.reset_index(drop=True), tops.reset_index(drop=True),
                  injected, bad_rows, {p: g for p, g in bad_stats.groupby("partition")})


def clean(table: Table) -> Replay:
    return Replay(table, table.stats, table.tops)


# --- methods ------------------------------------------------------------------------------

def _verdicts(verdicts) -> dict:
    return {pd.Timestamp(v.partition): Judgement(v.severity >= Severity.WARNING,
                                                 tuple(e.column for e in v.columns))
            for v in verdicts}


# The country each table's data comes from, as its owner would configure ``alerts.calendar``:
# every table here is from the US but the electricity demand of Victoria, Australia.
CALENDARS = {"elecdemand": "AU-VIC"}
DEFAULT_CALENDAR = "US"


def watchkeeper_method(r: Replay) -> dict:
    calendar = CALENDARS.get(r.table.name, DEFAULT_CALENDAR)
    return _verdicts(RobustDetector(calendar=calendar).backtest(r.stats, top_values=r.tops))


def online_normal_method(r: Replay) -> dict:
    return _verdicts(OnlineNormalDetector().backtest(r.stats))


def avh_method(r: Replay) -> dict:
    return {pd.Timestamp(p): Judgement(alert, tuple(blamed))
            for p, alert, blamed in baselines.AVH().backtest(r.stats)}


class Pairwise:
    """A method judging each partition against the previous one only: the clean
    judgements are computed once per table, and a replay recomputes only the partitions
    next to a fault."""

    def __init__(self, rule: Callable, on_rows: bool) -> None:
        self.rule, self.on_rows, self._clean = rule, on_rows, {}

    def __call__(self, r: Replay) -> dict:
        t = r.table
        if t.name not in self._clean:
            self._clean[t.name] = {p: self._judge(clean(t), p) for p in t.judged}
        out = dict(self._clean[t.name])
        touched = set(r.faults) | {p for p, q in t.previous.items() if q in r.faults}
        for p in touched & set(t.judged):
            out[p] = self._judge(r, p)
        return out

    def _judge(self, r: Replay, p) -> Judgement:
        q = r.table.previous[p]
        if self.on_rows:
            columns = [c for c in r.table.rows[p].columns if c != r.table.partition_column]
            hits = self.rule(r.rows(p), r.rows(q), columns)
        else:
            hits = self.rule(r.statistics(p), r.statistics(q))
        return Judgement(bool(hits), tuple(h[0] for h in hits))


def _gate_frame(frame: pd.DataFrame, partition_column: str) -> pd.DataFrame:
    out = frame.drop(columns=[partition_column]).copy()
    for c in out.columns:
        s = out[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = (s.astype("int64") // 10**6).astype("Int64")  # GATE takes int/float/string
        elif pd.api.types.is_string_dtype(s) or s.dtype == object:
            out[c] = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_bool_dtype(s):
            out[c] = s.astype("Int64")
    return out


class GateUnavailable(RuntimeError):
    """GATE's own venv is missing or GATE failed: the run says so and skips it."""


def gate_method(r: Replay) -> dict:
    """GATE (PyPI ``gate-drift``) in its own venv, on the replayed raw rows."""
    if not GATE_PYTHON.exists():
        raise GateUnavailable("GATE venv missing (benchmarks/detection/.venv-gate): see "
                              "docs/benchmarks.md")
    t = r.table
    index = {p: i for i, p in enumerate(t.parts)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frames = [_gate_frame(r.rows(p), t.partition_column).assign(__pidx=index[p])
                  for p in t.parts]
        pd.concat(frames, ignore_index=True).to_parquet(tmp / "rows.parquet", index=False)
        (tmp / "meta.json").write_text(json.dumps({
            "columns": [c for c in frames[0].columns if c != "__pidx"],
            "judge": [index[p] for p in t.judged]}))
        done = subprocess.run([str(GATE_PYTHON), str(HERE / "gate_worker.py"), str(tmp)],
                              capture_output=True, text=True)
        if done.returncode:
            raise GateUnavailable("GATE failed: " + (done.stderr.strip().splitlines() or
                                                     ["no message"])[-1])
        results = [json.loads(line) for line in
                   (tmp / "results.jsonl").read_text().splitlines()]
    return {t.parts[x["pidx"]]: Judgement(bool(x["alert"]), tuple(x["top"])) for x in results}


METHODS: dict[str, Callable] = {
    "watchkeeper": watchkeeper_method,
    "avh": avh_method,
    "gate": gate_method,
    "deequ_online_normal": online_normal_method,
    "tfdv": Pairwise(baselines.tfdv, on_rows=True),
    "ks_chi2": Pairwise(baselines.ks_chi2, on_rows=True),
    "coverage_drop": Pairwise(baselines.coverage_drop, on_rows=False),
}
BUDGETS: dict[str, Callable[[], object]] = {
    "watchkeeper": lambda: RobustDetector().get_params().get("false_alarms"),
    "avh": lambda: baselines.AVH().get_params().get("false_alarms"),
}


def budget_rate(value) -> float | None:
    """A false-alarm budget as a rate per partition: 1/90, 0.011, "1 per 90", "1/90"."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower().replace("partitions", "").replace("partition", "")
        for sep in (" per ", "/"):
            if sep in text:
                a, b = text.split(sep, 1)
                return float(a) / float(b)
        return float(Fraction(text))
    return float(value)


# --- scoring ------------------------------------------------------------------------------

def score(judgements: dict, r: Replay, lockbox_faults: tuple[str, ...] = LOCKBOX_FAULTS
          ) -> dict:
    """Counts over the judged partitions (additive across seeds; see :func:`metrics`).

    ``main`` leaves out partitions holding a lockbox fault type; ``lockbox_faults``
    counts only those (detected, injected, top-3 hits per fault type)."""
    main = {"tp": 0, "fp": 0, "fn": 0, "clean": 0, "top3": 0, "by_fault": {}}
    locked = {}
    for p in r.table.judged:
        j = judgements.get(p, Judgement(False))
        injection = r.faults.get(p)
        if injection is None:
            main["clean"] += 1
            main["fp"] += j.alert
            continue
        top = any(c in injection.columns for c in j.blamed[:3]) if j.alert else False
        if injection.fault in lockbox_faults:
            row = locked.setdefault(injection.fault, [0, 0, 0])
        else:
            main["tp" if j.alert else "fn"] += 1
            main["top3"] += top
            row = main["by_fault"].setdefault(injection.fault, [0, 0, 0])
        row[0] += j.alert
        row[1] += 1
        row[2] += top
    return {"main": main, "lockbox_faults": locked}


def add(a: dict, b: dict) -> dict:
    """Sum two count records of :func:`score` (pooling seeds or tables)."""
    out = {}
    for key in set(a) | set(b):
        x, y = a.get(key), b.get(key)
        if x is None or y is None:
            out[key] = json.loads(json.dumps(x if y is None else y))
        elif isinstance(x, dict):
            out[key] = add(x, y)
        elif isinstance(x, list):
            out[key] = [u + v for u, v in zip(x, y)]
        else:
            out[key] = x + y
    return out


def metrics(counts: dict) -> dict:
    """Precision, recall, F1, false alarms per 30 clean partitions, top-3 from counts."""
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    nan = float("nan")
    p = tp / (tp + fp) if tp + fp else nan
    r = tp / (tp + fn) if tp + fn else nan
    f1 = 2 * p * r / (p + r) if tp else (0.0 if tp + fn else nan)
    return {"precision": p, "recall": r, "f1": f1,
            "fa_per_30": 30 * fp / counts["clean"] if counts["clean"] else nan,
            "top3": counts["top3"] / tp if tp else nan,
            "faulty": tp + fn, "clean": counts["clean"]}


def clean_rate(judgements: dict, table: Table) -> dict:
    """The clean-only run: alerts per judged partition of the clean series."""
    alerts = sum(judgements.get(p, Judgement(False)).alert for p in table.judged)
    return {"alerts": alerts, "judged": len(table.judged),
            "rate": alerts / len(table.judged) if table.judged else math.nan}
