"""Row formats (CSV) parsed once: staged as Parquet in a private temporary directory.

A profile runs several queries over its source (row counts, the fused aggregate, the
value counts, duplicate rows). Over a CSV file each of them would parse the text
again; staged, the text is parsed once by DuckDB and every query scans Parquet
columns instead, with footers for the row counts and integer ranges. The staged
copy lives in its own directory under the system's temporary directory, only when
the disk there has room for it (at most the CSV's size, which Parquet rarely
reaches), and is removed when the source is closed, when a query fails, on
Ctrl-C, and at interpreter exit at the latest.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable

from . import duck
from ..errors import SourceError

# CSV dates are ISO 8601 or text, in every file (see sources.open_source).
CSV_DATE_FORMAT = "%Y-%m-%d"

TIMESTAMP_FORMAT_VARIABLE = "WK_CSV_TIMESTAMP_FORMAT"
"""A declared strptime format for every CSV timestamp (``%d/%m/%Y %H:%M``); unset, each
file's is detected by DuckDB, and files that disagree are refused (:func:`csv_options`)."""

STAGE_HEADROOM = 2
"""Free disk the staging directory must have, as a multiple of the CSV files' size."""


class Staged:
    """A staged Parquet copy: ``path``, and ``remove()`` (idempotent; also run when the
    object is collected or the interpreter exits, by ``weakref.finalize``)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, "staged.parquet")
        self._finalizer = weakref.finalize(self, shutil.rmtree, directory, True)

    def remove(self) -> None:
        self._finalizer()


def _size(location: str) -> int:
    if any(ch in location for ch in "*?["):
        return sum(os.path.getsize(f) for f in glob.glob(location) if os.path.isfile(f))
    return os.path.getsize(location)


def stage_csv(con, location: str) -> Staged | None:
    """Parse the CSV file(s) at ``location`` once into a Parquet file; None when the
    temporary directory lacks room for it (the queries then read the CSV itself)."""
    root = tempfile.gettempdir()
    if shutil.disk_usage(root).free < STAGE_HEADROOM * _size(location):
        return None
    staged = Staged(tempfile.mkdtemp(prefix="watchkeeper-stage-", dir=root))
    try:
        # The copy streams: DuckDB holds a few row groups, not the file. Insertion
        # order is kept, so rows of one partition stay together when the file is sorted.
        # Under the same budget as the other large queries (duck.VALUE_COUNT_MEMORY).
        with duck.memory_budget(con, duck.memory_budget_bytes(duck.VALUE_COUNT_MEMORY)):
            options = "".join(f", {name} = {duck.quote(value)}"
                              for name, value in csv_options(con, location).items())
            con.con.execute(f"COPY (SELECT * FROM read_csv({duck.quote(location)}{options})) "
                            f"TO {duck.quote(staged.path)} (FORMAT parquet, COMPRESSION snappy)")
    except BaseException:
        staged.remove()
        raise
    return staged


def csv_options(con, location: str) -> dict[str, str]:
    """The reader options every file of a CSV source is read with: one rule for the whole
    source, never one reading per file.

    Dates are ISO 8601 or text. Timestamps follow ``WK_CSV_TIMESTAMP_FORMAT`` when it is
    set. Otherwise DuckDB detects each file's format from its values, so
    ``01/02/2024 13:00`` could be read day-first in one file (which also holds
    ``13/02/2024``) and month-first in the next; files whose detected formats
    differ are refused, naming the column and both readings, before any row is read.
    """
    options = {"dateformat": CSV_DATE_FORMAT}
    declared = os.environ.get(TIMESTAMP_FORMAT_VARIABLE, "").strip()
    if declared:
        if "%" not in declared:
            raise SourceError(f"{TIMESTAMP_FORMAT_VARIABLE}={declared!r} is not a strptime "
                              "format: set it like '%d/%m/%Y %H:%M', or unset it")
        options["timestampformat"] = declared
        return options
    files = sorted(glob.glob(location)) if any(ch in location for ch in "*?[") else [location]
    if len(files) < 2:
        return options
    seen: dict[str, tuple[str, list[str]]] = {}  # format -> (first file, its timestamp columns)
    for path in files:
        try:
            fmt, columns = con.con.execute(
                "SELECT TimestampFormat, Columns FROM sniff_csv(?, dateformat := ?)",
                [path, CSV_DATE_FORMAT]).fetchone()
        except Exception as exc:
            if duck.is_interrupt(exc):
                raise
            continue  # an unreadable file fails the read itself, with its own message
        if not fmt:
            continue  # ISO 8601 (or no timestamp): read the same in every file
        stamps = [c["name"] for c in columns if c["type"].startswith("TIMESTAMP")]
        seen.setdefault(fmt, (path, stamps))
        if len(seen) > 1:
            (fmt_a, (file_a, cols_a)), (fmt_b, (file_b, cols_b)) = list(seen.items())[:2]
            names = [c for c in cols_a if c in cols_b] or cols_a or cols_b
            column = ", ".join(repr(c) for c in names) or "a timestamp column"
            raise SourceError(
                f"CSV column {column} reads as {fmt_a} in {os.path.basename(file_a)} but as "
                f"{fmt_b} in {os.path.basename(file_b)}: declare one format, e.g. "
                f"{TIMESTAMP_FORMAT_VARIABLE}='{fmt_a}', or write the timestamps as ISO 8601 "
                "(2024-02-01 13:00:00)")
    return options


def closing(close: Callable[[], None], staged: Staged) -> Callable[[], None]:
    """``close``, then the staged copy removed (even if ``close`` fails)."""
    def both() -> None:
        try:
            close()
        finally:
            staged.remove()
    return both


