"""SLO evaluation vs. the summary scan on one 2M-row partition, in one run.

Target: evaluating 50 checks on a 2M-row partition costs at most 1.5x the
summary scan alone. Both sides read the same one-day Parquet file (30 columns,
seeded synthetic events from ``synthetic.py``, 250k-row row groups) and run
without a store, so the ratio compares scan with scan:

- ``profile``: ``watchkeeper.profile(path, partition_column="event_time")``;
- ``evaluate``: ``watchkeeper.slo.evaluate(path, CHECKS, partition_column="event_time")``
  of the 50 checks below (fused scan, duplicate count, custom aggregate SQL,
  violating-row samples for the checks that fail).

Each runs in a fresh process (as ``wk profile`` / ``wk validate`` do), timed after
its imports, in interleaved rounds (A B, A B, ...), best round of each kept.

    .venv/bin/python benchmarks/slo_speed.py             # 2,000,000 rows, best of 3
    .venv/bin/python benchmarks/slo_speed.py --quick     # 50,000 rows, one round
    .venv/bin/python benchmarks/slo_speed.py evaluate FILE   # one contender, once
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml

import synthetic
from measure import HERE, emit, peak_rss_bytes, run_json, timed

import watchkeeper
from watchkeeper.slo import TableSLO, evaluate

PARTITION_COLUMN = "event_time"
SEED = 3
ROW_GROUP = 250_000
SIZES = {"full": {"rows": 2_000_000, "repeat": 3}, "quick": {"rows": 50_000, "repeat": 1}}

# 50 checks a team would declare on this events table: every column's basic
# contract, a few distribution guards, one key, custom SQL. Mostly critical; a few
# are expected to fail (retries > 3, empty browser strings) so the violating-row
# samples are part of the cost, as they are in production.
CHECKS_YAML = r"""
key: [session_id]
checks:
  - {kind: schema, columns: {event_time: timestamp, user_id: integer, price: float,
     country: string, is_mobile: boolean}}
  - {kind: row_count, min: 1000, max: 5000000}
  - {kind: freshness, column: event_time, max_lag: 1h}
  - {kind: not_null, column: event_time}
  - {kind: not_null, column: ingested_at}
  - {kind: not_null, column: user_id}
  - {kind: not_null, column: item_id}
  - {kind: not_null, column: quantity}
  - {kind: not_null, column: price}
  - {kind: not_null, column: amount}
  - {kind: not_null, column: country}
  - {kind: not_null, column: session_id}
  - {kind: between, column: age, min: 0, max: 120}
  - {kind: between, column: quantity, min: 0, max: 100}
  - {kind: between, column: clicks, min: 0, max: 1000}
  - {kind: between, column: latency_ms, min: 0, max: 60000}
  - {kind: between, column: retries, min: 0, max: 3, severity: warning}
  - {kind: between, column: http_status, min: 100, max: 599}
  - {kind: between, column: price, min: 0, strict_min: true, max: 10000}
  - {kind: between, column: amount, min: 0}
  - {kind: between, column: discount, min: 0, max: 1, strict_max: true}
  - {kind: between, column: lat, min: -90, max: 90}
  - {kind: between, column: lon, min: -180, max: 180}
  - {kind: between, column: score, min: 0, max: 1, mostly: 0.99}
  - {kind: between, column: temperature, min: -60, max: 60, severity: warning}
  - {kind: in_set, column: country, values: [US, DE, FR, GB, IN, BR, JP, CA, ES, IT, NL, MX]}
  - {kind: in_set, column: device, values: [ios, android, web, tv]}
  - {kind: in_set, column: status, values: [ok, retry, error, timeout]}
  - {kind: in_set, column: http_status, values: [200, 201, 204, 301, 302, 304, 400, 404, 500]}
  - {kind: in_set, column: category, values: [cat_00, cat_01, cat_02, cat_03, cat_04, cat_05,
     cat_06, cat_07, cat_08, cat_09, cat_10, cat_11, cat_12, cat_13, cat_14, cat_15, cat_16,
     cat_17, cat_18, cat_19, cat_20, cat_21, cat_22, cat_23, cat_24, cat_25, cat_26, cat_27,
     cat_28, cat_29, cat_30, cat_31, cat_32, cat_33, cat_34, cat_35, cat_36, cat_37, cat_38,
     cat_39]}
  - {kind: not_in_set, column: browser, values: [""], mostly: 0.9, severity: warning}
  - {kind: regex, column: session_id, pattern: "^s-[0-9]+$"}
  - {kind: regex, column: url_path, pattern: "^/p/[0-9]+$"}
  - {kind: regex, column: category, pattern: "^cat_[0-9]{2}$", severity: info}
  - {kind: length_between, column: country, min: 2, max: 2}
  - {kind: length_between, column: session_id, min: 3, max: 24}
  - {kind: length_between, column: url_path, min: 4, max: 200}
  - {kind: unique, column: session_id, mostly: 0.9999}
  - {kind: coverage, column: age, min: 0.85}
  - {kind: coverage, column: discount, min: 0.75, severity: warning}
  - {kind: coverage, column: temperature, min: 0.95}
  - {kind: statistic, column: price, statistic: mean, min: 10, max: 50}
  - {kind: statistic, column: score, statistic: mean, min: 0.5, max: 0.7}
  - {kind: statistic, column: latency_ms, statistic: max, max: 60000}
  - {kind: statistic, column: amount, statistic: median, min: 5, max: 100, severity: warning}
  - {kind: statistic, column: url_path, statistic: length_mean, max: 50, severity: info}
  - {name: amount_le_total, kind: sql_row,
     expression: "amount <= quantity * price + 0.01"}
  - {name: ingested_after_event, kind: sql_row, expression: "ingested_at >= event_time"}
  - {name: converted_has_quantity, kind: sql_row, severity: warning, mostly: 0.95,
     expression: "NOT converted OR quantity > 0"}
  - {name: error_rate_below_5pct, kind: sql_aggregate,
     expression: "AVG(CASE WHEN status = 'error' THEN 1.0 ELSE 0.0 END) < 0.05"}
"""
CHECKS = TableSLO.from_dict("events", yaml.safe_load(CHECKS_YAML))


def data_file(rows: int, directory: Path = synthetic.DATA_DIR) -> Path:
    """One day of the synthetic events table as one partition (written once, not timed)."""
    path = directory / f"slo-day-{rows}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        pq.write_table(synthetic.day_table(0, rows, seed=SEED), tmp, row_group_size=ROW_GROUP,
                       compression="snappy")
        os.replace(tmp, path)
    return path


def run_profile(path: str) -> dict:
    result = watchkeeper.profile(path, partition_column=PARTITION_COLUMN)
    return {"partitions": len(result.partitions), "statistics": len(result.statistics)}


def run_evaluate(path: str, slo: TableSLO = CHECKS):
    return evaluate(path, slo, partition_column=PARTITION_COLUMN)


def _evaluate_facts(path: str) -> dict:
    res = run_evaluate(path).results
    return {"results": len(res), "failed": sorted(res.loc[res["passed"].eq(False), "check"]),
            "errors": int(res["error"].notna().sum())}


CONTENDERS = {"profile": run_profile, "evaluate": _evaluate_facts}


def run_one(name: str, path: str) -> dict:
    """Time one contender once in this (fresh) process: wall, CPU and peak RSS."""
    t, extra = timed(lambda: CONTENDERS[name](path))
    return {"name": name, **t.as_dict(), "peak_rss": peak_rss_bytes(), **extra}


def run(path: Path, *, repeat: int, progress=print) -> dict:
    meta = pq.read_metadata(path)
    out: dict = {"file": str(path), "rows": meta.num_rows, "columns": meta.num_columns,
                 "row_groups": meta.num_row_groups, "checks": len(CHECKS.checks),
                 "rounds": repeat, "load_before": _load(),
                 "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    for round_ in range(1, repeat + 1):
        for name in CONTENDERS:
            progress(f"round {round_}/{repeat}: {name} (fresh process)")
            res = run_json([sys.executable, str(HERE / "slo_speed.py"), name, str(path)])
            out.setdefault("runs", {}).setdefault(name, []).append(res["wall_s"])
            if name not in out or res["wall_s"] < out[name]["wall_s"]:
                out[name] = res
    out["load_after"] = _load()
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    for what in ("wall_s", "cpu_s"):
        out[f"ratio_{what[:-2]}"] = round(out["evaluate"][what] / out["profile"][what], 3)
    out["target_met"] = out["ratio_wall"] <= 1.5
    return out


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def report(res: dict) -> str:
    p, e = res["profile"], res["evaluate"]
    lines = [f"{res['rows']:,} rows x {res['columns']} columns, one partition, "
             f"{res['row_groups']} row groups; {res['checks']} checks; best of {res['rounds']} "
             f"fresh-process rounds; load average {res['load_before']} before, "
             f"{res['load_after']} after",
             f"{'entry':<34}{'wall s':>8}{'CPU s':>8}{'peak MiB':>10}",
             f"{'watchkeeper.profile (no store)':<34}{p['wall_s']:>8.2f}{p['cpu_s']:>8.2f}"
             f"{p['peak_rss'] / 2**20:>10.0f}",
             f"{'watchkeeper.slo.evaluate (no store)':<34}{e['wall_s']:>8.2f}{e['cpu_s']:>8.2f}"
             f"{e['peak_rss'] / 2**20:>10.0f}",
             f"evaluate / profile: {res['ratio_wall']:.2f}x wall, {res['ratio_cpu']:.2f}x CPU "
             f"(target <= 1.5x): {'met' if res['target_met'] else 'NOT met'}",
             f"verdicts: {e['results']}, errors: {e['errors']}, failed: {', '.join(e['failed'])}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 rows, one round")
    parser.add_argument("--rows", type=int, help="override the partition's row count")
    parser.add_argument("--repeat", type=int, help="override the number of rounds")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    rows, repeat = args.rows or size["rows"], args.repeat or size["repeat"]
    path = data_file(rows)
    res = run(path, repeat=repeat,
              progress=lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", file=sys.stderr,
                                       flush=True))
    out = synthetic.DATA_DIR / f"slo-results-{rows}.json"
    out.write_text(json.dumps(res, indent=2))
    print(report(res))
    print(f"raw results: {out}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in CONTENDERS:
        emit(run_one(sys.argv[1], sys.argv[2]))  # one contender, as run() calls it
    else:
        main()
