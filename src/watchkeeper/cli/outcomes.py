"""``wk labels ingest``, ``wk performance``, ``wk schedule``: what a pipeline's models did,
and when its runs happen.

Exit codes: 0 done; 1 a performance SLO of the champion failed on the labels just
ingested; 2 bad input (a file without the label's keys, an unknown pipeline); 130
``wk schedule`` stopped by Ctrl-C (SIGTERM stops it with 0).
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from . import app, render
from ._common import Format, FormatOpt
from .pipelines import _context, _say

labels_app = typer.Typer(no_args_is_help=True,
                         help="Delayed labels: join them to logged predictions.")
app.add_typer(labels_app, name="labels")

INTERRUPTED = 130


class StageChoice(str, Enum):
    champion = "champion"
    shadow = "shadow"
    all = "all"


@labels_app.command("ingest")
def labels_ingest(
    pipeline: Annotated[str, typer.Argument(help="A pipeline declared under pipelines:.")],
    files: Annotated[list[Path], typer.Argument(help="CSV or Parquet files with the label's "
                                                     "entity keys, time key and column.")],
    fmt: FormatOpt = Format.text,
) -> None:
    """Join labels to the logged predictions: realised performance per partition; exit 1
    if the champion fails a performance SLO."""
    from ..pipelines import ingest_labels

    project, store, registry = _context()
    result = ingest_labels(pipeline, [str(f) for f in files], project, store=store,
                           registry=registry)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), default=str))
    else:
        _say(f"{pipeline}: {result.rows} labels of {', '.join(result.partitions)} logged in "
             f"{result.table}; {result.matched} joined a served prediction, "
             f"{result.unmatched} did not", "green")
        for row in result.realised:
            shown = ", ".join(f"{k} {render.fmt_value(v)}" for k, v in row["metrics"].items())
            _say(f"  {row['partition']} version {row['model_version']} ({row['stage']}): "
                 f"{shown}")
        for failure in result.failures:
            back = (f"; rolled back to version {failure.rollback_to}" if failure.rolled_back
                    else "")
            _say(f"  SLO {failure.slo} failed on {failure.partition} "
                 f"({render.fmt_value(failure.value)}): incident {failure.incident_id}{back}",
                 "bold red")
            for note in failure.notes:
                _say(f"    {note}")
    if not result.ok:
        sys.exit(1)


@app.command("performance")
def performance_report(
    pipeline: Annotated[str, typer.Argument(help="A pipeline declared under pipelines:.")],
    stage: Annotated[StageChoice, typer.Option(help="Which stage's predictions: champion, "
                                                    "shadow or all.")] = StageChoice.champion,
    fmt: FormatOpt = Format.text,
) -> None:
    """Performance per partition: realised where labels landed, else estimated (CBPE),
    and the gap between the two."""
    from ..pipelines import performance

    project, store, _ = _context()
    found = performance(pipeline, project, store=store,
                        stage=None if stage is StageChoice.all else stage.value)
    if fmt is Format.json:
        typer.echo(json.dumps(found, default=str))
        return
    if not found["partitions"]:
        _say(f"{pipeline}: no performance yet: wk predict, then wk labels ingest")
        return
    names = found["metrics"]
    table = Table("partition", "version", "stage", "rows", "labelled",
                  *(f"{n}" for n in names), *(["SLOs"] if found["slos"] else []),
                  title=f"{pipeline}: realised (r) or estimated (e); gap = realised - estimated")
    for p in found["partitions"]:
        cells = []
        for n in names:
            m = p["metrics"][n]
            mark = {"realised": " r", "estimated": " e"}.get(m["source"], "")
            gap = f" (gap {m['gap']:+.3f})" if m["gap"] is not None else ""
            cells.append(f"{render.fmt_value(m['value'])}{mark}{gap}")
        slo = []
        if found["slos"]:
            failed = [s["slo"] for s in p.get("slos", []) if s["passed"] is False]
            slo = ["failed: " + "; ".join(failed) if failed else "ok"]
        table.add_row(p["partition"], p["model_version"], p["stage"], str(p["rows"]),
                      str(p["labelled"]), *cells, *slo)
    render.console.print(table)
    for n, g in found["gap"].items():
        if g["partitions"]:
            _say(f"{n}: mean |realised - estimated| {g['mean_abs_gap']:.4f} over "
                 f"{g['partitions']} partitions")


@app.command("schedule")
def schedule(
    pipelines: Annotated[Optional[list[str]], typer.Argument(help="Pipelines to schedule "
                                                                  "(default: every one with "
                                                                  "a schedule).")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="Show the jobs and their next "
                                                           "run, and exit.")] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Run the pipelines' schedules in-process (APScheduler) until Ctrl-C or SIGTERM."""
    from ..pipelines import schedule_plan, serve_schedules

    project, _, _ = _context()

    def show(jobs) -> None:
        for job in jobs:
            if fmt is Format.json:
                typer.echo(json.dumps({"event": "scheduled", **job.to_dict()}))
            else:
                _say(f"{job.pipeline}: {job.schedule} (next run {job.next_run})")
        sys.stdout.flush()

    if list_only:
        show(schedule_plan(project, pipelines or ()))
        return

    def on_result(result) -> None:
        if fmt is Format.json:
            typer.echo(json.dumps({"event": "run", **result.to_dict()}, default=str))
        else:
            what = (f"version {result.version} registered" if result.ok
                    else "blocked: " + "; ".join(result.reasons))
            _say(f"{result.pipeline}: run {result.run_id} {what}",
                 "green" if result.ok else "yellow")
        sys.stdout.flush()

    def on_error(name: str, exc: Exception) -> None:
        if fmt is Format.json:
            typer.echo(json.dumps({"event": "error", "pipeline": name, "error": str(exc)}))
        else:
            render.err.print(f"{name}: run failed: {exc}", highlight=False, soft_wrap=True)
        sys.stdout.flush()

    stopped = serve_schedules(project, pipelines or (), on_start=show, on_result=on_result,
                              on_error=on_error)
    render.err.print(f"schedule stopped ({stopped})")
    if stopped == "SIGINT":
        sys.exit(INTERRUPTED)
