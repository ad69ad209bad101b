"""``wk backtest``: replay a table's history through the detector, as live checking would have."""

from __future__ import annotations

import json
import sys
from collections import Counter
from enum import Enum
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from ..detect import RobustDetector, Severity, Verdict, backtest as run_backtest
from . import app, render
from ._common import _project, _store, Format, FormatOpt, GranularityOpt, PartitionColumnOpt, profile_spec, resolve_table, TargetArg


class Sensitivity(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"


@app.command()
def backtest(
    target: TargetArg,
    partition_column: PartitionColumnOpt = None,
    granularity: GranularityOpt = None,
    sensitivity: Annotated[Sensitivity, typer.Option(
        help="How far from normal a statistic must be to alert.")] = Sensitivity.medium,
    fmt: FormatOpt = Format.text,
) -> None:
    """Judge every partition in time order against the earlier ones only (profiles first)."""
    project = _project()
    spec = resolve_table(target, partition_column, granularity, project)
    store = _store(project)
    profile_spec(spec, project, store, fmt)
    history = store.load_statistics(spec.name)
    detector = RobustDetector(sensitivity=sensitivity.value, granularity=spec.granularity)
    verdicts = run_backtest(history, detector, top_values=store.load_top_values(spec.name))
    if fmt is Format.json:
        out = sys.stdout
        for verdict in verdicts:
            out.write(json.dumps(verdict.to_record()) + "\n")
        return
    _render(spec.name, verdicts)


def _render(name: str, verdicts: list[Verdict]) -> None:
    console = render.console
    alerts = [v for v in verdicts if v.severity >= Severity.INFO]
    table = Table(title=f"backtest of {name}: {len(verdicts)} partitions, "
                        f"{sum(not v.judged for v in verdicts)} too early to judge")
    for head in ("partition", "severity", "score", "column", "statistic", "observed",
                 "expected"):
        table.add_column(head, justify="right" if head in ("score", "observed") else "left")
    style = {Severity.INFO: "dim", Severity.WARNING: "yellow", Severity.CRITICAL: "bold red"}
    for v in alerts:
        top = v.columns[0] if v.columns else None
        record = v.to_record()
        table.add_row(record["partition"], f"[{style[v.severity]}]{v.severity.value}[/]",
                      f"{v.score:.1f}", top.column if top else "", top.statistic if top else "",
                      f"{top.observed:.4g}" if top else "",
                      f"{top.expected_low:.4g} .. {top.expected_high:.4g}" if top else "")
    if alerts:
        console.print(table)
    else:
        console.print(f"backtest of {name}: no alerts in {len(verdicts)} partitions")
    _summary(verdicts)


def _summary(verdicts: list[Verdict]) -> None:
    """Alerts per week by severity, then the columns that alerted most (warning or worse)."""
    console = render.console
    weeks: dict[str, Counter] = {}
    for v in verdicts:
        ts = pd.Timestamp(v.partition)
        week = (ts - pd.Timedelta(days=ts.dayofweek)).date().isoformat()
        weeks.setdefault(week, Counter())[v.severity] += v.severity >= Severity.INFO
    per_week = Table(title="alerts per week")
    for head in ("week of", "info", "warning", "critical"):
        per_week.add_column(head, justify="left" if head == "week of" else "right")
    for week, counts in weeks.items():
        if sum(counts.values()):
            per_week.add_row(week, *(str(counts[s]) for s in
                                     (Severity.INFO, Severity.WARNING, Severity.CRITICAL)))
    console.print(per_week)
    total = Counter(v.severity for v in verdicts)
    n_weeks = max(1, len(weeks))
    console.print("per week on average: " + ", ".join(
        f"{s.value} {total[s] / n_weeks:.2f}" for s in
        (Severity.INFO, Severity.WARNING, Severity.CRITICAL)))
    noisy = Counter(e.column for v in verdicts if v.severity >= Severity.WARNING
                    for e in v.columns)
    if noisy:
        console.print("noisiest columns (warning or worse): " + ", ".join(
            f"{c} ({n})" for c, n in noisy.most_common(5)))
    else:
        console.print("noisiest columns: none reached warning")
