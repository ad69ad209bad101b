"""At-least-once delivery, truthfully: the intent is recorded before a webhook is sent,
so a run killed in flight leaves a pending firing that ``wk triggers retry`` resends
under the same idempotency key; URLs and secrets never leak into errors or the store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from watchkeeper.store.trigger_log import TriggerLog
from watchkeeper.triggers import Dispatcher, Event, Retry, Webhook, trigger

WK = Path(sys.executable).parent / "wk"
IDEMPOTENCY = "X-Watchkeeper-Idempotency-Key"


class HangingHook:
    """A receiver on 127.0.0.1 that hangs on every request until ``answer`` is set."""

    def __init__(self) -> None:
        self.seen: list[dict] = []
        self.answer = threading.Event()
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.seen.append({"key": self.headers.get(IDEMPOTENCY), "body": body,
                                   "answered": outer.answer.is_set()})
                outer.arrived.set()
                if not outer.answer.wait(30):
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0KEN"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.answer.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hanging():
    server = HangingHook()
    yield server
    server.close()


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "WK_STORE_URL"}
    return {**env, **extra}


def test_a_run_killed_with_a_webhook_in_flight_is_resent_by_retry(tmp_path, make_project,
                                                                  hanging):
    project = make_project({"page": {"event": "slo.failed", "actions": [
        {"webhook": {"url_env": "WK_KILL_HOOK", "timeout_seconds": 20, "retries": 0}}]}})
    env = _env(WK_KILL_HOOK=hanging.url)
    proc = subprocess.Popen([str(WK), "triggers", "test", "slo.failed", "--table", "orders"],
                            cwd=project.root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not hanging.arrived.wait(0.1):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the webhook never arrived"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    first_key = hanging.seen[0]["key"]
    log = TriggerLog(project.store())
    actions = log.actions(list(log.firings()["firing_key"]))
    assert list(actions["status"]) == ["pending"]  # the intent survived the kill

    hanging.answer.set()
    done = subprocess.run([str(WK), "triggers", "retry"], cwd=project.root, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 pending action(s) retried" in done.stdout
    assert len(hanging.seen) == 2 and hanging.seen[1]["answered"]
    assert hanging.seen[1]["key"] == first_key  # the same idempotency key on every attempt
    assert json.loads(hanging.seen[1]["body"])["idempotency_key"] == first_key
    actions = log.actions(list(log.firings()["firing_key"]))
    assert list(actions["status"]) == ["ok"]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hooks/T0KEN SECRETPART",
    "http://127.0.0.1:9/hooks/T0KEN\tSECRETPART?sig=QUERYSECRET",
    "notaurl T0KEN/SECRETPART",
    "http://user:PASSW0RD@127.0.0.1:9/T0KEN/SECRETPART",
])
def test_no_part_of_a_webhook_url_reaches_errors_or_the_store(duck_store, url):
    hook = trigger("page", "slo.failed", [Webhook("WK_HOOK_URL", timeout_seconds=1,
                                                  retry=Retry(retries=0, max_attempts=1))])
    disp = Dispatcher([hook], duck_store, environ={"WK_HOOK_URL": url}, sleep=lambda s: None)
    result = disp.fire(Event("slo.failed", table="orders", severity="critical"))
    assert result.results[0].status in {"failed", "pending"}
    log = TriggerLog(duck_store)
    keys = list(log.firings()["firing_key"])
    stored = log.actions(keys).to_json() + log.attempts(keys).to_json()
    shown = f"{result.results[0].error} {stored}"
    for secret in ("T0KEN", "SECRETPART", "QUERYSECRET", "PASSW0RD"):
        assert secret not in shown, shown


def test_docs_promise_at_least_once_with_a_stable_key():
    text = (Path(__file__).parents[2] / "docs" / "triggers.md").read_text().lower()
    assert "at-least-once" in text or "at least once" in text
    assert "idempotency key" in text
    assert "never twice" not in text and "exactly once" not in text.replace(
        "not exactly once", "")
