"""What a partition's stored SLO results and incidents say, for the gate (``gate.py``).

Step 2 and 3 of a gate leave their verdicts in the store; ``Findings.collect``
reads them back for one partition: the critical reasons that block it, those a
person waived by closing their incident, the worst severity, and the incidents
that name it. Triggers (step 4) then add their own reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..engine.types import Granularity

_RANK = {"ok": 0, "info": 1, "warning": 2, "critical": 3}
_CLOSED_BY_PEOPLE = ("resolve", "false_positive")


@dataclass(frozen=True)
class Reason:
    """Why a partition is blocked (or, under ``waived``, would have been).

    ``kind`` is ``slo`` (a failed critical check: ``check``), ``incident`` (an
    active incident with a critical anomaly in the partition: ``incident_id``)
    or ``trigger`` (a ``block`` action: ``trigger``).
    """

    kind: str
    message: str
    severity: str = "critical"
    check: str | None = None
    incident_id: int | None = None
    trigger: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "severity": self.severity,
                "check": self.check, "incident_id": self.incident_id, "trigger": self.trigger}



@dataclass
class Findings:
    """What the partition's SLO results and incidents say, before triggers have their say."""

    blocking: list[Reason] = field(default_factory=list)
    waived: list[Reason] = field(default_factory=list)
    severity: str = "ok"
    incident_ids: list[int] = field(default_factory=list)
    top_column: str | None = None
    failed_checks: list[str] = field(default_factory=list)

    @property
    def top_incident(self) -> int | None:
        return self.incident_ids[0] if self.incident_ids else None

    @classmethod
    def collect(cls, store, table: str, start: pd.Timestamp, grain: Granularity,
                slo_results, incidents=None) -> "Findings":
        """``slo_results``: the partition's SLO results (a frame, or its rows as dicts);
        ``incidents``: the table's incidents touching ``start`` or others (read once for
        many partitions); default: read from the store."""
        from ..alerts import records
        from ..store.alerts import AlertLog

        out = cls()
        label = grain.format(start)
        active, waivers = [], {}
        rows = (slo_results.to_dict("records") if isinstance(slo_results, pd.DataFrame)
                else list(slo_results))
        # A check that passes now outvotes an older stored failure of it (a backfill).
        passing = {r["check"] for r in rows if r["passed"] == True}  # noqa: E712  (NumPy too)
        if incidents is None:
            incidents = records.load_all(store, table=table, active=False, partitions=[start])
        for inc in (i for i in incidents if start in i.partitions):
            here = [a for a in inc.anomalies if pd.Timestamp(a.partition) == start
                    and not (a.source == "slo" and a.check in passing)]
            if here and inc.status.active:
                active.append((inc, here))
            elif here:
                waivers.update(out._waive(AlertLog(store), inc, here, label))
        # Most severe first: its id and top column go into the event.
        active.sort(key=lambda pair: -max(_RANK[a.severity.value] for a in pair[1]))
        owner = {a.check: inc.id for inc, here in active for a in here if a.source == "slo"}
        for row in rows:
            out._slo(row, label, owner, waivers)
        for inc, here in active:
            out._incident(inc, here, label)
        return out

    def _waive(self, alert_log, inc, here, label: str) -> dict[str, str]:
        """A closed incident's anomalies here: waived when a person closed it."""
        closer = _closed_by(alert_log, inc)
        if closer is None:
            return {}  # resolved by recovery: nothing a person decided
        if any(a.source == "detector" and a.severity.value == "critical" for a in here):
            self.waived.append(Reason("incident", f"incident #{inc.id} in {label} "
                                      f"({inc.cause or 'critical anomaly'}): {closer}",
                                      incident_id=inc.id))
        return {a.check: f"#{inc.id} {closer}" for a in here if a.source == "slo"}

    def _slo(self, row: dict, label: str, owner: dict, waivers: dict) -> None:
        if row["passed"] is not False and row["error"] is None:
            return
        name, severity = str(row["check"]), str(row["severity"])
        what = (f"SLO check {name} could not be evaluated ({row['error']})" if row["error"]
                else f"SLO check {name} failed")
        if name in waivers:
            if severity == "critical":
                self.waived.append(Reason("slo", f"{what} in {label}: incident {waivers[name]}",
                                          severity, check=name))
            return
        self.failed_checks.append(name)
        self.severity = _worse(self.severity, severity)
        if severity == "critical":
            where = f" (incident #{owner[name]})" if name in owner else ""
            self.blocking.append(Reason("slo", f"{what} in {label}{where}", severity,
                                        check=name, incident_id=owner.get(name)))

    def _incident(self, inc, here, label: str) -> None:
        level = max((a.severity.value for a in here), key=_RANK.__getitem__)
        self.severity = _worse(self.severity, level)
        self.incident_ids.append(inc.id)
        if self.top_column is None:
            top = max(here, key=lambda a: (_RANK[a.severity.value], a.score))
            self.top_column = None if top.column == "*" else top.column
        reported = {r.check for r in self.blocking if r.kind == "slo"}
        loud = [a for a in here if a.severity.value == "critical" and a.check not in reported]
        if loud:
            top = max(loud, key=lambda a: a.score)
            more = len({a.column for a in loud}) - 1
            also = f" (and {more} more column{'s' if more > 1 else ''})" if more else ""
            self.blocking.append(Reason("incident", f"incident #{inc.id} is critical in "
                                        f"{label}: {_anomaly_text(top)}{also}", "critical",
                                        incident_id=inc.id))


def _anomaly_text(a) -> str:
    """``amount null_fraction 0.31, expected 0 to 0.02`` (the band that would not page)."""
    if a.source == "slo":
        return f"SLO check {a.check} failed"
    what = "row count" if a.column == "*" else f"{a.column} {a.statistic}"
    if a.expected_low == a.expected_low and a.expected_high == a.expected_high:
        return (f"{what} {a.observed:.3g}, expected {a.expected_low:.3g} to "
                f"{a.expected_high:.3g}")
    return f"{what} {a.observed:.3g}"


def _closed_by(alert_log, incident) -> str | None:
    """``"resolved by alice"`` when a person closed the incident, else None."""
    notes = alert_log.feedback(incident.id)
    closing = notes[notes["action"].isin(_CLOSED_BY_PEOPLE)]
    if closing.empty:
        return None
    last = closing.iloc[-1]
    verb = "marked a false positive" if last["action"] == "false_positive" else "resolved"
    return f"{verb} by {last['user_name']}"


def _worse(a: str, b: str) -> str:
    return a if _RANK[a] >= _RANK[b] else b
