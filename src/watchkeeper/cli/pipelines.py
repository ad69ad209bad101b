"""``wk run``, ``wk model list|shadow|promote|rollback``, ``wk lineage``, ``wk predict``,
``wk trace``: pipelines.

Exit codes suit cron, Airflow and Dagster: 0 done; 1 blocked (too few valid
partitions for a run; a partition the gate refuses to serve; a batch a guard rejects;
a promotion refused because a critical incident is open on
the version's inputs); 2 bad input (a spec mistake, an unknown model or version).
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import ConfigError
from . import app, render
from ._common import Format, FormatOpt, _project

model_app = typer.Typer(no_args_is_help=True,
                        help="Registered models: list versions, shadow, promote, roll back.")
app.add_typer(model_app, name="model")

ModelArg = Annotated[str, typer.Argument(metavar="MODEL[@VERSION]", help=(
    "A pipeline's registered model; @VERSION is a number or an alias (challenger, shadow, "
    "champion)."))]


class Rule(str, Enum):
    newest = "newest"
    averaged = "averaged"


def _context():
    project = _project()
    if project is None:
        raise ConfigError("no watchkeeper.yaml here or above: run wk init and declare a "
                          "pipeline under pipelines:")
    from ..pipelines import Registry

    return project, project.store(), Registry(project)


def _say(line: str, style: str | None = None) -> None:
    text = escape(line)
    render.console.print(f"[{style}]{text}[/]" if style else text, highlight=False,
                         soft_wrap=True)


@app.command("run")
def run_pipeline(
    pipeline: Annotated[str, typer.Argument(help="A pipeline declared under pipelines: in "
                                                 "watchkeeper.yaml.")],
    selection: Annotated[Optional[Rule], typer.Option(help=(
        "How hyperparameters are chosen: newest (the newest eval window, the default) or "
        "averaged (over old time splits, for comparison)."))] = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Gate, build the windows, select, train, evaluate, register; exit 1 when blocked."""
    from ..pipelines import run

    project = _project()
    if fmt is Format.text and render.err.is_terminal:
        with render.err.status(f"running {pipeline}"):
            result = run(pipeline, project, selection=selection.value if selection else None)
    else:
        result = run(pipeline, project, selection=selection.value if selection else None)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), default=str))
    else:
        _show_run(result)
    if not result.ok:
        sys.exit(1)


def _show_run(result) -> None:
    for partition, reasons in result.skipped.items():
        _say(f"skipped {partition}: {'; '.join(reasons)}", "yellow")
    if not result.ok:
        _say(f"blocked: {result.pipeline}", "bold red")
        for reason in result.reasons:
            _say(f"  - {reason}")
        return
    first, last = result.train[0], result.train[-1]
    _say(f"{result.pipeline}: version {result.version} registered as challenger", "green")
    _say(f"  trained on {len(result.train)} partitions {first} .. {last}; evaluated on "
         f"{', '.join(result.eval)}")
    chosen = result.selection
    _say(f"  params {json.dumps(chosen.params)} chosen by the {chosen.rule} rule of "
         f"{len(chosen.candidates)} candidates")
    table = Table("partition", "rows", *result.metrics, title="eval window")
    for row in result.per_partition:
        table.add_row(row["partition"], str(row["rows"]),
                      *(render.fmt_value(row[m]) for m in result.metrics))
    table.add_row("all", str(sum(r["rows"] for r in result.per_partition)),
                  *(render.fmt_value(v) for v in result.metrics.values()), style="bold")
    render.console.print(table)
    if result.promotion is not None:
        for line in result.promotion.describe().splitlines():
            _say(line)


@model_app.command("list")
def model_list(model: Annotated[str, typer.Argument(help="A pipeline's registered model.")],
               fmt: FormatOpt = Format.text) -> None:
    """Versions of a model, newest first, with their stages and metrics."""
    _, _, registry = _context()
    versions = registry.versions(model)
    if not versions:
        raise ConfigError(f"model {model!r} has no registered version: run wk run {model}")
    if fmt is Format.json:
        for v in versions:
            typer.echo(json.dumps(v))
        return
    names = sorted({k for v in versions for k in v["metrics"]})
    table = Table("version", "stages", *names, title=model)
    for v in versions:
        table.add_row(v["version"], ", ".join(v["aliases"]),
                      *(render.fmt_value(v["metrics"].get(n)) for n in names))
    render.console.print(table)


def _stage_result(change, fmt: Format) -> None:
    if fmt is Format.json:
        typer.echo(json.dumps(change.to_dict(), default=str))
    else:
        lines = change.describe().splitlines()
        _say(lines[0], "green" if change.done else "bold red")
        for line in lines[1:]:
            _say(line)
    if not change.done:
        sys.exit(1)


@model_app.command("shadow")
def model_shadow(model: ModelArg, fmt: FormatOpt = Format.text) -> None:
    """Put a version (default: the challenger) in shadow beside the champion."""
    from ..pipelines import shadow
    from ..pipelines.rollout import parse_ref

    project, store, registry = _context()
    name, version = parse_ref(model)
    _stage_result(shadow(registry, store, project, name, version), fmt)


@model_app.command("promote")
def model_promote(model: ModelArg, fmt: FormatOpt = Format.text) -> None:
    """Make a version (default: the challenger) champion; exit 1 if a critical incident
    is open on what it read."""
    from ..pipelines import promote
    from ..pipelines.rollout import parse_ref

    project, store, registry = _context()
    name, version = parse_ref(model)
    _stage_result(promote(registry, store, project, name, version), fmt)


@model_app.command("rollback")
def model_rollback(
    model: Annotated[str, typer.Argument(help="A pipeline's registered model.")],
    to: Annotated[Optional[str], typer.Option(help="The version to give champion to "
                                                   "(default: the one it replaced).")] = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Give champion back to the version the current champion replaced."""
    from ..pipelines import rollback

    project, store, registry = _context()
    _stage_result(rollback(registry, store, project, model, to), fmt)


@app.command("lineage")
def lineage(model: ModelArg, fmt: FormatOpt = Format.text) -> None:
    """Which partitions (and incidents on them) trained a model version (default: the
    champion, else the challenger)."""
    from ..pipelines import model_lineage

    project, store, registry = _context()
    found = model_lineage(model, project, store=store, registry=registry)
    if fmt is Format.json:
        typer.echo(json.dumps(found, default=str))
        return
    stages = f" ({', '.join(found['aliases'])})" if found["aliases"] else ""
    _say(f"{found['model']} version {found['version']}{stages}: run {found['run_id']}, "
         f"selection {found['selection']}, params {json.dumps(found['params'], default=str)}",
         "bold")
    for table in found["tables"]:
        by_role: dict[str, list[str]] = {}
        for p in table["partitions"]:
            by_role.setdefault(p["role"], []).append(p["partition"][:10])
        for role, parts in by_role.items():
            _say(f"  {table['table']} {role}: {len(parts)} partitions {parts[0]} .. {parts[-1]}")
        for incident in table["incidents"]:
            _say(f"    incident {incident['id']} ({incident['severity']}, "
                 f"{incident['status']}) on {', '.join(p[:10] for p in incident['partitions'])}")
    for partition, reasons in found["skipped"].items():
        _say(f"  skipped {partition}: {'; '.join(reasons)}", "yellow")


@app.command("predict")
def predict_partition(
    pipeline: Annotated[str, typer.Argument(help="A pipeline with a champion version.")],
    partition: Annotated[str, typer.Option(help="The partition of the feature tables to "
                                                "score, e.g. 2015-03-01.")],
    fmt: FormatOpt = Format.text,
) -> None:
    """Score a partition with the champion (and the shadow), guard it, log it; exit 1 when
    the gate blocks the partition or a guard rejects the batch."""
    from ..pipelines import predict
    from ..triggers import BatchRejected

    project, store, registry = _context()
    try:
        result = predict(pipeline, partition, project, store=store, registry=registry)
    except BatchRejected as exc:
        _say(f"rejected: {pipeline} {partition}", "bold red")
        for reason in exc.reasons:
            _say(f"  - {reason}")
        sys.exit(1)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), default=str))
    elif result.ok:
        shadow = f", shadow version {result.shadow_version}" if result.shadow_version else ""
        _say(f"{pipeline} {result.partition}: batch {result.batch_id}, {result.rows} rows "
             f"scored by version {result.version}{shadow}, logged in {result.table}", "green")
    else:
        _say(f"blocked: {pipeline} {result.partition}", "bold red")
        for reason in result.reasons:
            _say(f"  - {reason}")
    if not result.ok:
        sys.exit(1)


@app.command("trace")
def trace_batch(batch: Annotated[str, typer.Argument(help="A prediction batch id (wk predict "
                                                          "prints it).")],
                fmt: FormatOpt = Format.text) -> None:
    """Which model version produced a prediction batch, from which partitions, and the
    data that trained that version."""
    from ..pipelines import trace

    project, store, registry = _context()
    found = trace(batch, project, store=store, registry=registry)
    if fmt is Format.json:
        typer.echo(json.dumps(found, default=str))
        return
    shadow = f" (shadow: version {found['shadow_version']})" if found["shadow_version"] else ""
    _say(f"batch {batch}: {found['rows']} rows of {found['partition'][:10]} scored by "
         f"{found['pipeline']} version {found['model_version']}{shadow}", "bold")
    for item in found["inputs"]:
        marks = ", ".join(f"incident {i['id']} ({i['severity']}, {i['status']})"
                          for i in item["incidents"]) or "no incident"
        _say(f"  input {item['table']} {item['partition']}: {marks}")
    model = found["model"]
    for table in model["tables"]:
        train = [p["partition"][:10] for p in table["partitions"] if p["role"] == "train"]
        if train:
            _say(f"  trained on {table['table']}: {len(train)} partitions {train[0]} .. "
                 f"{train[-1]}")
