"""The ``wk`` command: a thin Typer layer over the public API.

User mistakes (:class:`watchkeeper.errors.UserError`) print one line and exit 2.
A command's module (and what it needs: Ibis, pandas, MLflow...) is imported only when
that command runs, so ``wk --version`` and ``wk --help`` start as fast as Typer.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .._version import __version__
from ..errors import UserError
from ._lazy import LazyCommand, lazy_app

ENVIRONMENT = (
    ("WK_STORE_URL", "the metadata store: a DuckDB file or a postgresql:// URL "
                     "(overrides store: in watchkeeper.yaml)"),
    ("WK_MEMORY_BUDGET", "memory one query's aggregate state may hold on DuckDB, "
                         "e.g. 512MiB (default 128MiB)"),
    ("WK_USER", "who gives alert feedback (default: the operating-system user)"),
    ("WK_STATEMENT_TIMEOUT", "seconds a query on a PostgreSQL source may run (default "
                             "1800)"),
    ("WK_CSV_TIMESTAMP_FORMAT", "the strptime format of every CSV timestamp, e.g. "
                                "'%d/%m/%Y %H:%M' (default: detected, alike in every file)"),
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

COMMANDS = [LazyCommand(name, module, help) for name, module, help in (
    ("init", "project", "Create watchkeeper.yaml and the metadata store in DIRECTORY."),
    ("profile", "profiling", "Compute or refresh per-partition, per-column summaries (only "
                             "new or changed partitions)."),
    ("summary", "profiling", "Show one column's statistics over time."),
    ("demo", "demo", "Run the whole loop on real, time-partitioned data shipped by a PyPI "
                     "package."),
    ("check", "alerts", "Profile a table, judge its new partitions, and print the ranked "
                        "incidents."),
    ("backtest", "backtest", "Judge every partition in time order against the earlier ones "
                             "only (profiles first)."),
    ("gate", "gate", "Answer whether a partition may be used; exit 0 = yes, 1 = blocked "
                     "(reasons printed)."),
    ("run", "pipelines", "Gate, build the windows, select, train, evaluate, register; exit 1 "
                         "when blocked."),
    ("lineage", "pipelines", "Which partitions (and incidents on them) trained a model "
                             "version (default: the champion, else the challenger)."),
    ("predict", "pipelines", "Score a partition with the champion (and the shadow), guard it, "
                             "log it; exit 1 when the gate blocks the partition or a guard "
                             "rejects the batch."),
    ("trace", "pipelines", "Which model version produced a prediction batch, from which "
                           "partitions, and the data that trained that version."),
    ("serve", "serve", "Run the dashboard and REST API (writes need WK_SERVER_TOKEN)."),
    ("report", "serve", "Write one self-contained HTML file: the table page and its open "
                        "incidents."),
    ("validate", "slo", "Evaluate a table's SLO checks; exit 1 if a critical check fails."),
    ("suggest", "slo", "Propose SLO checks (YAML, printed for review) learned from stored "
                       "summaries."),
    ("ingest", "managed", "Load FILE as one partition: quarantine bad rows, commit the rest "
                          "(exit 1: check failed)."),
    ("read", "managed", "Read rows of a managed table (guarded: exit 1 if a partition failed "
                        "a critical check)."),
    ("quarantine", "managed", "List or export quarantined rows, with the checks they failed "
                              "and their ingest."),
    ("snapshot", "managed", "Record the chosen partitions at their exact versions; print the "
                            "snapshot id."),
    ("versions", "managed", "Every ingest: version, partition, rows committed and "
                            "quarantined, failed checks."),
    ("table", "project", "Register and list tables."),
    ("alerts", "alerts", "Open incidents, ranked; explain one; record feedback."),
    ("model", "pipelines", "Registered models: list versions, shadow, promote, roll back."),
    ("labels", "outcomes", "Delayed labels: join them to logged predictions."),
    ("performance", "outcomes", "Performance per partition: realised where labels landed, "
                                "else estimated (CBPE), and the gap between the two."),
    ("schedule", "outcomes", "Run the pipelines' schedules in-process (APScheduler) until "
                             "Ctrl-C or SIGTERM."),
    ("slo", "slo", "SLO attainment and error budgets."),
    ("triggers", "triggers", "Triggers: list them, fire a test event, read their log."),
)]
"""Every ``wk`` command: its name, the module under ``watchkeeper.cli`` that defines it,
and its one-line help (the first sentence of its docstring, as ``wk --help`` shows it
without importing the module; a test keeps the two equal)."""


def _attach(module) -> None:
    """Modules that register their commands through ``register(app)`` do it here."""
    register = getattr(module, "register", None)
    if callable(register):
        register(app)


app = lazy_app(COMMANDS, __name__, _attach, no_args_is_help=True, add_completion=False,
               rich_markup_mode=None,
               help="watchkeeper: partition summaries, data SLOs, learned alerts and triggers "
                    "for ML pipelines. Docs: docs/cli.md.", epilog=_EPILOG)


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


def _err():
    """The console for errors on stderr (Rich is imported only when there is one)."""
    from .render import err

    return err


def _escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


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
                _err().print("interrupted")
            sys.exit(code)
    except UserError as exc:
        _err().print(f"[red]error:[/] {_escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _err().print("interrupted")
        sys.exit(INTERRUPTED)
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is not None and hasattr(exc, "format_message"):
            # One line, like every other user error, instead of click's usage block.
            ctx = getattr(exc, "ctx", None)
            where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            message = " ".join(exc.format_message().split())
            _err().print(f"[red]error:[/] {_escape(message + where)}", highlight=False,
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

        _err().print(_escape(scrub("".join(traceback.format_exception(exc)))),
                         highlight=False, soft_wrap=True)
    message = " ".join(scrub(f"{type(exc).__name__}: {exc}").split())[:300]
    _err().print(f"[red]internal error:[/] {_escape(message)} (a bug in watchkeeper: "
                     "please report it; wk --debug ... shows the traceback)",
                     highlight=False, soft_wrap=True)
    sys.exit(INTERNAL_ERROR)
