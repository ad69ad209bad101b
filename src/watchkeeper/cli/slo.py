"""``wk validate``, ``wk slo status`` and ``wk suggest``: the SLO commands.

``wk validate`` exits 1 when a critical check fails (or cannot be evaluated),
0 otherwise, and 2 for bad input, like every command. In a project, it fires
``slo.failed`` per failed check and partition.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
import yaml
from rich.table import Table

from ..config import Project
from ..engine import parse_source
from ..errors import ConfigError
from ..slo import SLOSpec, TableSLO, evaluate, load_spec
from ..slo.attainment import WINDOWS, attainment
from ..slo.suggest import suggest as run_suggest
from ..store.slo_results import load_results
from ..triggers import announce_slo_failed
from . import render
from ._common import (
    TargetArg,
    GranularityOpt,
    PartitionColumnOpt,
    Format,
    FormatOpt,
    _looks_like_source,
    _project,
    _store,
    resolve_table,
)

slo_app = typer.Typer(no_args_is_help=True, help="SLO attainment and error budgets.")


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(suggest)
    app.add_typer(slo_app, name="slo")


def _spec_for(project: Project | None, names: list[str], checks_file: Path | None) -> TableSLO:
    if checks_file is not None:
        if not checks_file.is_file():
            raise ConfigError(f"no checks file at {checks_file}: check the path")
        raw = yaml.safe_load(checks_file.read_text()) or {}
        spec = SLOSpec.from_dict(raw.get("slos", raw), checks_file.parent)
    else:
        spec = load_spec(project) if project else SLOSpec()
    for name in names:
        if name in spec.tables and spec.tables[name].checks:
            return spec.tables[name]
    if checks_file is not None and len(spec.tables) == 1:
        return next(iter(spec.tables.values()))
    raise ConfigError(f"no SLO checks for {names[0]!r}: declare them under slos: tables: "
                      f"{names[0]}: in watchkeeper.yaml (wk suggest {names[0]} proposes some)")


def _parse_partition(text: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text)
    except ValueError:
        raise ConfigError(f"--partition {text!r} is not a date: write e.g. 2024-01-31") from None


def validate(
    target: TargetArg,
    partition: Annotated[Optional[list[str]], typer.Option(
        help="Partition to check (repeatable); default: the newest.")] = None,
    all_partitions: Annotated[bool, typer.Option("--all", help="Check every partition.")
                              ] = False,
    checks: Annotated[Optional[Path], typer.Option(
        help="A YAML file with slos: tables: (default: watchkeeper.yaml).")] = None,
    partition_column: PartitionColumnOpt = None,
    granularity: GranularityOpt = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Evaluate a table's SLO checks; exit 1 if a critical check fails."""
    project = _project()
    spec = resolve_table(target, partition_column, granularity, project)
    slo = _spec_for(project, [target, spec.name], checks)
    root = project.root if project else None
    wanted = "latest"
    if all_partitions:
        wanted = None
    elif partition:
        wanted = [_parse_partition(p) for p in partition]
    others = dict(project.tables) if project else {}
    result = evaluate(parse_source(spec.source, root), slo, partition_column=spec.partition_column,
                      granularity=spec.granularity, partitions=wanted, name=spec.name,
                      store=_store(project), others=others, root=root)
    if project is not None:
        announce_slo_failed(result, project)
    if fmt is Format.json:
        for record in result.records():
            typer.echo(json.dumps(record, default=str))
    else:
        _show_results(result)
    if not result.ok:
        # SystemExit, not typer.Exit: main() runs click with standalone_mode=False,
        # which turns typer.Exit into a return value and would lose the code.
        sys.exit(1)


def _show_results(result) -> None:
    frame = result.results
    fmt = result.granularity.format
    out = Table("partition", "check", "severity", "verdict", "observed", "unexpected", "sample",
                title=f"{result.table}: {len(frame)} verdicts", title_justify="left")
    for row in frame.to_dict("records"):
        verdict = ("[yellow]error[/]" if row["error"] else
                   "[green]pass[/]" if row["passed"] else "[red]FAIL[/]")
        unexpected = "" if pd.isna(row["unexpected_count"]) else (
            f"{int(row['unexpected_count']):,}"
            + ("" if pd.isna(row["unexpected_fraction"]) else
               f" ({row['unexpected_fraction']:.1%})"))
        sample = row["error"] or ""
        if row["sample"] and not sample:
            first = json.loads(row["sample"])[0]
            sample = json.dumps(first.get("values", first))[:60]
        out.add_row(fmt(row["partition"]), row["check"], row["severity"], verdict,
                    render.fmt_value(row["observed"]), unexpected, sample)
    render.console.print(out)
    failed = result.failed()
    if failed.empty:
        render.console.print("All checks passed.")
        return
    for severity in ("critical", "warning", "info"):
        n = int((failed["severity"] == severity).sum())
        if n:
            render.console.print(f"{n} {severity} verdict(s) failed.")


@slo_app.command("status")
def status(
    table: Annotated[Optional[str], typer.Argument(help="One table; default: all.")] = None,
    target: Annotated[Optional[float], typer.Option(
        help="Attainment target, e.g. 0.99 (default: slos: target, else 0.99).")] = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Share of partitions meeting each SLO over 7/30/90 partitions, and error budget left."""
    project = _project()
    if target is not None and not 0 < target < 1:
        raise ConfigError(f"--target {target} must lie strictly between 0 and 1, e.g. 0.99")
    spec = load_spec(project) if project else SLOSpec()
    results = load_results(_store(project, create=False), table)
    if results.empty:
        what = f"table {table!r}" if table else "any table"
        raise ConfigError(f"no SLO results for {what} in the store: run wk validate "
                          f"{table or 'NAME'} --all first")
    frames = [attainment(group, target or spec.target_of(name))
              for name, group in results.groupby("table")]
    report = pd.concat(frames, ignore_index=True)
    if fmt is Format.json:
        for row in report.to_dict("records"):
            row["latest_partition"] = str(row["latest_partition"])
            typer.echo(json.dumps({k: (None if isinstance(v, float) and v != v else v)
                                   for k, v in row.items()}, default=str))
        return
    out = Table("table", "check", "severity", "latest", *(f"last {w}" for w in WINDOWS),
                "budget left (30)", title_justify="left",
                title=f"SLO attainment (target {report['target'].iloc[0]:.2%})")
    for row in report.to_dict("records"):
        budget = row["budget_left_30"]
        shown = "–" if budget is None or budget != budget else (
            f"[red]{budget:.0%}[/]" if budget < 0 else f"{budget:.0%}")
        out.add_row(row["table"], row["check"], row["severity"],
                    "[green]pass[/]" if row["latest_passed"] else "[red]FAIL[/]",
                    *(f"{row[f'attainment_{w}']:.1%}" for w in WINDOWS), shown)
    render.console.print(out)


def suggest(
    table: Annotated[str, typer.Argument(metavar="NAME|PATH", help="A profiled table.")],
    holdout: Annotated[int, typer.Option(min=0, help="Newest partitions held out to "
                                                     "validate the suggestions.")] = 3,
    margin: Annotated[float, typer.Option(min=0.0, help="Relative margin on learned ranges.")
                      ] = 0.1,
    max_set: Annotated[int, typer.Option(min=1, help="Largest value set to propose.")] = 10,
) -> None:
    """Propose SLO checks (YAML, printed for review) learned from stored summaries."""
    project = _project()
    name = table
    if not (project and table in project.tables) and _looks_like_source(table):
        name = resolve_table(table, "-", None, project).name
    result = run_suggest(_store(project), name, holdout=holdout, margin=margin, max_set=max_set)
    typer.echo(result.to_yaml(), nl=False)


__all__ = ["register", "slo_app"]
