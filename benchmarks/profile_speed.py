"""Partition summaries on one Parquet file: watchkeeper against every baseline, one run.

Each entry times the same work on the same file in the same run, so the ratios
are comparable even on a shared machine:

- ``watchkeeper.profile`` (the real code path), without a store and with one;
- the same statistics as one hand-written DuckDB SQL aggregate + top-k query,
  in its textbook FILTER form and in the CASE form watchkeeper compiles to;
- pandas ``describe()`` + ``isna().mean()`` per partition (and, for scale, pandas
  computing watchkeeper's statistics), whylogs and
  Evidently (the last two in ``benchmarks/.venv-peers``, as subprocesses);
- a raw columnar pass: read the columns once with Arrow, reduce with numpy;
- peak memory of a profile in a fresh process, against the data's Arrow size.

    .venv/bin/python benchmarks/profile_speed.py benchmarks/.data/events-2010000x30.parquet
    .venv/bin/python benchmarks/profile_speed.py watchkeeper FILE   # one contender, once
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import handwritten
import peers as peer_tools
from measure import HERE, PEERS_PYTHON, emit, peak_rss_bytes, run_json, timed

import watchkeeper

# Every contender is timed after its imports (pandas' and Arrow's are not timed either).
# Ibis imports its DuckDB backend lazily, on the first connect: 0.3 s of importing
# sqlglot dialects and Ibis compilers that would otherwise land inside watchkeeper's
# timing only. Loading it here keeps the comparison to the work itself; the
# hand-written SQL and the raw pass import DuckDB and Arrow at the top as well.
ibis.duckdb  # noqa: B018

PARTITION_COLUMN = "event_time"


def watchkeeper_profile(path: str, store_dir: str | None = None):
    """The real code path; with ``store_dir``, results are saved (full refresh each time)."""
    if store_dir is None:
        return watchkeeper.profile(path, partition_column=PARTITION_COLUMN)
    store = watchkeeper.Store.open(Path(store_dir) / "store.duckdb")
    return watchkeeper.profile(path, partition_column=PARTITION_COLUMN, name="events",
                               store=store, full_refresh=True)


def raw_columnar_pass(path: str) -> int:
    """Read every column once; per day: null count, and min/max/sum or length stats.

    This is close to the physical limit of any summary: decode the bytes, touch
    each value once. It computes far fewer statistics than watchkeeper.
    """
    table = pq.read_table(path)
    days = table[PARTITION_COLUMN].to_numpy().astype("datetime64[D]")
    bounds = np.flatnonzero(np.diff(days.astype("int64"))) + 1  # the file is sorted by time
    edges = [0, *bounds.tolist(), table.num_rows]
    for lo, hi in zip(edges[:-1], edges[1:]):
        part = table.slice(lo, hi - lo)
        for column in part.columns:
            column.null_count
            t = column.type
            if pa.types.is_string(t):
                lengths = pc.utf8_length(column)
                pc.min_max(lengths), pc.sum(lengths)
            elif pa.types.is_boolean(t):
                pc.sum(column)
            elif pa.types.is_integer(t) or pa.types.is_floating(t):
                values = column.to_numpy()
                np.nanmin(values), np.nanmax(values), np.nansum(values)
    return table.nbytes


def _peer(tool: str, path: str) -> dict:
    python = sys.executable if tool == "pandas" else str(PEERS_PYTHON)
    if tool != "pandas" and not PEERS_PYTHON.exists():
        return {"error": "benchmarks/.venv-peers is missing: run make bench-peers"}
    try:
        return run_json([python, str(HERE / "peers.py"), tool, path, PARTITION_COLUMN])
    except Exception as exc:  # a peer failing must not hide watchkeeper's numbers
        return {"error": str(exc)}


def _contenders(path: str, workdir: str) -> dict:
    """Each contender as a no-argument callable returning extra facts to record."""

    def wk():
        result = watchkeeper_profile(path)
        return {"partitions": len(result.partitions), "statistics": len(result.statistics)}

    return {
        "imports": lambda: ibis.duckdb.connect().disconnect() or {},  # the memory baseline
        "watchkeeper": wk,
        "watchkeeper_store": lambda: watchkeeper_profile(path, workdir) and {},
        "sql_case": lambda: handwritten.run(path, PARTITION_COLUMN, "case") and {},
        "sql_filter": lambda: handwritten.run(path, PARTITION_COLUMN, "filter") and {},
        "raw_pass": lambda: {"arrow_nbytes": raw_columnar_pass(path)},
        "pandas": lambda: peer_tools.pandas_describe(
            peer_tools.partitions(path, PARTITION_COLUMN)) and {},
        "pandas_same": lambda: peer_tools.pandas_same_statistics(
            peer_tools.partitions(path, PARTITION_COLUMN)) and {},
    }


def run_one(name: str, path: str) -> dict:
    """Time one contender once in this (fresh) process: wall, CPU and peak RSS."""
    warnings.simplefilter("ignore", RuntimeWarning)  # numpy/pandas on NaN and inf: expected
    with tempfile.TemporaryDirectory() as workdir:
        fn = _contenders(path, workdir)[name]
        t, extra = timed(fn)
    return {"name": name, **t.as_dict(), "peak_rss": peak_rss_bytes(), **(extra or {})}


def run(path: str, *, repeat: int = 3, peers=("whylogs", "evidently"),
        progress=print) -> dict:
    """All measurements on ``path``; returns a JSON-ready dict (see run.py for the table).

    Every contender runs in a fresh process, as a ``wk profile`` does, timed after
    its imports (a warm process would flatter whoever reuses its allocations). They
    run in interleaved rounds (A B C, A B C, ...) and each keeps its fastest round,
    so a burst of load from other jobs on the shared machine does not land on one
    contender only. Peak memory is the largest over the rounds.
    """
    meta = pq.read_metadata(path)
    results: dict = {"file": path, "rows": meta.num_rows, "columns": meta.num_columns,
                     "rounds": repeat}
    names = list(_contenders(path, "."))
    for round_ in range(1, repeat + 1):
        for name in names:
            if name == "imports" and round_ > 1:
                continue
            progress(f"round {round_}/{repeat}: {name} (fresh process)")
            out = run_json([sys.executable, str(HERE / "profile_speed.py"), name, path])
            best = results.get(name)
            peak = max(out["peak_rss"], best["peak_rss"]) if best else out["peak_rss"]
            if best is None or out["wall_s"] < best["wall_s"]:
                results[name] = out
            results[name]["peak_rss"] = peak
    results["arrow_nbytes"] = results["raw_pass"]["arrow_nbytes"]
    results["memory"] = {"baseline_rss": results["imports"]["peak_rss"],
                         "profile_rss": results["watchkeeper"]["peak_rss"]}
    for tool in peers:
        progress(f"{tool} (subprocess)")
        results[tool] = _peer(tool, path)
    return results


if __name__ == "__main__":
    if len(sys.argv) == 3 and not sys.argv[1].endswith(".parquet"):
        emit(run_one(sys.argv[1], sys.argv[2]))  # one contender, as run() calls it
    else:
        import json

        print(json.dumps(run(sys.argv[1], progress=lambda m: print(m, file=sys.stderr)),
                         indent=2))
