"""Partition summaries on one Parquet file: watchkeeper against every baseline, one run.

Each entry times the same work on the same file in the same run, so the ratios
are comparable even on a shared machine:

- ``watchkeeper.profile`` (the real code path), without a store and with one;
- the same statistics as one hand-written DuckDB SQL aggregate + top-k query,
  in its textbook FILTER form and in the CASE form watchkeeper compiles to;
- pandas ``describe()`` + ``isna().mean()`` per partition, whylogs and
  Evidently (the last two in ``benchmarks/.venv-peers``, as subprocesses);
- a raw columnar pass: read the columns once with Arrow, reduce with numpy;
- peak memory of a profile in a fresh process, against the data's Arrow size.

    .venv/bin/python benchmarks/profile_speed.py benchmarks/.data/events-2010000x30.parquet
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import handwritten
import peers as peer_tools
from measure import HERE, PEERS_PYTHON, run_json, timed

import watchkeeper

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


def _memory(path: str) -> dict:
    probe = [sys.executable, str(HERE / "memory_probe.py")]
    base = run_json(probe + ["baseline", path])
    prof = run_json(probe + ["profile", path])
    return {"baseline_rss": base["peak_rss"], "profile_rss": prof["peak_rss"]}


def run(path: str, *, repeat: int = 3, peers=("whylogs", "evidently"),
        progress=print) -> dict:
    """All measurements on ``path``; returns a JSON-ready dict (see run.py for the table).

    The in-process contenders (watchkeeper, SQL, raw pass, pandas) run in interleaved rounds (A B C, A B C, ...) and
    each keeps its fastest round, so a burst of load from other jobs on the
    shared machine does not land on one contender only.
    """
    meta = pq.read_metadata(path)
    results: dict = {"file": path, "rows": meta.num_rows, "columns": meta.num_columns,
                     "rounds": repeat}
    con = duckdb.connect()
    with tempfile.TemporaryDirectory() as store_dir:
        contenders = {
            "watchkeeper": lambda: watchkeeper_profile(path),
            "watchkeeper_store": lambda: watchkeeper_profile(path, store_dir),
            "sql_case": lambda: handwritten.run(path, PARTITION_COLUMN, "case", con),
            "sql_filter": lambda: handwritten.run(path, PARTITION_COLUMN, "filter", con),
            "raw_pass": lambda: raw_columnar_pass(path),
            # pandas is in our venv, so it runs in the rounds too (same code as peers.py)
            "pandas": lambda: peer_tools.pandas_describe(
                peer_tools.partitions(path, PARTITION_COLUMN)),
        }
        best: dict = {}
        for round_ in range(1, repeat + 1):
            for name, fn in contenders.items():
                progress(f"round {round_}/{repeat}: {name}")
                t, out = timed(fn)
                if name not in best or t.wall < best[name][0].wall:
                    best[name] = (t, out)
    con.close()
    for name, (t, _) in best.items():
        results[name] = t.as_dict()
    profiled = best["watchkeeper"][1]
    results["watchkeeper"] |= {"partitions": len(profiled.partitions),
                               "statistics": len(profiled.statistics)}
    results["arrow_nbytes"] = best["raw_pass"][1]
    progress("peak memory (fresh processes)")
    results["memory"] = _memory(path)
    for tool in peers:
        progress(f"{tool} (subprocess)")
        results[tool] = _peer(tool, path)
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(sys.argv[1], progress=lambda s: print(s, file=sys.stderr)), indent=2))
