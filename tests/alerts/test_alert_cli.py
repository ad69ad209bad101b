"""``wk check`` and ``wk alerts`` through the real CLI entry point."""

from __future__ import annotations

import json

import pytest
from watchkeeper.store import Store

from cli_helpers import run, write_orders


@pytest.fixture
def orders(tmp_path, monkeypatch):
    """40 days of synthetic orders whose last day has 60% of ``amount`` set to null."""
    monkeypatch.setenv("WK_USER", "carol")
    return write_orders(tmp_path, monkeypatch, null_last_day=0.6)


def _check(orders, capsys):
    code, out, _ = run(["check", str(orders), "--partition-column", "order_date",
                        "--format", "json"], capsys)
    return code, [json.loads(line) for line in out.splitlines()]


class TestCheckCommand:
    def test_fault_is_a_critical_incident_and_exit_1(self, orders, capsys):
        """The broken newest partition gives one critical incident on amount; exit 1."""
        code, found = _check(orders, capsys)
        assert code == 1
        [incident] = found
        assert (incident["severity"], incident["change"], incident["columns"]) == (
            "critical", "opened", ["amount"])
        top = incident["anomalies"][0]
        assert (top["column"], top["statistic"]) == ("amount", "null_fraction")
        assert top["observed"] > top["expected_high"] and len(top["history"]) == 14

    def test_text_shows_the_explanation(self, orders, capsys):
        """The human format lists the incident and explains the top one."""
        code, out, _ = run(["check", str(orders), "--partition-column", "order_date"], capsys)
        assert code == 1
        assert "Incident #1" in out and "null_fraction" in out and "expected band" in out
        assert "recent history" in out


class TestAlertsCommand:
    def test_list_show_and_feedback(self, orders, capsys):
        """wk alerts lists it, show explains it, false-positive closes it with a note."""
        _check(orders, capsys)
        code, out, _ = run(["alerts", "--format", "json"], capsys)
        assert code == 0
        [listed] = [json.loads(line) for line in out.splitlines()]
        assert listed["id"] == 1 and "anomalies" not in listed
        code, out, _ = run(["alerts", "show", "1"], capsys)
        assert code == 0 and "amount" in out and "recent history" in out
        code, out, _ = run(["alerts", "false-positive", "1", "--note", "test load"], capsys)
        assert code == 0 and "by carol" in out
        assert "amount.null_fraction: band widened ×" in out
        assert "after false positive #1 by carol" in out
        code, out, _ = run(["alerts", "show", "1", "--format", "json"], capsys)
        shown = json.loads(out)
        assert shown["status"] == "false_positive"
        assert shown["feedback"][0] | {"at": None} == {"action": "false_positive",
                                                       "user": "carol", "note": "test load",
                                                       "at": None}
        code, out, _ = run(["alerts"], capsys)
        assert code == 0 and "no open incidents" in out
        code, out, _ = run(["alerts", "--all", "--format", "json"], capsys)
        assert [json.loads(line)["id"] for line in out.splitlines()] == [1]

    def test_ack_and_resolve(self, orders, capsys):
        """ack keeps it listed as acknowledged; resolve closes it."""
        _check(orders, capsys)
        assert run(["alerts", "ack", "1"], capsys)[0] == 0
        out = run(["alerts", "--format", "json"], capsys)[1]
        assert json.loads(out)["status"] == "acknowledged" and json.loads(out)["confirmed"]
        assert run(["alerts", "resolve", "#1", "--note", "reloaded"], capsys)[0] == 0
        assert run(["alerts", "--format", "json"], capsys)[1] == ""

    @pytest.mark.parametrize("args, message", [
        (["alerts", "show", "42"], "no incident #42"),
        (["alerts", "ack", "x1"], "is not a number"),
        (["check", "nosuch"], "is not a registered table"),
    ])
    def test_bad_input_exits_2_with_one_line(self, orders, capsys, args, message):
        """Unknown ids and tables exit 2 with a single error line."""
        Store.open()  # a store in this folder (without one, wk alerts says to run wk init)
        code, _, err = run(args, capsys)
        assert code == 2
        assert message in err and len(err.strip().splitlines()) == 1


class TestMuteCommand:
    def test_mute_silences_a_column_until_unmuted(self, orders, capsys):
        """wk alerts mute stores a mute: the next check of the broken column opens nothing;
        unmute brings the incident back. JSON lists the table's mutes."""
        table = str(orders.resolve())  # a path's table is named by its path
        run(["profile", str(orders), "--partition-column", "order_date"], capsys)
        code, out, _ = run(["alerts", "mute", table, "amount", "--note", "free text",
                            "--format", "json"], capsys)
        assert code == 0 and json.loads(out) == {"table": table, "muted": ["amount"]}
        code, found = _check(orders, capsys)
        assert code == 0 and found == []
        code, out, _ = run(["alerts", "unmute", table, "amount"], capsys)
        assert code == 0 and "muted now: nothing" in out
        code, out, _ = run(["check", str(orders), "--partition-column", "order_date",
                            "--partition", "2023-02-10", "--format", "json"], capsys)
        assert code == 1 and [json.loads(i)["columns"] for i in out.splitlines()] == [["amount"]]

    def test_mute_of_an_unknown_table_exits_2(self, orders, capsys):
        """Muting a table the store does not know is a one-line error, exit 2."""
        run(["profile", str(orders), "--partition-column", "order_date"], capsys)
        code, _, err = run(["alerts", "mute", "nope", "amount"], capsys)
        assert code == 2 and "nope" in err and len(err.strip().splitlines()) == 1

