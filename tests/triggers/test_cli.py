"""``wk triggers``: test events, the log, listing, retries, and exit codes through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from watchkeeper.cli import main


def _run(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def project(make_project, hook, monkeypatch):
    monkeypatch.setenv("WK_CLI_HOOK", hook.url())
    project = make_project({
        "page": {"event": "slo.failed", "table": "orders",
                 "actions": [{"webhook": {"url_env": "WK_CLI_HOOK", "backoff_seconds": 0}},
                             {"block": {"reason": "bad data"}}]},
    })
    monkeypatch.chdir(project.root)
    return project


class TestTriggersCli:
    def test_test_event_delivers_to_webhook(self, project, hook, capsys):
        """wk triggers test fires a synthetic event that reaches the webhook."""
        code, out, _ = _run(["triggers", "test", "slo.failed", "--table", "orders",
                             "--partition", "2024-03-05", "--context", "check=rows"], capsys)
        assert code == 0
        assert "1 trigger(s) matched" in out and "ok after 1 attempt(s): HTTP 200" in out
        assert "blocked: page: bad data (orders 2024-03-05)" in out
        event = hook.delivered[0]["event"]
        assert event["context"]["synthetic"] is True and event["context"]["check"] == "rows"

    def test_same_test_id_is_not_delivered_twice(self, project, hook, capsys):
        """Re-firing with the same --test-id shows a duplicate and posts nothing new."""
        args = ["triggers", "test", "slo.failed", "--table", "orders", "--test-id", "t1",
                "--format", "json"]
        _run(args, capsys)
        code, out, _ = _run(args, capsys)
        assert code == 0 and len(hook.requests) == 1
        assert json.loads(out)["results"][0]["status"] == "duplicate"

    def test_log_shows_firings_and_retries(self, project, hook, capsys):
        """wk triggers log lists each firing with its actions and every attempt."""
        hook.script = [500]
        _run(["triggers", "test", "slo.failed", "--table", "orders"], capsys)
        code, out, _ = _run(["triggers", "log"], capsys)
        assert code == 0
        assert "page: slo.failed orders (critical)" in out
        assert "#1 webhook $WK_CLI_HOOK: ok, 2 attempt(s)" in out
        assert "attempt 1" in out and "HTTP 500" in out and "attempt 2" in out
        code, out, _ = _run(["triggers", "log", "--format", "json"], capsys)
        record = json.loads(out.splitlines()[0])
        webhook = record["actions"][0]
        assert [a["ok"] for a in webhook["attempt_log"]] == [False, True]
        assert record["actions"][1]["action_kind"] == "block"

    def test_list(self, project, capsys):
        """wk triggers list --format json prints each trigger's spec."""
        code, out, _ = _run(["triggers", "list", "--format", "json"], capsys)
        assert code == 0 and json.loads(out)["name"] == "page"

    def test_retry_runs_due_deliveries(self, project, hook, capsys):
        """wk triggers retry delivers what failed earlier."""
        hook.script = [500, 500, 500]
        _run(["triggers", "test", "slo.failed", "--table", "orders"], capsys)
        assert hook.delivered == []
        code, out, _ = _run(["triggers", "retry"], capsys)
        assert code == 0 and "1 pending action(s) retried" in out
        assert len(hook.delivered) == 1

    def test_bad_input_exits_2_with_one_line(self, project, capsys):
        """An unknown event type or a malformed --context exits 2 with a one-line message."""
        code, _, err = _run(["triggers", "test", "slo.fail"], capsys)
        assert code == 2 and "unknown event type 'slo.fail'" in err
        assert len(err.strip().splitlines()) == 1
        code, _, err = _run(["triggers", "test", "slo.failed", "--context", "nokey"], capsys)
        assert code == 2 and "is not KEY=VALUE" in err

    def test_bad_trigger_spec_exits_2(self, make_project, monkeypatch, capsys):
        """A broken triggers section is a one-line error with exit 2."""
        project = make_project({"t": {"event": "slo.failed", "actions": [{"mail": {}}]}})
        monkeypatch.chdir(project.root)
        code, _, err = _run(["triggers", "list"], capsys)
        assert code == 2 and "unknown action 'mail'" in err

    def test_real_process_exit_code(self, project):
        """The installed wk entry point exits 2 on bad input (a real subprocess)."""
        wk = Path(sys.executable).parent / "wk"
        proc = subprocess.run([str(wk), "triggers", "test", "nope"], capture_output=True,
                              text=True, cwd=project.root, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "unknown event type 'nope'" in proc.stderr
