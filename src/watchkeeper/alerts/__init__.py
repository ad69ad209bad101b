"""Alerts: severities, incidents, ranking, explanations and feedback (a processor chain).

``check(table)`` judges new partitions and keeps incidents; ``incidents()``
lists them ranked; ``feedback(id, action)`` records ack / resolve /
false-positive. See docs/alerts.md.
"""

from . import records, tolerance
from .check import CheckResult, check, feedback, incidents, mute
from .tolerance import Tolerance, current_user
from .model import Anomaly, Incident, Status, UnknownIncidentError
from .processors import DEFAULT_CHAIN, PROCESSORS, Batch, build_chain, run_chain
from .settings import AlertSettings

__all__ = ["AlertSettings", "Anomaly", "Batch", "CheckResult", "DEFAULT_CHAIN", "Incident",
           "PROCESSORS", "Status", "Tolerance", "UnknownIncidentError", "build_chain", "check",
           "current_user", "feedback", "incidents", "mute", "run_chain"]
