"""Incremental refresh: one new day on a 365-day table, against profiling that day alone.

The table is a landing zone of one Parquet file per day read through a glob,
as pipelines write it. Steps, each on a fresh store:

1. profile the 365 days into a store (timed, for the record);
2. a new day lands as one more file; refresh through the same glob (timed):
   count rows per partition over the whole glob (the late-data check), then
   summarize only the new day;
3. profile the new day's file alone into an empty store (timed).

The target is step 2 <= 1.5 x step 3: a refresh costs about one day, not a rescan.

    .venv/bin/python benchmarks/refresh.py --rows-per-day 10000
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import synthetic
from measure import HERE, emit, peak_rss_bytes, run_json, timed

import watchkeeper

DAYS = 365


def landing_zone(rows_per_day: int, days: int = DAYS) -> tuple[Path, Path]:
    """The directory of ``days`` daily files, and the next day's file kept aside."""
    root = synthetic.DATA_DIR / f"landing-{rows_per_day}x{days}"
    history, incoming = root / "history", root / "incoming"
    if not (root / "complete").exists():  # generation is not timed and happens once
        shutil.rmtree(root, ignore_errors=True)
        synthetic.write_days(history, rows_per_day=rows_per_day, days=days)
        synthetic.write_days(incoming, rows_per_day=rows_per_day, days=1, first_day=days)
        (root / "complete").touch()
    return history, next(incoming.glob("*.parquet"))


def _profile(source: str, store_path: Path):
    store = watchkeeper.Store.open(store_path)
    return watchkeeper.profile(source, partition_column=synthetic.PARTITION_COLUMN,
                               name="events", store=store)


def first_profile_memory(glob: str) -> dict:
    """In this (fresh) process: profile the whole landing zone at once, without a store.

    The long-history case of the memory target: a first profile holds the aggregate
    states of every partition it summarizes at once unless it batches them.
    """
    import pyarrow.dataset as ds

    t, result = timed(lambda: watchkeeper.profile(glob, partition_column=synthetic.PARTITION_COLUMN))
    peak = peak_rss_bytes()
    arrow = ds.dataset(glob.rsplit("/", 1)[0], format="parquet").to_table().nbytes
    return {**t.as_dict(), "peak_rss": peak, "arrow_nbytes": arrow,
            "partitions": len(result.partitions)}


def run(rows_per_day: int, *, days: int = DAYS, repeat: int = 3, progress=print) -> dict:
    history, new_day = landing_zone(rows_per_day, days)
    results: dict = {"days": days, "rows_per_day": rows_per_day}
    progress(f"first profile of {days} days at once, peak memory (fresh process)")
    results["memory"] = run_json([sys.executable, str(HERE / "refresh.py"), "--memory",
                                  str(history / "*.parquet")])
    with tempfile.TemporaryDirectory() as tmp:
        zone = Path(tmp) / "zone"
        shutil.copytree(history, zone)
        glob = str(zone / "*.parquet")
        store_path = Path(tmp) / "store.duckdb"
        progress(f"profile {days} days into a store")
        t, first = timed(lambda: _profile(glob, store_path))
        results["initial"] = t.as_dict() | {"refreshed": len(first.refreshed)}

        shutil.copy(new_day, zone / new_day.name)
        snapshot = Path(tmp) / "after-initial.duckdb"
        shutil.copy(store_path, snapshot)

        alone = Path(tmp) / "alone.duckdb"
        contenders = {
            # every round refreshes the same state: the store as the first profile left it
            "refresh": (lambda: _profile(glob, store_path),
                        lambda: shutil.copy(snapshot, store_path)),
            "one_day_alone": (lambda: _profile(str(new_day), alone),
                              lambda: alone.unlink(missing_ok=True)),
        }
        best: dict = {}
        for round_ in range(1, repeat + 1):  # interleaved, as in profile_speed.py
            for name, (fn, reset) in contenders.items():
                progress(f"round {round_}/{repeat}: {name.replace('_', ' ')}")
                t, out = timed(fn, setup=reset)
                if name not in best or t.wall < best[name][0].wall:
                    best[name] = (t, out)
        again = best["refresh"][1]
        assert len(again.refreshed) == 1, "a new day must refresh exactly one partition"
        results["refresh"] = best["refresh"][0].as_dict() | {
            "refreshed": len(again.refreshed), "partitions": len(again.partitions)}
        results["one_day_alone"] = best["one_day_alone"][0].as_dict()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows-per-day", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--memory", metavar="GLOB",
                        help="only: peak memory of a first profile of GLOB (one JSON line)")
    args = parser.parse_args()
    if args.memory:
        emit(first_profile_memory(args.memory))
    else:
        print(json.dumps(run(args.rows_per_day, days=args.days), indent=2))
