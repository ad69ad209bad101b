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
file's is detected by DuckDB, and files that disagree, or a day/month format no value
decides, are refused (:func:`csv_options`)."""

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
            reading, undecided = _reading(con, location)
            options = "".join(f", {name} = {duck.quote(value)}"
                              for name, value in reading.items())
            con.con.execute(f"COPY (SELECT * FROM read_csv({duck.quote(location)}{options})) "
                            f"TO {duck.quote(staged.path)} (FORMAT parquet, COMPRESSION snappy)")
            if undecided is not None:  # decided by the staged columns, not a second parse
                undecided.refuse_if_undecided(con.read_parquet(staged.path))
    except BaseException:
        staged.remove()
        raise
    return staged


def csv_options(con, location: str) -> dict[str, str]:
    """The reader options every file of a CSV source is read with: one rule for the whole
    source, never one reading per file, nor one reading per ``wk ingest`` of one file.

    Dates are ISO 8601 or text. Timestamps follow ``WK_CSV_TIMESTAMP_FORMAT`` when it is
    set. Otherwise DuckDB detects each file's format from its values, so
    ``01/02/2024 13:00`` could be read day-first in one file (which also holds
    ``13/02/2024``) and month-first in the next; files whose detected formats
    differ are refused, naming the column and both readings, before any row is read.
    A detected day/month format that the values do not decide (no day above 12, so
    every value also reads with day and month swapped) is refused too
    (:class:`Undecided`), since the next file alone could be read the other way.
    """
    options, undecided = _reading(con, location)
    if undecided is not None:
        undecided.refuse_if_undecided(con.read_csv(location, **options))
    return options


class Undecided:
    """A detected timestamp format with both a numeric day and month (``%d/%m/%Y ...``):
    the values decide it only when one of them has a day above 12."""

    def __init__(self, location: str, fmt: str, columns: list[str]) -> None:
        self.location, self.fmt, self.columns = location, fmt, columns

    @staticmethod
    def possible(fmt: str) -> bool:
        return "%d" in fmt and "%m" in fmt

    def refuse_if_undecided(self, table) -> None:
        """Raise :class:`SourceError` when every value of a timestamp column of ``table``
        (an Ibis table of the source read in ``fmt``) would also read with day and month
        swapped."""
        columns = [c for c in self.columns
                   if c in table.columns and table[c].type().is_timestamp()]
        if not columns:
            return
        # A value read as day d, month m reads swapped as day m, month d: a valid date
        # exactly when d <= 12 (m <= 12 is a day of every month). One scan, every column.
        highest = table.aggregate(**{f"c{i}": table[c].day().max()
                                     for i, c in enumerate(columns)}).execute()
        for i, column in enumerate(columns):
            day = highest[f"c{i}"].iloc[0]
            if day == day and day is not None and day <= 12:  # NaN: no value at all
                raise SourceError(self._message(column))

    def _message(self, column: str) -> str:
        swapped = self.fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
        name = os.path.basename(self.location) or self.location
        return (f"CSV column {column!r} in {name} reads as {self.fmt} or as {swapped} (no "
                f"day is above 12), and the next file could be read the other way: declare "
                f"the format, e.g. {TIMESTAMP_FORMAT_VARIABLE}='{self.fmt}', or write the "
                "timestamps as ISO 8601 (2024-02-01 13:00:00)")


def _reading(con, location: str) -> tuple[dict[str, str], Undecided | None]:
    """The reader options (:func:`csv_options`), and the detected format still to be
    decided by the values, if any."""
    options = {"dateformat": CSV_DATE_FORMAT}
    declared = os.environ.get(TIMESTAMP_FORMAT_VARIABLE, "").strip()
    if declared:
        if "%" not in declared:
            raise SourceError(f"{TIMESTAMP_FORMAT_VARIABLE}={declared!r} is not a strptime "
                              "format: set it like '%d/%m/%Y %H:%M', or unset it")
        options["timestampformat"] = declared
        return options, None
    files = sorted(glob.glob(location)) if any(ch in location for ch in "*?[") else [location]
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
    if len(seen) == 1:
        fmt, (path, stamps) = next(iter(seen.items()))
        if Undecided.possible(fmt):
            # Read in the detected format, every file; the values then decide it or not.
            options["timestampformat"] = fmt
            return options, Undecided(path if len(files) == 1 else location, fmt, stamps)
    return options, None


def closing(close: Callable[[], None], staged: Staged) -> Callable[[], None]:
    """``close``, then the staged copy removed (even if ``close`` fails)."""
    def both() -> None:
        try:
            close()
        finally:
            staged.remove()
    return both


