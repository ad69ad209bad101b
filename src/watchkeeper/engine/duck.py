"""The embedded DuckDB connections watchkeeper opens for files and frames."""

from __future__ import annotations

import ibis


def connect(database: str = ":memory:", *, read_only: bool = False):
    """An Ibis DuckDB backend with DuckDB's own progress bar off: watchkeeper draws its
    own on stderr, and DuckDB's would interleave with it (and with ``--format json``)."""
    con = ibis.duckdb.connect(database, read_only=read_only)
    con.raw_sql("SET enable_progress_bar = false")
    return con
