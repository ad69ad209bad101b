"""The ``wk`` command: a thin Typer layer over the public API.

User mistakes (:class:`watchkeeper.errors.UserError`) print one line and exit 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from .._version import __version__
from ..config import Project, TableSpec
from ..errors import ConfigError, UserError
from . import render
from ._common import (  # noqa: F401  (re-exported for the command modules)
    Format,
    FormatOpt,
    GranularityOpt,
    Grain,
    PartitionColumnOpt,
    TargetArg,
    _looks_like_source,
    _project,
    _store,
    profile_spec,
    resolve_table,
)

ENVIRONMENT = (
    ("WK_STORE_URL", "the metadata store: a DuckDB file or a postgresql:// URL "
                     "(overrides store: in watchkeeper.yaml)"),
    ("WK_MEMORY_BUDGET", "memory one query's aggregate state may hold on DuckDB, "
                         "e.g. 512MiB (default 128MiB)"),
    ("WK_USER", "who gives alert feedback (default: the operating-system user)"),
    ("WK_STATEMENT_TIMEOUT", "seconds a query on a PostgreSQL source may run (default "
                             "1800)"),
    ("WK_LOCK_TIMEOUT", "seconds to wait for a DuckDB store another process holds "
                        "(default 30; 0 fails at once)"),
    ("WK_SERVER_TOKEN", "the token wk serve asks of write actions (and of reads beyond "
                        "loopback)"),
)
"""Environment variables ``wk`` reads, as ``wk --help`` lists them (docs/cli.md too)."""

EXIT_CODES = (
    (0, "success (a gate let the partition through)"),
    (1, "blocked or failed: a critical check failed, a gate or an ingest said no"),
    (2, "a user mistake: bad option, unknown table, missing file, malformed project file, "
        "a store that is locked or cannot be opened"),
    (70, "an internal error (a bug in watchkeeper): one line; --debug shows the traceback"),
    (130, "interrupted (Ctrl-C); nothing half-written is left in the store"),
)
"""Every exit code of ``wk``, as docs/cli.md lists them."""

INTERNAL_ERROR = 70  # EX_SOFTWARE of sysexits.h: never 1, which means "blocked"
INTERRUPTED = 130

_DEBUG = {"on": False}

# "\b" keeps Click from re-wrapping the lines of the list into one paragraph.
_EPILOG = "Environment:\n\n\b\n" + "\n".join(f"  {name:<17} {text}" for name, text in ENVIRONMENT)

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  help="watchkeeper: partition summaries, data SLOs, learned alerts and triggers for ML "
                       "pipelines. Docs: docs/cli.md.", epilog=_EPILOG)
table_app = typer.Typer(no_args_is_help=True, help="Register and list tables.")
app.add_typer(table_app, name="table")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"watchkeeper {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = None,
          debug: Annotated[bool, typer.Option(
              "--debug", help="Show the traceback of an internal error (exit code 70).")] = False
          ) -> None:
    _DEBUG["on"] = debug


# -- commands ----------------------------------------------------------------
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
        out = sys.stdout
        for record in result.records():
            out.write(json.dumps(record) + "\n")
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


@app.command()
def demo(workdir: Annotated[Path, typer.Option(help="Folder for the demo project (created).")
                            ] = Path("demo-workspace"),
         pipeline: Annotated[bool, typer.Option("--pipeline", help=(
             "The retraining story instead: gated runs, moving windows, shadow to "
             "champion, delayed labels, lineage (needs watchkeeper[pipelines])."))] = False
         ) -> None:
    """Run the whole loop on real, time-partitioned data shipped by a PyPI package."""
    if pipeline:
        from .demo_pipeline import run_pipeline_demo

        run_pipeline_demo(workdir)
        return
    from .demo import run_demo

    run_demo(workdir)


# The other command groups live in their own modules; importing them registers them.
from . import alerts as _alerts  # noqa: E402,F401  (wk alerts, wk check)
from . import backtest as _backtest  # noqa: E402,F401  (wk backtest)
from . import gate as _gate  # noqa: E402,F401  (wk gate)
from . import managed as _managed  # noqa: E402  (wk ingest, read, quarantine, snapshot)
from . import pipelines as _pipelines  # noqa: E402,F401  (wk run, model, lineage, predict)
from . import outcomes as _outcomes  # noqa: E402,F401  (wk labels, performance, schedule)
from . import serve as _serve  # noqa: E402,F401  (wk serve, wk report)
from . import slo as _slo  # noqa: E402  (wk validate, suggest, slo status)
from .triggers import triggers_app  # noqa: E402  (wk triggers)

_slo.register(app)
_managed.register(app)
app.add_typer(triggers_app, name="triggers")


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``wk``: user errors become one line on stderr and exit code 2,
    internal errors one line and exit code 70 (the traceback with ``--debug``),
    interrupts exit code 130."""
    args = sys.argv[1:] if argv is None else list(argv)
    _DEBUG["on"] = "--debug" in args[:args.index("--")] if "--" in args else "--debug" in args
    try:
        # Outside standalone mode Typer turns Ctrl-C (and typer.Exit) into a returned
        # exit code: it must reach the shell, or an interrupted run would exit 0.
        code = app(args=args, standalone_mode=False)
        if isinstance(code, int) and code:
            if code == INTERRUPTED:
                render.err.print("interrupted")
            sys.exit(code)
    except UserError as exc:
        render.err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        render.err.print("interrupted")
        sys.exit(INTERRUPTED)
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is not None and hasattr(exc, "format_message"):
            # One line, like every other user error, instead of click's usage block.
            ctx = getattr(exc, "ctx", None)
            where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            message = " ".join(exc.format_message().split())
            render.err.print(f"[red]error:[/] {escape(message + where)}", highlight=False,
                             soft_wrap=True)
            sys.exit(code)
        if code is not None and hasattr(exc, "show"):
            exc.show()
            sys.exit(code)
        _internal_error(exc)


def _internal_error(exc: Exception) -> None:
    from .._util import scrub

    if _DEBUG["on"]:
        import traceback

        render.err.print(escape(scrub("".join(traceback.format_exception(exc)))),
                         highlight=False, soft_wrap=True)
    message = " ".join(scrub(f"{type(exc).__name__}: {exc}").split())[:300]
    render.err.print(f"[red]internal error:[/] {escape(message)} (a bug in watchkeeper: "
                     "please report it; wk --debug ... shows the traceback)",
                     highlight=False, soft_wrap=True)
    sys.exit(INTERNAL_ERROR)
