"""``wk backtest``: replay a table's history through the detector, as live checking would have."""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from ..alerts.settings import AlertSettings
from ..detect import Severity, Verdict, backtest as run_backtest
from . import app, render
from ._common import _project, _store, Format, FormatOpt, GranularityOpt, PartitionColumnOpt, profile_spec, resolve_table, TargetArg


@app.command()
def backtest(
    target: TargetArg,
    partition_column: PartitionColumnOpt = None,
    granularity: GranularityOpt = None,
    false_alarms: Annotated[Optional[str], typer.Option(
        "--false-alarms", help="The budget: expected false alarms per partition, e.g. "
                               "'1 per 90' (default: the project's, else 1 per 90).")] = None,
    calendar: Annotated[Optional[str], typer.Option(
        "--calendar", help="Holidays of this country (ISO code, e.g. US or DE-BY): their "
                           "deviations are expected (default: the project's).")] = None,
    summary: Annotated[bool, typer.Option(
        "--summary", help="With --format json: one summary record (alerts, realized "
                          "false-alarm rate against the budget) instead of the verdicts."
    )] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Judge every partition in time order against the earlier ones only (profiles first)."""
    project = _project()
    spec = resolve_table(target, partition_column, granularity, project)
    settings = AlertSettings.of(project, spec.name)
    raw = {k: v for k, v in (("false_alarms", false_alarms), ("calendar", calendar))
           if v is not None}
    settings = settings.updated(raw, "wk backtest")
    store = _store(project)
    profile_spec(spec, project, store, fmt)
    history = store.load_statistics(spec.name)
    detector = settings.make_detector(spec.granularity).set_params(max_explanations=10)
    verdicts = run_backtest(history, detector, top_values=store.load_top_values(spec.name))
    if fmt is Format.json:
        out = sys.stdout
        if summary:
            out.write(json.dumps(_rates(verdicts, settings)) + "\n")
            return
        for verdict in verdicts:
            out.write(json.dumps(verdict.to_record()) + "\n")
        return
    _render(spec.name, verdicts)
    rates = _rates(verdicts, settings)
    render.console.print(
        f"alerts (warning or worse): {rates['alerts']} of {rates['judged']} judged partitions "
        f"= 1 per {rates['one_per']}; budget {escape(str(settings.false_alarms))} "
        "(alerts on real faults count too: the rate on clean partitions is at most this)")


def _rates(verdicts: list[Verdict], settings) -> dict:
    """Alerts against the budget: what the detector would have cost on this history."""
    from ..detect._calibration import budget_rate

    judged = [v for v in verdicts if v.judged]
    alerts = sum(v.severity >= Severity.WARNING for v in judged)
    by_cause = Counter(v.extra.get("cause", "fault") for v in judged
                       if v.severity >= Severity.INFO and "cause" in v.extra)
    rate = alerts / len(judged) if judged else 0.0
    return {"judged": len(judged), "alerts": alerts, "alert_rate": round(rate, 5),
            "one_per": round(1 / rate, 1) if rate else None,
            "budget": str(settings.false_alarms),
            "budget_rate": round(budget_rate(settings.false_alarms), 5),
            "causes": dict(by_cause)}


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
