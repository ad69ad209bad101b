"""What every ``wk`` command shares: output formats, option types, and resolving
``NAME|PATH`` to a table, its project and its store."""

from __future__ import annotations

import os
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..config import Project, TableSpec
from ..engine import parse_source
from ..engine.sources import folder_hint
from ..errors import ConfigError, SourceError, UnknownTableError
from ..store import DEFAULT_STORE, Store
from ..summaries import ProfileResult
from ..summaries import profile as run_profile
from ..triggers import announce_profiled
from . import render


class Format(str, Enum):
    text = "text"
    json = "json"


class Grain(str, Enum):
    hour = "hour"
    day = "day"
    week = "week"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="text for people, json for "
                                                                    "machines (JSON lines).")]

class Purpose(str, Enum):
    """What a partition is used for: the gate fires train.before or serve.before."""

    train = "train"
    serve = "serve"


TargetArg = Annotated[str, typer.Argument(metavar="NAME|PATH",
                                          help="A registered table, or a Parquet/CSV path.")]

PartitionColumnOpt = Annotated[Optional[str], typer.Option(
    help="Partition column (required for a path).")]
GranularityOpt = Annotated[Optional[Grain], typer.Option(help="Partition size (default day).")]


def _project() -> Project | None:
    return Project.find()


def _store(project: Project | None, *, create: bool = True) -> Store:
    """The project's store, or outside a project ``WK_STORE_URL`` or the store in the
    current folder. Commands that only read (``create=False``) never start a new one."""
    if project is not None:
        return project.store()
    if not create and not os.environ.get("WK_STORE_URL") and not DEFAULT_STORE.is_file():
        raise ConfigError("not in a watchkeeper project (no watchkeeper.yaml here or above, "
                          "no store in this folder): run wk init, or set WK_STORE_URL")
    return Store.open()


def _looks_like_source(text: str) -> bool:
    return (text.startswith(("duckdb:", "postgresql://", "postgres://", "spark:"))
            or any(text.lower().endswith(ext) for ext in (".parquet", ".pq", ".csv", ".tsv"))
            or "/" in text or "*" in text)


def resolve_table(target: str, partition_column: str | None, granularity: Grain | None,
                  project: Project | None) -> TableSpec:
    """A registered table by name, or an ad-hoc source (path or URL)."""
    if project and target in project.tables:
        spec = project.tables[target]
        if partition_column or granularity:
            spec = TableSpec(spec.name, spec.source, partition_column or spec.partition_column,
                             granularity.value if granularity else spec.granularity)
        return spec
    folder = folder_hint(target)
    if folder:
        raise SourceError(folder)
    if not _looks_like_source(target):
        known = ", ".join(sorted(project.tables)) if project else ""
        hint = f" (registered: {known})" if known else ""
        raise UnknownTableError(f"{target!r} is not a registered table{hint} nor a file path: "
                                "register it with wk table add, or pass a .parquet/.csv path")
    if not partition_column:
        raise ConfigError(f"{target!r} is not a registered table, so its partition column is "
                          "unknown: pass --partition-column COL")
    name = target
    if "://" not in target and not target.startswith(("duckdb:", "spark:")):
        name = str(Path(target).expanduser().resolve())
    return TableSpec(name, name, partition_column,
                     granularity.value if granularity else "day")


def profile_spec(spec: TableSpec, project: Project | None, store: Store, fmt: Format,
                 full_refresh: bool = False) -> tuple[ProfileResult, float]:
    """Profile a resolved table into the store, with progress on a terminal and notices
    on stderr; fire ``partition.profiled`` per computed partition at the project's
    triggers; returns the result and the seconds the profile took."""
    parsed = parse_source(spec.source, project.root if project else None)
    started = time.perf_counter()
    with render.progress(enabled=fmt is Format.text) as report:
        result = run_profile(parsed, partition_column=spec.partition_column,
                             granularity=spec.granularity, name=spec.name, store=store,
                             full_refresh=full_refresh, progress=report)
    elapsed = time.perf_counter() - started
    for notice in result.notices:
        render.err.print(f"[yellow]notice:[/] column {notice.column!r}: {notice.message}")
    if project is not None:
        announce_profiled(result, project)
    return result, elapsed
