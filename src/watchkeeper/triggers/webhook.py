"""The ``webhook`` action: an HTTP POST of the event as JSON, signed, Slack-compatible.

The URL and the signing secret come from environment variables whose NAMES the
project file gives; their values never reach a log, the store or a message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .._version import __version__
from ._base import Action, ActionContext, PermanentFailure, Retry, env_name, number, read_spec
from .events import FIELDS

SIGNATURE_HEADER = "X-Watchkeeper-Signature"
IDEMPOTENCY_HEADER = "X-Watchkeeper-Idempotency-Key"
_RETRYABLE_STATUS = {408, 425, 429}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def slack_escape(text: Any) -> str:
    """Slack reads ``<...>`` as links and mentions; user strings must not inject them."""
    return str(text).translate(_SLACK_ESCAPES)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def default_text(event, trigger: str) -> str:
    where = " ".join(x for x in (event.table, event.partition) if x)
    parts = [f"[{event.severity}] {event.type}"]
    if where:
        parts.append(f"on {where}")
    if event.column:
        parts.append(f"column {event.column}")
    if event.model:
        parts.append(f"model {event.model}")
    if event.incident_id:
        parts.append(f"incident {event.incident_id}")
    return " ".join(parts) + f" (trigger {trigger})"


@dataclass(frozen=True)
class Webhook(Action):
    """POST ``{"text": ..., "event": {...}, "trigger": ...}`` to the URL in ``$url_env``."""

    kind = "webhook"
    default_retry = Retry(retries=2, max_attempts=8, backoff_seconds=1.0)
    url_env: str = ""
    secret_env: str | None = None
    text: str | None = None
    timeout_seconds: float = 5.0
    retry: Retry = default_retry

    @classmethod
    def from_spec(cls, spec: Any, where: str) -> "Webhook":
        spec = read_spec(spec, where, required=("url_env",),
                         optional=("secret_env", "text", "timeout_seconds", *Retry.KEYS))
        retry = Retry.parse(spec, where, cls.default_retry)
        secret = env_name(spec["secret_env"], where, "secret_env") \
            if spec.get("secret_env") else None
        text = spec.get("text")
        for name in _PLACEHOLDER.findall(str(text or "")):
            if name not in (*FIELDS, "trigger"):
                from ..errors import ConfigError

                raise ConfigError(f"{where}: unknown placeholder {{{name}}} in text: use "
                                  f"{', '.join(FIELDS)} or trigger")
        timeout = number(spec.get("timeout_seconds", 5.0), where, "timeout_seconds", minimum=0.1)
        return cls(env_name(spec["url_env"], where, "url_env"), secret,
                   str(text) if text else None, timeout, retry)

    def describe(self) -> str:
        return f"webhook ${self.url_env}"

    def payload(self, event, trigger: str, key: str) -> bytes:
        """The JSON body; json.dumps escapes JSON, slack_escape the Slack markup."""
        if self.text:
            values = {**{f: event.field_value(f) for f in FIELDS}, "trigger": trigger}
            text = _PLACEHOLDER.sub(lambda m: slack_escape(values[m.group(1)] or ""), self.text)
        else:
            text = slack_escape(default_text(event, trigger))
        body = {"text": text, "trigger": trigger, "idempotency_key": key,
                "event": event.to_dict()}
        return json.dumps(body, sort_keys=True, default=str).encode()

    def run(self, event, ctx: ActionContext) -> str:
        url = ctx.environ.get(self.url_env)
        if not url:
            raise RuntimeError(f"environment variable {self.url_env} is not set")
        if not url.startswith(("http://", "https://")):
            raise PermanentFailure(f"${self.url_env} is not an http(s) URL")
        body = self.payload(event, ctx.trigger, ctx.firing_key)
        headers = {"Content-Type": "application/json", "User-Agent": f"watchkeeper/{__version__}",
                   IDEMPOTENCY_HEADER: ctx.firing_key, "X-Watchkeeper-Event": event.type}
        if self.secret_env:
            secret = ctx.environ.get(self.secret_env)
            if not secret:
                raise RuntimeError(f"environment variable {self.secret_env} is not set")
            headers[SIGNATURE_HEADER] = sign(secret, body)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            message = f"HTTP {exc.code} from {self.describe()}"
            if 400 <= exc.code < 500 and exc.code not in _RETRYABLE_STATUS:
                raise PermanentFailure(message) from None
            raise ConnectionError(message) from None
        except urllib.error.URLError as exc:
            # The reason names the failure (refused, timed out), never the URL.
            raise ConnectionError(f"{self.describe()} unreachable: {exc.reason}") from None

    def secrets(self, environ) -> list[str]:
        names = [self.url_env, self.secret_env]
        return [environ[n] for n in names if n and environ.get(n)]
