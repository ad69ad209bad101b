"""``wk profile`` and ``wk summary``: compute partition summaries and show them."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ..errors import ConfigError
from . import app, render
from ._common import (Format, FormatOpt, GranularityOpt, PartitionColumnOpt, TargetArg,
                      _looks_like_source, _project, _store, profile_spec, resolve_table)


@app.command()
def profile(
    target: TargetArg,
    partition_column: PartitionColumnOpt = None,
    granularity: GranularityOpt = None,
    full_refresh: Annotated[bool, typer.Option(help="Recompute every partition.")] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Compute or refresh per-partition, per-column summaries (only new or changed partitions)."""
    project = _project()
    spec = resolve_table(target, partition_column, granularity, project)
    result, elapsed = profile_spec(spec, project, _store(project), fmt, full_refresh)
    if fmt is Format.json:
        sys.stdout.writelines(json.dumps(record) + "\n" for record in result.records())
        return
    render.profile_result(result, elapsed)


@app.command()
def summary(
    target: TargetArg,
    column: Annotated[str, typer.Option(help="The column to show; * for table level.")],
    last: Annotated[int, typer.Option(min=1, help="How many recent partitions to list.")] = 10,
    fmt: FormatOpt = Format.text,
) -> None:
    """Show one column's statistics over time."""
    project = _project()
    name = target
    if not (project and target in project.tables) and _looks_like_source(target):
        name = resolve_table(target, "-", None, project).name
    store = _store(project, create=False)
    stats = store.load_statistics(name, column=column)
    if stats.empty:
        columns = ", ".join(store.columns(name)["column"]) or "none"
        raise ConfigError(f"table {name!r} has no column {column!r} in its summaries "
                          f"(columns: {columns}): pass one of those, or * for table level")
    record = store.table(name)
    if fmt is Format.json:
        from ..engine import Granularity

        fmt_partition = Granularity.parse(record.granularity).format
        for row in stats.itertuples(index=False):
            value = None if row.value is None or row.value != row.value else row.value
            typer.echo(json.dumps({"partition": fmt_partition(row.partition), "column": row.column,
                                   "statistic": row.statistic, "value": value}))
        return
    top = store.load_top_values(name, column=column)
    render.column_summary(name, column, stats, top, record.granularity, last)
