"""``wk ingest``, ``wk read``, ``wk quarantine``, ``wk snapshot``, ``wk versions``: managed tables.

Exit codes follow ``wk validate``: ``wk ingest`` exits 1 when a critical check
failed (rows were quarantined by a failing check, or the batch was rejected);
``wk read`` and ``wk snapshot`` exit 1 when they refuse invalid partitions;
every command exits 2 for bad input.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .._util import json_value as _plain
from ..engine import delta
from ..errors import ConfigError
from ..managed import InvalidPartitionError, managed_table
from . import render
from ._common import Format, FormatOpt, Purpose, _project

PartitionsOpt = Annotated[Optional[list[str]], typer.Option(
    "--partition", help="Partition to read (repeatable); default: all.")]
SinceOpt = Annotated[Optional[str], typer.Option(help="Read partitions from this one on.")]
VersionOpt = Annotated[Optional[int], typer.Option(help="Read as of this table version.")]
AsOfOpt = Annotated[Optional[str], typer.Option(
    "--as-of", help="Read as of this time (ISO 8601, UTC unless it has an offset).")]
AllowOpt = Annotated[bool, typer.Option(help="Read partitions that failed critical checks.")]
ExcludeOpt = Annotated[bool, typer.Option(help="Skip partitions that failed critical checks.")]
ExportOpt = Annotated[Optional[Path], typer.Option(help="Write the rows to this Parquet file.")]


def register(app: typer.Typer) -> None:
    for command in (ingest, read, quarantine, snapshot, versions):
        app.command()(command)


def _table(name: str):
    return managed_table(name, _project())


def _refused(exc: InvalidPartitionError) -> None:
    render.err.print(f"[red]refused:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
    sys.exit(1)  # like wk validate: the data broke its SLO (2 is for bad input)


def _text(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _emit(frame, fmt: Format, title: str, limit: int) -> None:
    """JSON lines of every row, or the first ``limit`` rows as a table."""
    if fmt is Format.json:
        for row in frame.to_dict("records"):
            typer.echo(json.dumps({k: _plain(v) for k, v in row.items()}, default=str))
        return
    first = [c for c in ("_wk_failed_checks", "_wk_row") if c in frame.columns]
    frame = frame[first + [c for c in frame.columns if c not in first]]
    out = Table(*map(str, frame.columns), title=title, title_justify="left")
    for row in frame.head(limit).itertuples(index=False):
        out.add_row(*(escape(_text(_plain(v))) for v in row))
    render.console.print(out)
    if len(frame) > limit:
        render.console.print(f"... {len(frame) - limit:,} more rows (--limit, --format json, "
                             "--export FILE.parquet)")


def ingest(
    table: Annotated[str, typer.Argument(help="A managed table (managed: in watchkeeper.yaml).")],
    file: Annotated[str, typer.Argument(metavar="FILE", help="A Parquet or CSV file.")],
    partition: Annotated[str, typer.Option(help="The partition this batch is, e.g. 2024-01-31.")],
    allow_empty: Annotated[bool, typer.Option(
        "--allow-empty", help="Let zero valid rows replace a partition that has rows.")] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Load FILE as one partition: quarantine bad rows, commit the rest (exit 1: check failed)."""
    managed = _table(table)
    root = managed.project.root if managed.project else None
    path = Path(file).expanduser()
    if not path.is_absolute() and root is not None and not path.exists():
        path = root / path
    result = managed.ingest(str(path), partition=partition, source=file,
                            allow_empty=allow_empty)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        where = (f"version {result.version}" if result.status == "committed"
                 else "[red]rejected[/]: previous version kept")
        render.console.print(
            f"{result.table} {result.partition_key}: {result.rows_in:,} rows in, "
            f"{result.rows_valid:,} committed ({where}), {result.rows_quarantined:,} quarantined"
            f" [dim](ingest {result.ingest_id})[/]")
        if result.failed_critical:
            render.console.print("[red]critical checks failed:[/] "
                                 + escape(", ".join(result.failed_critical)))
        if result.failed_other:
            render.console.print("[yellow]other checks failed:[/] "
                                 + escape(", ".join(result.failed_other)))
        if result.note:
            render.console.print(escape(result.note))
        if result.rows_quarantined:
            render.console.print(f"See them: wk quarantine {table}")
    if not result.ok:
        sys.exit(1)


def read(
    table: Annotated[str, typer.Argument(help="A managed table.")],
    partition: PartitionsOpt = None, since: SinceOpt = None, version: VersionOpt = None,
    as_of: AsOfOpt = None,
    snapshot_id: Annotated[Optional[str], typer.Option(
        "--snapshot", help="Read exactly a recorded snapshot (wk snapshot prints its id).")] = None,
    allow_invalid: AllowOpt = False, exclude_invalid: ExcludeOpt = False,
    for_: Annotated[Optional[Purpose], typer.Option(
        "--for", help="Also ask the gate (learned normal, triggers) whether each partition "
                      "may be used to train or serve.")] = None,
    export: ExportOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows shown as text.")] = 20,
    fmt: FormatOpt = Format.text,
) -> None:
    """Read rows of a managed table (guarded: exit 1 if a partition failed a critical check)."""
    managed = _table(table)
    try:
        rows = managed.read(partitions=partition or None, since=since, version=version,
                            as_of=as_of, snapshot=snapshot_id, allow_invalid=allow_invalid,
                            exclude_invalid=exclude_invalid, on_invalid="raise",
                            for_=for_.value if for_ else None)
    except InvalidPartitionError as exc:
        _refused(exc)
    if export is not None:
        delta.write_parquet(rows, export)
        render.console.print(f"Wrote {rows.num_rows:,} rows to {export}")
        return
    _emit(rows.to_pandas(), fmt, f"{table}: {rows.num_rows:,} rows", limit)


def quarantine(
    table: Annotated[str, typer.Argument(help="A managed table.")],
    partition: PartitionsOpt = None,
    all_batches: Annotated[bool, typer.Option(
        "--all", help="Include batches superseded by a later ingest.")] = False,
    export: ExportOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows shown as text.")] = 20,
    fmt: FormatOpt = Format.text,
) -> None:
    """List or export quarantined rows, with the checks they failed and their ingest."""
    managed = _table(table)
    rows = managed.quarantine(partitions=partition or None, include_superseded=all_batches)
    if export is not None:
        delta.write_parquet(rows, export)
        render.console.print(f"Wrote {rows.num_rows:,} quarantined rows to {export}")
        return
    if rows.num_rows == 0 and fmt is Format.text:
        render.console.print(f"No quarantined rows in {table}.")
        return
    _emit(rows.to_pandas(), fmt, f"{table}: {rows.num_rows:,} quarantined rows", limit)


def snapshot(
    table: Annotated[str, typer.Argument(help="A managed table.")],
    partition: PartitionsOpt = None, since: SinceOpt = None, version: VersionOpt = None,
    as_of: AsOfOpt = None, allow_invalid: AllowOpt = False, exclude_invalid: ExcludeOpt = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Record the chosen partitions at their exact versions; print the snapshot id."""
    managed = _table(table)
    try:
        snap = managed.snapshot(partitions=partition or None, since=since, version=version,
                                as_of=as_of, allow_invalid=allow_invalid,
                                exclude_invalid=exclude_invalid)
    except InvalidPartitionError as exc:
        _refused(exc)
    if fmt is Format.json:
        typer.echo(json.dumps({"snapshot": snap.id, "table": snap.table,
                               "version": snap.version,
                               "partitions": [p for p, _ in snap.partitions]}))
        return
    typer.echo(snap.id)


def versions(
    table: Annotated[str, typer.Argument(help="A managed table.")],
    fmt: FormatOpt = Format.text,
) -> None:
    """Every ingest: version, partition, rows committed and quarantined, failed checks."""
    managed = _table(table)
    frame = managed.versions()
    if frame.empty:
        raise ConfigError(f"managed table {table!r} has no ingest yet: run wk ingest {table} "
                          "FILE --partition P")
    shown = frame[["version", "committed_at", "partition", "status", "rows_valid",
                   "rows_quarantined", "failed_critical", "ingest_id"]].copy()
    shown["partition"] = [managed.spec.grain.format(p) for p in shown["partition"]]
    _emit(shown, fmt, f"{table}: {len(frame)} ingests", limit=len(frame))


__all__ = ["register"]
