"""Incidents to and from the store, and the feedback commands on them."""

from __future__ import annotations

import json

import pandas as pd

from ..detect import Severity
from ..engine.types import Granularity
from ..errors import ConfigError
from ..store import Store
from ..store.alerts import AlertLog
from .tolerance import ACTIONS, current_user, tolerance_step
from .model import Anomaly, Incident, Status, UnknownIncidentError, json_float


def save(store: Store, incident: Incident) -> Incident:
    """Insert or replace ``incident``; returns it with its id."""
    row = {"incident_id": incident.id, "table_name": incident.table,
           "first_partition": _py(incident.first_partition),
           "last_partition": _py(incident.last_partition),
           "granularity": incident.granularity.value, "severity": incident.severity.value,
           "score": _finite(incident.score), "impact": _finite(incident.impact),
           "consumers": int(incident.consumers), "status": incident.status.value,
           "confirmed": bool(incident.confirmed), "cause": incident.cause,
           "resolved_at": _py(incident.resolved_at)}
    anomalies = [{"table_name": incident.table, "partition_start": _py(a.partition),
                  "source": a.source, "column_name": a.column, "statistic": a.statistic,
                  "check_name": a.check, "severity": a.severity.value,
                  "observed": json_float(a.observed), "expected_low": json_float(a.expected_low),
                  "expected_high": json_float(a.expected_high), "score": _finite(a.score),
                  "tolerance": float(a.tolerance), "note": a.note,
                  "history_json": json.dumps([[p, json_float(v)] for p, v in a.history])}
                 for a in incident.anomalies]
    new_id = AlertLog(store).save_incident(row, [_py(p) for p in incident.partitions], anomalies)
    return load(store, new_id)


def load(store: Store, incident_id) -> Incident:
    """One incident by id; an unknown id is a user error naming the fix."""
    try:
        wanted = int(str(incident_id).lstrip("#"))
    except ValueError:
        raise UnknownIncidentError(f"incident id {incident_id!r} is not a number: pass the id "
                                   "that wk alerts lists, e.g. 12") from None
    found = AlertLog(store).incidents(ids=[wanted])
    if not found:
        raise UnknownIncidentError(f"no incident #{wanted} in the store: run wk alerts --all "
                                   "to list the known ones")
    return from_row(found[0])


def load_all(store: Store, *, table: str | None = None, active: bool = True,
             partitions=None) -> list[Incident]:
    statuses = [s.value for s in Status if s.active] if active else None
    rows = AlertLog(store).incidents(table=table, statuses=statuses,
                                     partitions=[_py(p) for p in partitions or ()] or None)
    return [from_row(r) for r in rows]


def from_row(row: dict) -> Incident:
    grain = Granularity.parse(row["granularity"])
    anomalies = tuple(
        Anomaly(row["table_name"], pd.Timestamp(a["partition_start"]), a["column_name"],
                a["statistic"], _nan(a["observed"]), _nan(a["expected_low"]),
                _nan(a["expected_high"]), float(a["score"]), a["source"],
                Severity(a["severity"]), a["check_name"], float(a["tolerance"]), a["note"],
                tuple((str(p), _nan(v)) for p, v in a["history"]))
        for a in row["anomalies"])
    return Incident(row["table_name"], tuple(pd.Timestamp(p) for p in row["partitions"]),
                    anomalies, Severity(row["severity"]), float(row["score"]),
                    int(row["incident_id"]), Status(row["status"]), row["cause"],
                    int(row["consumers"]), float(row["impact"]), bool(row["confirmed"]),
                    _ts(row["opened_at"]), _ts(row["updated_at"]), _ts(row["resolved_at"]),
                    grain)


def give_feedback(store: Store, incident_id, action: str, *, note: str | None = None,
                  user: str | None = None, warning: float = 7.0) -> Incident:
    """Record ``action`` (ack, resolve, false_positive) on an incident; returns it updated.

    ``warning`` is the detector's warning level: a false positive widens each paging
    series' band by just enough for its score to have stayed below it.
    """
    action = action.replace("-", "_")
    if action not in ACTIONS:
        raise ConfigError(f"unknown feedback {action!r}: use one of "
                                   "ack, resolve, false-positive")
    incident = load(store, incident_id)
    status, confirmed, closes = ACTIONS[action]
    steps = []
    if action == "false_positive":
        paged = [a for a in incident.anomalies if a.source == "detector"]
        loud = [a for a in paged if a.severity >= Severity.WARNING] or paged
        best: dict[tuple[str, str], float] = {}
        for a in loud:  # one step per series: its largest deviation in the incident
            best[a.key] = max(best.get(a.key, 0.0), a.score)
        steps = [(incident.table, c, s, tolerance_step(score, warning))
                 for (c, s), score in sorted(best.items())]
    log = AlertLog(store)
    with store.atomic():  # the feedback and the status it sets: both or neither
        log.add_feedback(incident.id, action, user or current_user(), note, steps)
        log.set_status(incident.id, status, confirmed=confirmed, resolved=closes)
    return load(store, incident.id)


def _py(ts):
    return None if ts is None or pd.isna(ts) else pd.Timestamp(ts).to_pydatetime()


def _ts(value):
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def _nan(value) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


def _finite(value) -> float:
    value = float(value)
    return value if value == value and abs(value) != float("inf") else 1e12
