"""Small helpers shared by several layers."""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """Hide the password of a connection URL before it reaches a message or a log."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]*")
_SECRET_PIECES = re.compile(r"[/?&=#@:\s]+")
_NOT_SECRET = {"http", "https", "postgres", "postgresql", "duckdb"}


def redact_urls(text: str) -> str:
    """Every URL in ``text`` reduced to its scheme and host: user, password, path and
    query (where webhook tokens live) never reach a message, a log or the store."""
    def short(match: re.Match) -> str:
        parts = urlsplit(match.group(0))
        host = parts.hostname or ""
        rest = "/***" if (parts.path.strip("/") or parts.query or parts.fragment) else ""
        return f"{parts.scheme}://{host}{rest}"
    return _URL.sub(short, text)


def scrub(text: str, secrets=()) -> str:
    """``text`` without any secret value, in whole or in part, and without URLs.

    A secret is removed whole first, then each of its pieces between URL
    delimiters and spaces (four characters or more): an error that quotes only a
    URL's path, or the part after a space, still leaks nothing.
    """
    values = [s for s in secrets if s]
    pieces = {p for s in values for p in _SECRET_PIECES.split(s)
              if len(p) >= 4 and p.lower() not in _NOT_SECRET}
    for value in sorted({*values, *pieces}, key=len, reverse=True):
        text = text.replace(value, "***")
    return redact_urls(text)


def json_value(value):
    """A JSON-safe value: timestamps as ISO text, NaN/NaT/NA as null, arrays as lists."""
    import pandas as pd

    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA or (
            isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return json_value(value.tolist())
    return value
