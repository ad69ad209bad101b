"""SLO results in the metadata store: one row per (table, check, partition).

Re-evaluating a partition replaces that partition's results for the checks
evaluated, in one transaction, so history never holds two verdicts for one pair.
"""

from __future__ import annotations

import pandas as pd

from .store import Store

_COLUMNS = ["check_name", "partition_start", "kind", "column_name", "severity", "passed",
            "observed", "unexpected_count", "element_count", "unexpected_fraction", "sample",
            "error"]


def save_results(store: Store, table: str, results: pd.DataFrame) -> None:
    """Replace the stored verdicts of the (check, partition) pairs in ``results``."""
    if results.empty:
        return
    now = pd.Timestamp.utcnow().tz_localize(None)
    rows = pd.DataFrame({
        "table_name": table,
        "check_name": results["check"].astype(str),
        "partition_start": pd.to_datetime(results["partition"]),
        "kind": results["kind"].astype(str),
        "column_name": results["column"].astype(object),
        "severity": results["severity"].astype(str),
        "passed": results["passed"].astype(object),
        "observed": pd.to_numeric(results["observed"], errors="coerce").astype("float64"),
        "unexpected_count": pd.to_numeric(results["unexpected_count"]).astype("Int64"),
        "element_count": pd.to_numeric(results["element_count"]).astype("Int64"),
        "unexpected_fraction": pd.to_numeric(results["unexpected_fraction"],
                                             errors="coerce").astype("float64"),
        "sample": results["sample"].astype(object),
        "error": results["error"].astype(object),
        "evaluated_at": now,
    })
    rows = rows.astype(object).where(rows.notna(), None)
    rows["partition_start"] = pd.to_datetime(rows["partition_start"])
    rows["evaluated_at"] = pd.to_datetime(rows["evaluated_at"])
    pairs = sorted({(c, p.to_pydatetime()) for c, p in zip(rows["check_name"],
                                                           rows["partition_start"])})
    with store._connect() as db, db.transaction():
        for i in range(0, len(pairs), 200):  # batched: one statement per 200 pairs
            batch = pairs[i:i + 200]
            terms = " OR ".join("(check_name = ? AND partition_start = ?)" for _ in batch)
            db.execute(f"DELETE FROM wk_slo_results WHERE table_name = ? AND ({terms})",
                       [table, *(v for pair in batch for v in pair)])
        db.insert_frame("wk_slo_results", rows)


def load_results(store: Store, table: str | None = None, *, check: str | None = None
                 ) -> pd.DataFrame:
    """Stored verdicts, oldest partition first: ``table, check, partition, ...``."""
    return store.fetch_filtered(
        "SELECT table_name AS \"table\", check_name AS \"check\", partition_start AS partition,"
        " kind, column_name AS \"column\", severity, passed, observed, unexpected_count,"
        " element_count, unexpected_fraction, sample, error, evaluated_at FROM wk_slo_results",
        {"table_name": table, "check_name": check}, "table_name, check_name, partition_start")
