"""Webhooks against a real HTTP server on loopback: delivery, signatures, retries, secrets."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

from hook_server import HookServer

from watchkeeper.store.trigger_log import TriggerLog, utcnow
from watchkeeper.triggers import (SIGNATURE_HEADER, Dispatcher, Event, Retry, Webhook, fire,
                                  slack_escape, trigger)

SECRET = "s3cr3t-signing-key-9f8e"
TOKEN = "T000-B000-XXXXSECRETTOKEN"


def _dispatcher(store, url, *, retry=Retry(retries=2, max_attempts=5, backoff_seconds=0.01),
                sleeps=None, text=None):
    hook = trigger("page", "slo.failed", [Webhook("WK_HOOK_URL", "WK_HOOK_SECRET", text=text,
                                                  timeout_seconds=2, retry=retry)])
    env = {"WK_HOOK_URL": url, "WK_HOOK_SECRET": SECRET}
    sleep = sleeps.append if sleeps is not None else (lambda s: None)
    return Dispatcher([hook], store, environ=env, sleep=sleep)


EVENT = Event("slo.failed", table="orders", partition="2024-03-05", severity="critical",
              column="amount", context={"check": "row_count"})


def _stored_text(store) -> str:
    """Everything the trigger log holds, as one string."""
    log = TriggerLog(store)
    firings = log.firings(limit=1000)
    keys = list(firings["firing_key"])
    parts = [firings.to_json(), log.actions(keys).to_json(), log.attempts(keys).to_json()]
    with store._connect() as db:
        parts += [str(db.execute("SELECT * FROM wk_trigger_firings"))]
    return "\n".join(parts)


class TestWebhookDelivery:
    def test_delivers_signed_json(self, store, hook):
        """One POST with a JSON body whose HMAC-SHA256 signature verifies with the secret."""
        result = _dispatcher(store, hook.url(f"/services/{TOKEN}")).fire(EVENT)
        assert [r.status for r in result.results] == ["ok"]
        assert len(hook.requests) == 1
        request = hook.requests[0]
        expected = "sha256=" + hmac.new(SECRET.encode(), request["body"],
                                        hashlib.sha256).hexdigest()
        assert request["headers"][SIGNATURE_HEADER] == expected
        body = json.loads(request["body"])
        assert body["event"]["event_id"] == EVENT.id and body["trigger"] == "page"
        assert body["text"].startswith("[critical] slo.failed on orders 2024-03-05")
        assert request["headers"]["X-Watchkeeper-Idempotency-Key"] == body["idempotency_key"]

    def test_500_twice_then_200(self, store, hook):
        """Two server errors are retried with exponential backoff, the third try delivers."""
        hook.script = [500, 500]
        sleeps: list[float] = []
        result = _dispatcher(store, hook.url(), sleeps=sleeps,
                             retry=Retry(retries=2, max_attempts=5, backoff_seconds=0.01)
                             ).fire(EVENT)
        assert [(r.status, r.attempts) for r in result.results] == [("ok", 3)]
        assert [r["status"] for r in hook.requests] == [500, 500, 200]
        assert sleeps == [0.01, 0.02]
        key = TriggerLog(store).firings()["firing_key"][0]
        attempts = TriggerLog(store).attempts([key])
        assert list(attempts["ok"]) == [False, False, True]
        assert "HTTP 500" in attempts["error"][0]

    def test_server_down_then_up(self, store, free_port):
        """A refused connection leaves the delivery pending; retry_pending delivers it later."""
        dispatcher = _dispatcher(store, f"http://127.0.0.1:{free_port}/hook",
                                 retry=Retry(retries=1, max_attempts=5, backoff_seconds=30))
        first = dispatcher.fire(EVENT)
        assert [(r.status, r.attempts) for r in first.results] == [("pending", 2)]
        assert dispatcher.retry_pending() == []  # backoff not elapsed yet
        server = HookServer(free_port)
        try:
            later = dispatcher.retry_pending(now=utcnow() + timedelta(minutes=5))
            assert [(r.status, r.attempts) for r in later] == [("ok", 3)]
            assert len(server.delivered) == 1
            assert dispatcher.retry_pending(now=utcnow() + timedelta(days=1)) == []
        finally:
            server.close()

    def test_same_event_twice_delivers_once(self, store, hook):
        """Re-firing the same event (a retried pipeline run) does not notify twice."""
        dispatcher = _dispatcher(store, hook.url())
        dispatcher.fire(EVENT)
        again = dispatcher.fire(Event(**{**EVENT.__dict__}))
        assert [r.status for r in again.results] == ["duplicate"]
        assert len(hook.requests) == 1
        assert TriggerLog(store).firings()["fire_count"].tolist() == [2]
        dispatcher.fire(Event("slo.failed", table="orders", partition="2024-03-06"))
        assert len(hook.requests) == 2

    def test_client_error_is_not_retried(self, duck_store, hook):
        """HTTP 404 is a configuration problem: recorded as failed after one attempt."""
        hook.script = [404]
        result = _dispatcher(duck_store, hook.url()).fire(EVENT)
        assert [(r.status, r.attempts) for r in result.results] == [("failed", 1)]
        assert "HTTP 404" in result.results[0].error

    def test_gives_up_after_max_attempts(self, duck_store, free_port):
        """After max_attempts the action is failed and no longer retried."""
        dispatcher = _dispatcher(duck_store, f"http://127.0.0.1:{free_port}/",
                                 retry=Retry(retries=1, max_attempts=3, backoff_seconds=0))
        assert dispatcher.fire(EVENT).results[0].status == "pending"
        last = dispatcher.retry_pending(now=utcnow() + timedelta(hours=1))
        assert [(r.status, r.attempts) for r in last] == [("failed", 3)]
        assert dispatcher.retry_pending(now=utcnow() + timedelta(days=1)) == []


class TestWebhookSecurity:
    def test_secrets_absent_from_log_and_errors(self, store, free_port):
        """Neither the URL's token nor the signing secret reaches the store or an error."""
        url = f"http://127.0.0.1:{free_port}/services/{TOKEN}"
        result = _dispatcher(store, url, retry=Retry(retries=1, max_attempts=4,
                                                     backoff_seconds=0)).fire(EVENT)
        error = result.results[0].error
        assert "unreachable" in error and "$WK_HOOK_URL" in error
        text = _stored_text(store) + error + result.results[0].label
        assert TOKEN not in text and SECRET not in text and str(free_port) not in text

    def test_secret_in_exception_text_is_scrubbed(self, duck_store, hook):
        """Even an error that quotes the URL is stored with the secret replaced by ***."""
        class Leaky(Webhook):
            def run(self, event, ctx):
                raise RuntimeError(f"boom at {ctx.environ['WK_HOOK_URL']} {SECRET}")

        leaky = trigger("page", "slo.failed", [Leaky("WK_HOOK_URL", "WK_HOOK_SECRET",
                                                     retry=Retry(max_attempts=1))])
        env = {"WK_HOOK_URL": hook.url(f"/{TOKEN}"), "WK_HOOK_SECRET": SECRET}
        result = Dispatcher([leaky], duck_store, environ=env).fire(EVENT)
        assert result.results[0].error == "RuntimeError: boom at *** ***"
        assert TOKEN not in _stored_text(duck_store)

    def test_missing_env_var_is_recorded_not_raised(self, duck_store):
        """An unset URL variable fails the action (named, not valued) without raising."""
        hook = trigger("page", "slo.failed", [Webhook("WK_UNSET_URL")])
        result = Dispatcher([hook], duck_store, environ={}, sleep=lambda s: None).fire(EVENT)
        assert result.results[0].status == "pending"
        assert "environment variable WK_UNSET_URL is not set" in result.results[0].error

    def test_payload_escaping(self, duck_store, hook):
        """User strings are JSON-escaped, and <, >, & are escaped in the Slack text."""
        nasty = 'orders<!channel> & "quotes"\n\\back'
        ev = Event("slo.failed", table=nasty, partition="2024-03-05")
        _dispatcher(duck_store, hook.url(), text="{table} broke in {partition}").fire(ev)
        body = json.loads(hook.requests[0]["body"])
        assert body["text"] == ('orders&lt;!channel&gt; &amp; "quotes"\n\\back broke in '
                                '2024-03-05')
        assert "<!channel>" not in body["text"]
        assert body["event"]["table"] == nasty  # the raw value survives in the JSON field
        assert slack_escape("<a&b>") == "&lt;a&amp;b&gt;"


class TestFireFromProject:
    def test_env_vars_and_project_file(self, make_project, hook, monkeypatch):
        """watchkeeper.fire reads triggers from the project and the URL from the environment."""
        monkeypatch.setenv("WK_TEST_HOOK", hook.url())
        project = make_project({"page": {"event": "incident.opened", "severity": "warning",
                                         "actions": [{"webhook": {"url_env": "WK_TEST_HOOK"}}]}})
        quiet = fire(Event("incident.opened", severity="info"), project)
        assert quiet.matched == () and hook.requests == []
        loud = fire(Event("incident.opened", severity="critical", incident_id="I-1"), project)
        assert loud.matched == ("page",), loud
        assert len(hook.delivered) == 1, loud
        assert "incident I-1" in hook.delivered[0]["text"]
