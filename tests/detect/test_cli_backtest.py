"""``wk backtest``: JSON lines per partition, a human summary, and exit 2 on bad input."""

from __future__ import annotations

import json

import pytest
from cli_helpers import run, write_orders


@pytest.fixture
def orders(tmp_path, monkeypatch):
    return write_orders(tmp_path, monkeypatch)


class TestBacktestCommand:
    def test_json_is_one_object_per_partition(self, orders, capsys):
        """--format json prints 40 JSON lines, dates in order, with the contract's keys."""
        code, out, _ = run(["backtest", str(orders), "--partition-column", "order_date",
                            "--format", "json"], capsys)
        assert code == 0
        records = [json.loads(line) for line in out.splitlines()]
        assert len(records) == 40
        assert [r["partition"] for r in records] == sorted(r["partition"] for r in records)
        assert records[0] == {"partition": "2023-01-02", "severity": "ok", "score": 0.0,
                              "columns": []}

    def test_text_ends_with_the_summary(self, orders, capsys):
        """The human format ends with alerts per week and the noisiest columns."""
        code, out, _ = run(["backtest", str(orders), "--partition-column", "order_date",
                            "--false-alarms", "1 per 30"], capsys)
        assert code == 0
        assert "per week on average" in out and "noisiest columns" in out

    def test_missing_partition_column_exits_2(self, orders, capsys):
        """A path without --partition-column is a one-line error and exit code 2."""
        code, _, err = run(["backtest", str(orders)], capsys)
        assert code == 2 and "--partition-column" in err and len(err.strip().splitlines()) == 1

    def test_wrong_partition_column_exits_2(self, orders, capsys):
        """A partition column that does not exist is a one-line error and exit code 2."""
        code, _, err = run(["backtest", str(orders), "--partition-column", "nope"], capsys)
        assert code == 2 and "nope" in err

    def test_bad_budget_is_a_usage_error(self, orders, capsys):
        """A --false-alarms that is not a budget is a one-line error with exit code 2."""
        code, _, err = run(["backtest", str(orders), "--partition-column", "order_date",
                            "--false-alarms", "often"], capsys)
        assert code == 2 and "1 per 90" in err and len(err.strip().splitlines()) == 1

    def test_summary_reports_the_rate_against_the_budget(self, orders, capsys):
        """--summary gives one JSON record: alerts, the realized rate and the budget."""
        code, out, _ = run(["backtest", str(orders), "--partition-column", "order_date",
                            "--false-alarms", "1 per 30", "--format", "json", "--summary"],
                           capsys)
        assert code == 0
        [record] = [json.loads(line) for line in out.splitlines()]
        assert record["budget"] == "1 per 30" and record["budget_rate"] == round(1 / 30, 5)
        assert record["judged"] > 0 and record["alert_rate"] == round(
            record["alerts"] / record["judged"], 5)
