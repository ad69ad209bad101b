"""Feedback on incidents, and the tolerance a false positive earns.

- ``ack`` and ``resolve`` confirm an incident as real: its partitions become
  invalid for learning, so the detector never learns broken data as normal.
- ``false_positive`` closes it and widens the band of every (column, statistic)
  that paged, by just enough that the same deviation would have stayed a bit below
  ``warning``: a score is a surprise in bits, and beyond its anchor a series' tail
  probability falls as ``ratio ** -TAIL_INDEX``, so dividing the deviation by
  ``2 ** ((score - warning + MARGIN_BITS) / TAIL_INDEX)`` (at least 1.25) takes
  ``score - warning + MARGIN_BITS`` bits off it. The same partition judged again is
  then below warning; a deviation much larger than the one marked still alerts.
  Steps multiply.
- ``wk alerts mute`` stores a step of infinity: the column (``statistic`` ``*``) or the
  (column, statistic) pair is never judged again.

Every step is stored with its user, time and incident, and shown in explanations.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

import pandas as pd

STEP_MIN, MARGIN_BITS = 1.25, 1.0
MUTED = float("inf")  # the multiplier a mute stores
ALL_STATISTICS = "*"  # the statistic of a mute of a whole column

#: action → (new status, confirmed real, closes the incident)
ACTIONS: dict[str, tuple[str, bool, bool]] = {
    "ack": ("acknowledged", True, False),
    "resolve": ("resolved", True, True),
    "false_positive": ("false_positive", False, True),
}


@dataclass(frozen=True)
class Tolerance:
    """A band multiplier for one (table, column, statistic), and where it came from."""

    multiplier: float
    note: str


def current_user() -> str:
    """``$WK_USER``, else the operating-system user."""
    user = os.environ.get("WK_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001  (no passwd entry in some containers)
        return "unknown"


def tolerance_step(score: float, warning: float) -> float:
    """How much wider a band must get for ``score`` (bits) to have stayed below warning."""
    from ..detect._calibration import TAIL_INDEX

    step = 2.0 ** ((float(score) - warning + MARGIN_BITS) / TAIL_INDEX)
    return float(max(step, STEP_MIN))


def mutes_of(steps: pd.DataFrame) -> list[str]:
    """The muted columns (``price``) and pairs (``price.p99``) among stored steps."""
    if steps is None or steps.empty:
        return []
    muted = steps[steps["multiplier"] == MUTED]
    return [str(c) if s == ALL_STATISTICS else f"{c}.{s}"
            for c, s in zip(muted["column"], muted["statistic"])]


def tolerances_of(steps: pd.DataFrame) -> dict[tuple[str, str], Tolerance]:
    """Fold stored steps (``column, statistic, multiplier, incident_id, user_name``)."""
    out: dict[tuple[str, str], Tolerance] = {}
    if steps is None or steps.empty:
        return out
    steps = steps[steps["multiplier"] != MUTED]
    for (column, statistic), group in steps.groupby(["column", "statistic"], sort=False):
        total = float(group["multiplier"].prod())
        whom = ", ".join(f"#{int(i)} by {u}" for i, u in
                         zip(group["incident_id"], group["user_name"]))
        plural = "s" if len(group) > 1 else ""
        out[(str(column), str(statistic))] = Tolerance(
            total, f"band widened ×{total:.2g} after false positive{plural} {whom}")
    return out
