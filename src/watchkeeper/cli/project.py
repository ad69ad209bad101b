"""``wk init`` and ``wk table``: create a project and register its tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ..config import Project, TableSpec
from ..errors import ConfigError
from . import app, render
from ._common import Format, FormatOpt, Grain, _project

table_app = typer.Typer(no_args_is_help=True, help="Register and list tables.")
app.add_typer(table_app, name="table")


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder of the project.")] = Path(".")
         ) -> None:
    """Create watchkeeper.yaml and the metadata store in DIRECTORY."""
    project = Project.init(directory)
    render.console.print(f"Created [bold]{project.path}[/] and the store. Next: "
                         "wk table add NAME --source PATH --partition-column COL")


@table_app.command("add")
def table_add(
    name: Annotated[str, typer.Argument(help="Name to refer to the table by.")],
    source: Annotated[str, typer.Option(help="Parquet/CSV path or glob, duckdb:FILE#TABLE, "
                                             "postgresql://...#TABLE or spark:TABLE.")],
    partition_column: Annotated[str, typer.Option(help="Date or timestamp column that "
                                                       "partitions the table.")],
    granularity: Annotated[Grain, typer.Option(help="Partition size.")] = Grain.day,
    replace: Annotated[bool, typer.Option(help="Overwrite an existing registration.")] = False,
) -> None:
    """Register a time-partitioned table in watchkeeper.yaml."""
    project = _project()
    if project is None:
        raise ConfigError("no watchkeeper.yaml here or above: run wk init first")
    spec = TableSpec(name, source, partition_column, granularity.value)
    warning = project.add_table(spec, replace=replace)
    if warning:
        render.err.print(f"[yellow]warning:[/] {escape(warning)}: {name} has nothing to "
                         "profile until a file lands there", highlight=False, soft_wrap=True)
    render.console.print(f"Registered [bold]{name}[/] ({source}, partitioned by "
                         f"{partition_column} per {granularity.value}). Next: wk profile {name}")


@table_app.command("list")
def table_list(fmt: FormatOpt = Format.text) -> None:
    """List registered tables."""
    project = _project()
    tables = list(project.tables.values()) if project else []
    if fmt is Format.json:
        for t in tables:
            typer.echo(json.dumps({"name": t.name, **t.to_yaml()}))
        return
    render.tables(tables)
