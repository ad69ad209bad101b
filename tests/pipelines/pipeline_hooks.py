"""A ``python`` trigger action for the rollout tests: remembers the events it was given."""

from __future__ import annotations

EVENTS: list = []


def record(event) -> str:
    EVENTS.append(event)
    return event.type
