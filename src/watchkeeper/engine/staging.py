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

# CSV dates are ISO 8601 or text, in every file (see sources.open_source).
CSV_DATE_FORMAT = "%Y-%m-%d"

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
            con.con.execute(f"COPY (SELECT * FROM read_csv({duck.quote(location)}, "
                            f"dateformat = {duck.quote(CSV_DATE_FORMAT)})) "
                            f"TO {duck.quote(staged.path)} (FORMAT parquet, COMPRESSION snappy)")
    except BaseException:
        staged.remove()
        raise
    return staged


def closing(close: Callable[[], None], staged: Staged) -> Callable[[], None]:
    """``close``, then the staged copy removed (even if ``close`` fails)."""
    def both() -> None:
        try:
            close()
        finally:
            staged.remove()
    return both


