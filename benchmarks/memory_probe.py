"""Peak memory of one profile, measured in a fresh process.

    python benchmarks/memory_probe.py baseline FILE   # imports and engine start-up only
    python benchmarks/memory_probe.py profile FILE    # the same, then watchkeeper.profile

The peak resident set size covers Python, the imported libraries and DuckDB's
native memory alike. ``profile - baseline`` is what the profile itself costs.
"""

from __future__ import annotations

import sys

import ibis

from measure import emit, peak_rss_bytes

import watchkeeper


def main() -> None:
    mode, path = sys.argv[1:3]
    if mode == "profile":
        result = watchkeeper.profile(path, partition_column="event_time")
        assert len(result.partitions) > 0
    else:
        ibis.duckdb.connect().disconnect()  # load the engine, as a profile does
    emit({"mode": mode, "peak_rss": peak_rss_bytes()})


if __name__ == "__main__":
    main()
