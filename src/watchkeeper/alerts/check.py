"""Live checking: judge new partitions against the stored history, keep incidents, notify.

``check(table)`` loads the table's summary history and SLO results from the
store, fits the detector on the partitions before each one it judges (leaving
out partitions confirmed bad and those with a failed critical SLO), runs the
processor chain, stores what changed and fires ``incident.opened`` /
``incident.resolved`` through the project's triggers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..detect import Severity, Verdict
from ..engine.types import Granularity
from ..errors import ConfigError
from ..store import Store
from ..store.alerts import AlertLog
from ..store.slo_results import load_results
from . import records as stored
from .tolerance import ALL_STATISTICS, current_user, mutes_of, tolerances_of
from .model import Incident
from .processors import Batch, build_chain, rank_key, run_chain
from .settings import AlertSettings, consumers_of
from .._display import repr_html

NOTIFY_ON = ("opened", "escalated")


@dataclass(frozen=True)
class CheckResult:
    """What one check did: the verdicts, and the incidents it opened, changed or resolved."""

    table: str
    partitions: tuple[pd.Timestamp, ...]
    verdicts: tuple[Verdict, ...]
    incidents: tuple[Incident, ...]  # ranked; ``change`` says what happened to each
    fired: tuple = ()                # FireResult of every event sent

    @property
    def opened(self) -> list[Incident]:
        return [i for i in self.incidents if i.change == "opened"]

    @property
    def resolved(self) -> list[Incident]:
        return [i for i in self.incidents if i.change == "resolved"]

    _repr_html_ = repr_html  # Jupyter: tables and charts (watchkeeper.server.notebook)


def check(table: str, project=None, *, partitions: Sequence | None = None,
          store: Store | None = None, fire_events: bool = True) -> CheckResult:
    """Judge a profiled table's partitions and keep its incidents up to date.

    ``partitions``: the ones to judge; default every partition profiled since its
    last check (the newest one on a table never checked). ``project`` is a
    :class:`watchkeeper.Project`, its folder, or None for the nearest one.
    """
    project = _project(project)
    store = store or (project.store() if project is not None else Store.open())
    settings = AlertSettings.of(project, table)
    chain = build_chain(settings.processors)
    if fire_events and project is not None:
        from ..triggers import load_triggers

        load_triggers(project)  # a broken triggers: section fails before anything is stored
    history = store.load_statistics(table)  # raises UnknownTableError for a stranger
    grain = Granularity.parse(store.table(table).granularity)
    log = AlertLog(store)
    # The key of the detector these settings make: stored with each verdict, which then
    # stands only while the detector (its version, its parameters) stays the same.
    detector = settings.detector_key(grain.value)
    targets = _targets(partitions, log, history, table)
    slo = load_results(store, table)
    invalid = _invalid(log, slo, table)
    steps = log.tolerances(table)
    tolerances = tolerances_of(steps)
    settings = settings.with_mutes(mutes_of(steps))
    verdicts = _judge(settings, grain, history, targets, invalid,
                      store.load_top_values(table), tolerances)
    known = {i.id: i for i in stored.load_all(store, table=table)}
    known.update({i.id: i for i in stored.load_all(store, table=table, active=False,
                                                   partitions=targets)})
    batch = Batch(table, grain, settings.levels(), tuple(verdicts),
                  slo[slo["partition"].isin(targets)], history,
                  tolerances, consumers_of(project, table),
                  tuple(known.values()), tuple(targets))
    result = run_chain(batch, chain)
    saved = store.atomically(lambda: _store_outcome(store, log, table, targets, result,
                                                    detector))
    fired = tuple(_fire(i, project) for i in saved if fire_events and _notifies(i))
    return CheckResult(table, tuple(targets), tuple(verdicts),
                       tuple(sorted(saved, key=rank_key)), tuple(f for f in fired if f))


def incidents(project=None, *, table: str | None = None, include_closed: bool = False,
              min_severity: str = "warning", store: Store | None = None) -> list[Incident]:
    """Stored incidents, ranked: active ones at ``min_severity`` or worse by default."""
    project = _project(project)
    store = store or (project.store() if project is not None else Store.open())
    floor = Severity(min_severity)
    found = stored.load_all(store, table=table, active=not include_closed)
    return sorted((i for i in found if i.severity >= floor), key=rank_key)


def feedback(incident_id, action: str, *, note: str | None = None, user: str | None = None,
             project=None, store: Store | None = None, fire_events: bool = True) -> Incident:
    """Record ``ack``, ``resolve`` or ``false-positive`` on an incident (see docs/alerts.md).

    Closing an incident (resolve, false-positive) fires ``incident.resolved``.
    """
    project = _project(project)
    store = store or (project.store() if project is not None else Store.open())
    before = stored.load(store, incident_id)
    warning = AlertSettings.of(project, before.table).levels()[1]
    after = stored.give_feedback(store, incident_id, action, note=note, user=user,
                                 warning=warning)
    if fire_events and after.notifies and before.status.active and not after.status.active:
        _fire(after.with_(change="resolved"), project, {"resolution": after.status.value,
                                                         "note": note})
    return after


def mute(table: str, column: str, statistic: str | None = None, *, note: str | None = None,
         user: str | None = None, unmute: bool = False, project=None,
         store: Store | None = None) -> list[str]:
    """Mute a column (or one of its statistics) of a table: never judged again until
    unmuted. Returns the table's mutes afterwards (``column`` or ``column.statistic``).

    Mutes declared in ``watchkeeper.yaml`` (``alerts.mute``) apply too; this one is
    stored, with its user and note, like feedback.
    """
    project = _project(project)
    store = store or (project.store() if project is not None else Store.open())
    store._require(table)  # UnknownTableError (exit 2) names the tables there are
    if not str(column).strip():
        raise ConfigError("mute needs a column name: wk alerts mute TABLE COLUMN")
    log = AlertLog(store)
    log.set_mute(table, str(column), str(statistic or ALL_STATISTICS), user or current_user(),
                 note, muted=not unmute)
    return mutes_of(log.tolerances(table))


# -- the steps of a check ------------------------------------------------------------------
def _targets(partitions, log: AlertLog, history: pd.DataFrame, table: str) -> list:
    stored_parts = pd.DatetimeIndex(sorted(history["partition"].unique()))
    if len(stored_parts) == 0:
        raise ConfigError(f"table {table!r} has no stored partitions: run wk profile {table}")
    if partitions is None:
        if log.checked(table).empty:
            return [stored_parts[-1]]
        return [p for p in log.unchecked(table) if p in stored_parts]
    if isinstance(partitions, (str, pd.Timestamp)):
        partitions = [partitions]
    wanted = []
    for p in partitions:
        ts = _timestamp(p)
        if ts not in stored_parts:
            raise ConfigError(f"table {table!r} has no stored partition {p}: profile it first, "
                              f"or pick one from {stored_parts[0].date()} to "
                              f"{stored_parts[-1].date()}")
        wanted.append(ts)
    return sorted(set(wanted))


def _invalid(log: AlertLog, slo: pd.DataFrame, table: str) -> list[pd.Timestamp]:
    """Confirmed incidents' partitions and those with a failed critical SLO."""
    bad = set(log.invalid_partitions(table))
    if not slo.empty:
        failed = slo[slo["passed"].eq(False) & slo["severity"].eq("critical")]
        bad |= set(pd.DatetimeIndex(failed["partition"]))
    return sorted(bad)


def _judge(settings: AlertSettings, grain: Granularity, history: pd.DataFrame, targets,
           invalid, tops: pd.DataFrame | None = None, tolerances=None) -> list[Verdict]:
    """Each target against the partitions before it only, as the backtest judges it.

    Tolerances widen the detector's own bands (``fit(tolerance=...)``), so a series
    that earned one is graded, capped and ranked with its widened band.
    """
    widen = {k: t.multiplier for k, t in (tolerances or {}).items()}
    out = []
    for partition in targets:
        before = history[history["partition"] < partition]
        if before.empty:
            out.append(Verdict(partition, Severity.OK, 0.0, (), grain, judged=False))
            continue
        detector = settings.make_detector(grain.value)
        # Only what there is: a table without top values or tolerances fits as before.
        fit_extra = {"tolerance": widen} if widen else {}
        judge_extra = {}
        if tops is not None and not tops.empty:
            fit_extra["top_values"] = tops[tops["partition"] < partition]
            judge_extra["top_values"] = tops[tops["partition"] == partition]
        detector.fit(before, exclude=[p for p in invalid if p < partition], **fit_extra)
        out.extend(detector.judge(history[history["partition"] == partition], **judge_extra))
    return out


def _store_outcome(store: Store, log: AlertLog, table: str, targets, result: Batch,
                   detector: str | None = None) -> list[Incident]:
    """The incidents and the partitions judged, stored together: a check that fails in
    between stores neither, so the next one judges the same partitions again."""
    saved = [_save(store, i) for i in result.incidents]
    log.mark_checked(table, _partition_severities(targets, result), detector)
    return saved


def _save(store: Store, incident: Incident) -> Incident:
    if incident.change == "resolved":
        incident = incident.with_(resolved_at=pd.Timestamp.utcnow().tz_localize(None))
    saved = stored.save(store, incident) if incident.change else incident
    return saved.with_(change=incident.change)


def _partition_severities(targets, result: Batch) -> list[tuple]:
    worst = {p: Severity.OK for p in targets}
    for a in result.anomalies:
        if a.partition in worst and a.severity > worst[a.partition]:
            worst[a.partition] = a.severity
    return [(p.to_pydatetime(), s.value) for p, s in worst.items()]


def _notifies(incident: Incident) -> bool:
    # An info incident never paged, so its closing is not news either.
    return incident.notifies and incident.change in (*NOTIFY_ON, "resolved")


def _fire(incident: Incident, project, extra: dict | None = None):
    from ..triggers import Event, fire

    kind = "incident.resolved" if incident.change == "resolved" else "incident.opened"
    top = incident.ranked_anomalies()[0] if incident.anomalies else None
    fmt = incident.granularity.format
    context = {"score": round(float(min(incident.score, 1e12)), 3), "cause": incident.cause,
               "columns": list(incident.columns), "change": incident.change,
               "partitions": [fmt(p) for p in sorted(incident.partitions)],
               "impact": round(float(min(incident.impact, 1e12)), 3),
               "status": incident.status.value, **(extra or {})}
    event = Event(kind, table=incident.table, partition=incident.last_partition,
                  severity=incident.severity.value, incident_id=str(incident.id),
                  column=top.column if top else None, context=context)
    return fire(event, project) if project is not None else fire(event)


def _project(project):
    from ..config import FILENAME, Project

    if project is None:
        return Project.find()
    if isinstance(project, Project):
        return project
    path = Path(project)
    return Project.load(path if path.is_file() else path / FILENAME)


def _timestamp(value) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError(f"partition {value!r} is not a date: write e.g. 2024-01-31") from None
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts
