"""``wk gate NAME|PATH --partition P [--for train|serve]``: may a partition be used?

Exit 0: yes. Exit 1: blocked, with the reasons printed. Exit 2: bad input (an
unknown table, a malformed date, a partition the source does not have), one line.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape

from ..triggers.gate import gate as run_gate
from . import app, render
from ._common import (
    TargetArg,
    Format,
    FormatOpt,
    GranularityOpt,
    PartitionColumnOpt,
    Purpose,
    _project,
    resolve_table,
)


@app.command("gate")
def gate(
    target: TargetArg,
    partition: Annotated[str, typer.Option(help="The partition to use, e.g. 2024-03-05 "
                                                "(its start, in the table's granularity).")],
    for_: Annotated[Purpose, typer.Option("--for", help="What the partition is for: train "
                                                        "fires train.before, serve fires "
                                                        "serve.before.")] = Purpose.train,
    partition_column: PartitionColumnOpt = None,
    granularity: GranularityOpt = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Answer whether a partition may be used; exit 0 = yes, 1 = blocked (reasons printed)."""
    project = _project()
    spec = resolve_table(target, partition_column, granularity, project)
    decision = run_gate(spec, partition, for_=for_.value, project=project)
    if fmt is Format.json:
        typer.echo(json.dumps(decision.to_dict()))
    else:
        style = "green" if decision.allowed else "bold red"
        lines = decision.describe().splitlines()
        render.console.print(f"[{style}]{escape(lines[0])}[/]", highlight=False, soft_wrap=True)
        for line in lines[1:]:
            render.console.print(escape(line), highlight=False, soft_wrap=True)
        ids = [r.incident_id for r in decision.reasons if r.incident_id is not None]
        if ids:
            render.console.print(f"To use it anyway after a look (wk alerts show {ids[0]}), "
                                 f"close the incident: wk alerts resolve {ids[0]} --note WHY",
                                 highlight=False, soft_wrap=True)
    if not decision.allowed:
        # SystemExit, not typer.Exit: main() runs click with standalone_mode=False.
        sys.exit(1)
