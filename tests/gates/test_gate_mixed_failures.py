"""A partition failing a table-level check and a column check at once is judged, never a crash.

Stored SLO results hold no column for a table-level check (``row_count``, ``sql_row``,
``sql_aggregate``); next to a column check's results it reads back as NaN. Every path
that turns results into incidents (``wk gate``, ``wk check``, ``watchkeeper.gate()``,
gated managed reads) must still name both checks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import watchkeeper as wk
from test_gate_cli import wk as run_wk
from watchkeeper.managed import InvalidPartitionError, managed_table

DAYS = 12
CHECKS = [{"kind": "row_count", "min": 20},
          {"name": "items_positive", "kind": "between", "column": "items", "min": 1},
          {"name": "one_row", "kind": "sql_aggregate", "expression": "count(*) > 25"},
          {"name": "sane_items", "kind": "sql_row", "expression": "items < 1000"}]


def _frame() -> pd.DataFrame:
    """Twelve days of 30 rows; the last day has 10 rows, one of them with items = -1 and
    one with items = 5000."""
    rng = np.random.default_rng(3)
    parts = []
    for d in range(DAYS):
        n = 10 if d == DAYS - 1 else 30
        items = rng.integers(1, 9, n)
        if d == DAYS - 1:
            items[0], items[1] = -1, 5000
        parts.append(pd.DataFrame({"day": pd.Timestamp("2024-01-01") + pd.Timedelta(days=d),
                                   "items": items, "price": rng.uniform(1, 9, n)}))
    return pd.concat(parts, ignore_index=True)


LAST = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=DAYS - 1)).date().isoformat()
FAILING = {"row_count", "items_positive", "one_row", "sane_items"}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    _frame().to_parquet(tmp_path / "orders.parquet")
    config = {"version": 1, "store": ".watchkeeper/store.duckdb",
              "tables": {"orders": {"source": "orders.parquet", "partition_column": "day"}},
              "managed": {"feed": {"partition_column": "day"}},
              "slos": {"tables": {"orders": {"checks": CHECKS}, "feed": {"checks": CHECKS}}}}
    (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return tmp_path


class TestTableAndColumnFailures:
    def test_wk_gate_blocks_with_both_reasons(self, project):
        """``wk gate`` exits 1 (blocked) naming the table-level and the column check."""
        run = run_wk("gate", "orders", "--partition", LAST, cwd=project)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        assert "row_count" in run.stdout and "items_positive" in run.stdout

    def test_wk_check_reports_the_incident(self, project):
        """``wk check`` turns the stored results of ``wk validate`` into an incident, without a
        traceback."""
        assert run_wk("validate", "orders", cwd=project).returncode == 1
        run = run_wk("check", "orders", cwd=project)
        assert "Traceback" not in run.stderr, run.stderr
        assert run.returncode in (0, 1), run.stderr
        assert "row_count" in run.stdout and "items_positive" in run.stdout

    def test_gate_api_decides(self, project):
        """``watchkeeper.gate()`` returns a blocked decision whose reasons name all checks."""
        decision = wk.gate("orders", LAST, project=project)
        assert not decision.allowed
        assert {r.check for r in decision.reasons if r.kind == "slo"} == FAILING

    def test_gated_read_refuses_with_reasons(self, project):
        """A gated read of a managed table refuses the partition and names the checks."""
        feed = managed_table("feed", project)
        frame = _frame()
        for day, part in frame.groupby("day"):
            feed.ingest(part.reset_index(drop=True), partition=day)
        with pytest.raises(InvalidPartitionError) as refused:
            feed.read(partitions=[LAST], for_="train", allow_invalid=False)
        assert LAST in refused.value.partitions
        assert any("row_count" in r for r in refused.value.partitions[LAST])
        kept = feed.read(for_="train", exclude_invalid=True, format="pandas")
        assert LAST not in set(kept["day"].dt.date.astype(str))
