"""Feedback on incidents, and the tolerance a false positive earns.

- ``ack`` and ``resolve`` confirm an incident as real: its partitions become
  invalid for learning, so the detector never learns broken data as normal.
- ``false_positive`` closes it and widens the band of every (column, statistic)
  that paged, by just enough that the same deviation would have stayed below
  ``warning``: step = clamp(score / warning x 1.1, 1.25, 3). Steps multiply, up
  to 10 in total, so one careless click cannot silence a series for good, and a
  deviation much larger than the one marked still alerts.

Every step is stored with its user, time and incident, and shown in explanations.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

import pandas as pd

STEP_MIN, STEP_MAX, TOTAL_MAX, MARGIN = 1.25, 3.0, 10.0, 1.1

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
    """How much wider a band must get for ``score`` to have stayed below warning."""
    step = (float(score) / warning) * MARGIN if warning > 0 else STEP_MIN
    return float(min(max(step, STEP_MIN), STEP_MAX))


def tolerances_of(steps: pd.DataFrame) -> dict[tuple[str, str], Tolerance]:
    """Fold stored steps (``column, statistic, multiplier, incident_id, user_name``)."""
    out: dict[tuple[str, str], Tolerance] = {}
    if steps is None or steps.empty:
        return out
    for (column, statistic), group in steps.groupby(["column", "statistic"], sort=False):
        total = float(min(group["multiplier"].prod(), TOTAL_MAX))
        whom = ", ".join(f"#{int(i)} by {u}" for i, u in
                         zip(group["incident_id"], group["user_name"]))
        plural = "s" if len(group) > 1 else ""
        capped = " (the cap)" if total >= TOTAL_MAX else ""
        out[(str(column), str(statistic))] = Tolerance(
            total, f"band widened ×{total:.2g}{capped} after false positive{plural} {whom}")
    return out
