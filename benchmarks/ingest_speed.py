"""Ingest with enforcement vs. plain loads of the same 2M-row file, in one run.

Target: ``ManagedTable.ingest`` with 10 critical row-level checks costs
at most 2x a plain DuckDB ``INSERT INTO ... SELECT * FROM read_parquet(...)``.
Every entry loads the same one-day Parquet file (30 columns, seeded synthetic
data from ``synthetic.py``); each is run ``--repeat`` times into a fresh target
and the fastest run is kept (wall and CPU seconds):

- ``duckdb_insert``: the baseline the issue names, into a DuckDB database file;
- ``duckdb_copy_parquet``: DuckDB writing the same rows as Parquet (the storage
  format a Delta table uses), for a like-for-like write;
- ``delta_write``: the same rows written as a Delta table by delta-rs, no checks;
- ``watchkeeper_ingest``: the real path (load, 10 checks + built-in partition
  check evaluated and flagged, quarantine file, Delta commit, store commit,
  results saved), first ingest into an empty table;
- ``watchkeeper_reingest``: the same file again over the committed partition.

    .venv/bin/python benchmarks/ingest_speed.py [--rows 2000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import write_deltalake

import synthetic
from measure import timed

from watchkeeper.managed import managed_table
from watchkeeper.slo import TableSLO

CHECKS = (TableSLO("events")
          .not_null("event_time").not_null("user_id")
          .between("price", min=0, strict_min=True)
          .between("retries", min=0, max=3)
          .between("age", min=0, max=120)
          .in_set("country", values=list(synthetic._COUNTRIES))
          .in_set("device", values=list(synthetic._DEVICES))
          .in_set("status", values=list(synthetic._STATUSES))
          .regex("session_id", pattern="^s-[0-9]+$")
          .length_between("category", min=6, max=6))


def data_file(rows: int) -> Path:
    path = synthetic.DATA_DIR / f"ingest-day-{rows}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        table = synthetic.day_table(0, rows, seed=11)
        pq.write_table(table, path.with_suffix(".tmp"), row_group_size=250_000,
                       compression="snappy")
        path.with_suffix(".tmp").rename(path)
    return path


def duckdb_insert(path: Path, work: Path) -> None:
    con = duckdb.connect(str(work / "plain.duckdb"))
    con.execute("CREATE TABLE events AS SELECT * FROM read_parquet(?) LIMIT 0", [str(path)])
    con.execute("INSERT INTO events SELECT * FROM read_parquet(?)", [str(path)])
    con.close()


def duckdb_copy(path: Path, work: Path) -> None:
    con = duckdb.connect()
    # COPY takes no bound parameters for its target; both paths are our own temp files.
    con.execute(f"COPY (SELECT * FROM read_parquet('{path}')) TO '{work / 'copy.parquet'}' "
                "(FORMAT parquet)")
    con.close()


def delta_write(path: Path, work: Path) -> None:
    table = pq.read_table(path)
    table = table.append_column("_wk_partition", pa.repeat(pa.scalar("2024-01-01"),
                                                           table.num_rows))
    write_deltalake(str(work / "delta"), table, partition_by=["_wk_partition"])


def ingest(path: Path, work: Path):
    table = managed_table("events", partition_column="event_time", slo=CHECKS, root=work)
    return table.ingest(str(path), partition="2024-01-01")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = data_file(args.rows)
    base = Path(tempfile.mkdtemp(prefix="wk-ingest-bench-"))
    results: dict = {"rows": args.rows, "file_mb": round(path.stat().st_size / 1e6, 1),
                     "checks": len(CHECKS.checks)}
    try:
        def fresh(name):
            def setup():
                shutil.rmtree(base / name, ignore_errors=True)
                (base / name).mkdir()
            return setup

        for name, fn in (("duckdb_insert", duckdb_insert), ("duckdb_copy_parquet", duckdb_copy),
                         ("delta_write", delta_write), ("watchkeeper_ingest", ingest)):
            timing, out = timed(lambda fn=fn, name=name: fn(path, base / name),
                                repeat=args.repeat, setup=fresh(name))
            results[name] = timing.as_dict()
            print(name, timing.as_dict(), flush=True)
        results["quarantined_rows"] = out.rows_quarantined
        timing, _ = timed(lambda: ingest(path, base / "watchkeeper_ingest"), repeat=args.repeat)
        results["watchkeeper_reingest"] = timing.as_dict()
        for name in ("watchkeeper_ingest", "watchkeeper_reingest"):
            for what in ("wall_s", "cpu_s"):
                results[f"{name}_vs_insert_{what[:-2]}"] = round(
                    results[name][what] / results["duckdb_insert"][what], 2)
            results[f"{name}_vs_delta_write_wall"] = round(
                results[name]["wall_s"] / results["delta_write"]["wall_s"], 2)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
