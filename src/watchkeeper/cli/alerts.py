"""``wk alerts`` (list, show, ack, resolve, false-positive) and ``wk check``.

``wk check NAME`` profiles the table, judges the new partitions and prints the
ranked incidents; it exits 1 when an active critical incident is among them.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .. import alerts as api
from ..detect import Severity
from ..engine import Granularity
from . import app, render
from ._common import _project, _store, Format, FormatOpt, GranularityOpt, PartitionColumnOpt, profile_spec, resolve_table, TargetArg

alerts_app = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                         help="Open incidents, ranked; explain one; record feedback.")
app.add_typer(alerts_app, name="alerts")

IdArg = Annotated[str, typer.Argument(metavar="ID", help="The incident id wk alerts lists.")]
NoteOpt = Annotated[Optional[str], typer.Option("--note", help="Why, for the record.")]
_STYLE = {"info": "dim", "warning": "yellow", "critical": "bold red"}


@alerts_app.callback()
def list_alerts(
    ctx: typer.Context,
    table: Annotated[Optional[str], typer.Option("--table", help="Only this table.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also info-level and closed "
                                                         "incidents.")] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """List open incidents, most urgent first (severity, then impact)."""
    if ctx.invoked_subcommand is not None:
        return
    project = _project()
    found = api.incidents(project, table=table, include_closed=show_all,
                          min_severity="info" if show_all else "warning",
                          store=_store(project, create=False))
    if fmt is Format.json:
        for incident in found:
            typer.echo(json.dumps(incident.to_record(anomalies=False)))
        return
    _list(found, show_all)


@alerts_app.command("show")
def show(incident_id: IdArg, fmt: FormatOpt = Format.text) -> None:
    """Explain one incident: per column the statistic, observed value, band and history."""
    project = _project()
    store = _store(project, create=False)
    incident = api.records.load(store, incident_id)
    notes = api.records.AlertLog(store).feedback(incident.id)
    if fmt is Format.json:
        record = incident.to_record()
        record["feedback"] = [{"action": r["action"], "user": r["user_name"],
                               "note": r["note"], "at": str(r["created_at"])}
                              for r in notes.to_dict("records")]
        typer.echo(json.dumps(record))
        return
    _explain(incident, notes)


def _feedback_command(action: str, verb: str):
    def command(incident_id: IdArg, note: NoteOpt = None) -> None:
        project = _project()
        incident = api.feedback(incident_id, action, note=note, project=project,
                                store=_store(project, create=False))
        render.console.print(f"#{incident.id} {verb} by {escape(api.current_user())}: "
                             f"status {incident.status.value}")
        if action != "false_positive":
            return
        log = api.records.AlertLog(_store(project))
        tolerances = api.tolerance.tolerances_of(log.tolerances(incident.table))
        shown = set()
        for a in incident.anomalies:
            tol = tolerances.get(a.key) if a.source == "detector" else None
            if tol is not None and a.key not in shown:
                shown.add(a.key)
                render.console.print(f"  {escape(a.column)}.{a.statistic}: {escape(tol.note)}")

    command.__doc__ = {
        "ack": "Acknowledge: the incident is real; its partitions are not learned from.",
        "resolve": "Resolve as real (fixed): closes it; its partitions are not learned from.",
        "false_positive": "Not a problem: closes it and widens the bands that paged.",
    }[action]
    return command


alerts_app.command("ack")(_feedback_command("ack", "acknowledged"))
alerts_app.command("resolve")(_feedback_command("resolve", "resolved"))
alerts_app.command("false-positive")(_feedback_command("false_positive",
                                                       "marked a false positive"))


TableArg = Annotated[str, typer.Argument(metavar="TABLE", help="A registered table.")]
ColumnArg = Annotated[str, typer.Argument(metavar="COLUMN", help="The column to mute.")]
StatisticOpt = Annotated[Optional[str], typer.Option(
    "--statistic", help="Only this statistic of the column (e.g. p99); default: all of them.")]


@alerts_app.command("mute")
def mute(table: TableArg, column: ColumnArg, statistic: StatisticOpt = None,
         note: NoteOpt = None, fmt: FormatOpt = Format.text) -> None:
    """Never judge a column (or one statistic of it) again, until unmuted."""
    _mute(table, column, statistic, note, fmt, unmute=False)


@alerts_app.command("unmute")
def unmute(table: TableArg, column: ColumnArg, statistic: StatisticOpt = None,
           note: NoteOpt = None, fmt: FormatOpt = Format.text) -> None:
    """Judge a muted column (or statistic) again."""
    _mute(table, column, statistic, note, fmt, unmute=True)


def _mute(table, column, statistic, note, fmt, *, unmute: bool) -> None:
    project = _project()
    muted = api.mute(table, column, statistic, note=note, unmute=unmute, project=project,
                     store=_store(project))
    if fmt is Format.json:
        typer.echo(json.dumps({"table": table, "muted": muted}))
        return
    what = f"{column}.{statistic}" if statistic else column
    render.console.print(f"{escape(table)}: {escape(what)} {'un' if unmute else ''}muted; "
                         f"muted now: {escape(', '.join(muted)) or 'nothing'}")


@app.command("check")
def check(
    target: TargetArg,
    partition: Annotated[Optional[list[str]], typer.Option(
        help="Partition to judge (repeatable); default: every one profiled since the last "
             "check.")] = None,
    partition_column: PartitionColumnOpt = None,
    granularity: GranularityOpt = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Profile a table, judge its new partitions, and print the ranked incidents."""
    project = _project()
    spec = resolve_table(target, partition_column, granularity, project)
    store = _store(project)
    profile_spec(spec, project, store, fmt)
    result = api.check(spec.name, project, partitions=partition, store=store)
    if fmt is Format.json:
        for incident in result.incidents:
            typer.echo(json.dumps({**incident.to_record(), "change": incident.change}))
    else:
        fmt_partition = Granularity.parse(spec.granularity).format
        judged = ", ".join(fmt_partition(p) for p in result.partitions)
        render.console.print(f"checked {escape(spec.name)}: {len(result.partitions)} "
                             f"partition(s) ({judged})")
        if result.incidents:
            _list(list(result.incidents), True, change=True)
            top = next((i for i in result.incidents if i.change != "resolved"), None)
            if top is not None:
                _explain(top, None)
        else:
            render.console.print("no anomalies: nothing to report")
    if any(i.severity is Severity.CRITICAL and i.status.active for i in result.incidents):
        sys.exit(1)  # like wk validate: a critical problem fails the pipeline step


# -- rendering ---------------------------------------------------------------------------
def _list(found, show_all: bool, change: bool = False) -> None:
    if not found:
        render.console.print("no open incidents" + ("" if show_all else
                                                    " at warning or worse (--all shows info)"))
        return
    out = Table("id", "severity", "status", "table", "partitions", "score", "impact", "cause",
                *(["this run"] if change else []), title_justify="left",
                title=f"{len(found)} incident(s), most urgent first")
    for i in found:
        parts = sorted(i.partitions)
        span = i.granularity.format(parts[0]) + (
            f" .. {i.granularity.format(parts[-1])} ({len(parts)})" if len(parts) > 1 else "")
        out.add_row(f"#{i.id}", f"[{_STYLE[i.severity.value]}]{i.severity.value}[/]",
                    i.status.value, escape(i.table), span, f"{min(i.score, 1e6):.1f}",
                    f"{min(i.impact, 1e6):.1f}", escape(i.cause),
                    *([i.change] if change else []))
    render.console.print(out)


def _explain(incident, notes) -> None:
    console = render.console
    style = _STYLE[incident.severity.value]
    console.print(f"[bold]Incident #{incident.id}[/] [{style}]{incident.severity.value}[/] "
                  f"{incident.status.value} · table {escape(incident.table)} · "
                  + ", ".join(incident.granularity.format(p) for p in sorted(incident.partitions)))
    console.print(f"cause: {escape(incident.cause)}")
    console.print(f"score {min(incident.score, 1e6):.1f}, impact {min(incident.impact, 1e6):.1f}"
                  f" ({incident.consumers} known consumer(s))")
    # One block per anomaly rather than a wide table: readable in an 80-column terminal.
    for a in incident.ranked_anomalies():
        tone = _STYLE[a.severity.value]
        head = f"\n  [bold]{escape(a.column)}[/] · {a.statistic} [{tone}]{a.severity.value}[/]"
        if len(incident.partitions) > 1:
            head += f" on {incident.granularity.format(a.partition)}"
        if a.source == "detector":
            console.print(f"{head} score {min(a.score, 1e6):.1f}")
            console.print(f"    observed {render.fmt_value(a.observed)}, expected band "
                          f"{render.fmt_value(a.expected_low)} .. "
                          f"{render.fmt_value(a.expected_high)}")
        else:
            console.print(f"{head} SLO check {escape(str(a.check))} failed")
            console.print(f"    observed {render.fmt_value(a.observed)}")
        if a.history:
            values = [v for _, v in a.history]
            spark = render.sparkline(values + [a.observed])
            console.print(f"    recent history {spark[:-1]}[bold]{spark[-1:]}[/] "
                          f"({len(values)} partitions from {a.history[0][0]}; last "
                          f"{render.fmt_value(values[-1])}, now {render.fmt_value(a.observed)})")
        if a.note:
            console.print(f"    {escape(a.note)}")
    if notes is not None and not notes.empty:
        for r in notes.to_dict("records"):
            who = escape(str(r["user_name"]))
            console.print(f"  feedback {r['created_at']:%Y-%m-%d %H:%M} {who}: "
                          f"{r['action']}" + (f" — {escape(str(r['note']))}" if r["note"] else ""))
