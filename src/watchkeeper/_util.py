"""Small helpers shared by several layers."""

from __future__ import annotations

import math
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
