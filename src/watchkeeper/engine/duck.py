"""The embedded DuckDB connections watchkeeper opens for files and frames."""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from contextlib import contextmanager

import ibis

from ..errors import ConfigError

MEMORY_BUDGET_VARIABLE = "WK_MEMORY_BUDGET"

VALUE_COUNT_MEMORY = 128 * 2**20
"""Bytes DuckDB may hold for the value-count query before it spills to disk.

That query keeps one hash-table entry per distinct (column, partition, value): on
the 2M-row benchmark, 2.3 million entries and about 230 MiB, more than the fused
scan. Past this budget DuckDB writes partitions of the table to its temporary
directory, so memory stays flat as the data grows (docs/benchmarks.md). It is
applied only to connections watchkeeper opened, and only when it is lower than the
connection's own limit. The same default as a batch of fused-query states
(``summaries.profile.SUMMARY_STATE_MEMORY``): the two queries run one after the
other, so the larger of them sets the peak."""


def memory_budget_bytes(default: int) -> int:
    """``WK_MEMORY_BUDGET`` in bytes when it is set (``512MiB``, ``2GB``), else ``default``.

    One knob for the memory a query's aggregate state may hold: the value-count
    query's hash tables (spilled past it) and a batch of partitions' fused-query
    states. A machine with memory to spare sets it higher and spills less.
    """
    text = os.environ.get(MEMORY_BUDGET_VARIABLE, "").strip()
    if not text:
        return default
    size = _bytes(text)
    if size == float("inf") or size < 2**20:
        raise ConfigError(f"{MEMORY_BUDGET_VARIABLE}={text!r} is not a memory size of at least "
                          "1 MiB: set it like 512MiB or 2GB, or unset it for the defaults")
    return int(size)


_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def connect(database: str = ":memory:", *, read_only: bool = False):
    """An Ibis DuckDB backend with DuckDB's own progress bar off: watchkeeper draws its
    own on stderr, and DuckDB's would interleave with it (and with ``--format json``).

    An in-memory database would spill to ``.tmp`` in the working directory; it gets
    a private directory under the system's temporary directory instead (DuckDB
    creates it only if it spills, and removes it when the connection closes).
    """
    con = ibis.duckdb.connect(database, read_only=read_only)
    con.raw_sql("SET enable_progress_bar = false")
    con.raw_sql("SET enable_external_file_cache = false")
    if database == ":memory:":
        spill = os.path.join(tempfile.gettempdir(),
                             f"watchkeeper-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        con.raw_sql(f"SET temp_directory = {quote(spill)}")
    return con


def quote(text: str) -> str:
    """A SQL string literal of ``text`` (for paths and settings, never identifiers)."""
    return "'" + text.replace("'", "''") + "'"


def _bytes(setting: str) -> float:
    """DuckDB's spelling of a size (``'18.8 GiB'``) in bytes; +inf if unreadable."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", setting or "")
    if not match or match.group(2).lower() not in _UNITS:
        return float("inf")
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


@contextmanager
def memory_budget(con, limit: int):
    """Lower ``con``'s memory limit to ``limit`` bytes for the block, then set it back.

    ``con`` is None for engines other than DuckDB and for connections watchkeeper
    did not open: nothing changes then. The old limit is set back as DuckDB printed
    it (``'18.8 GiB'``, to a tenth of a unit): RESET would restore the setting but
    not the buffer pool's actual limit (DuckDB 1.5).
    """
    if con is None:
        yield
        return
    raw = con.con  # the duckdb.DuckDBPyConnection under the Ibis backend
    before = raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    if _bytes(before) <= limit:
        yield
        return
    raw.execute(f"SET memory_limit = '{int(limit)}B'")
    try:
        yield
    finally:
        raw.execute(f"SET memory_limit = {quote(before)}")


def is_interrupt(exc: BaseException) -> bool:
    """Whether an engine error is a Ctrl-C that reached the engine mid-query.

    DuckDB turns SIGINT into its own ``InterruptException``; a caller that keeps
    failures as values (one column's notice) must stop the run instead.
    """
    if isinstance(exc, KeyboardInterrupt):
        return True
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a core dependency
        return False
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, (duckdb.InterruptException, KeyboardInterrupt)):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
