"""Gates: may this partition be used to train a model, or to serve from?

``gate(table, partition, for_="train")`` answers in four steps, each done by the
layer that owns it:

1. the table is profiled incrementally (only new or changed partitions are read;
   each fires ``partition.profiled``);
2. its SLO checks are evaluated on that partition, and the results stored; each
   failure fires ``slo.failed``, and a ``block`` action answering it blocks;
3. the partition is checked by the detector fitted on the EARLIER partitions only
   (``watchkeeper.check(..., partitions=[p])``, the backtest's code path), which
   keeps the table's incidents up to date; a partition whose stored verdict still
   stands is not judged again (``_to_judge`` says when it stands);
4. ``train.before`` / ``serve.before`` fires at the project's triggers; every
   ``block`` action adds its trigger's reason.

Without any trigger, a failed (or unevaluable) critical SLO check, or an active
incident with a critical anomaly IN this partition, blocks it. Only anomalies of
the partition itself count: an incident extended over later partitions must not
block an earlier one (no look-ahead).

Override: a person closes the incident (``wk alerts resolve ID`` or ``wk alerts
false-positive ID``, stored with user, time and note). That lifts the critical
findings the incident lists for the partition, SLO failures included; they are
reported under ``waived``. There is no ``--force``: a gate you can skip from the
command line is not a gate, and ``wk gate ... || true`` already says so openly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import Project, TableSpec
from ..engine.sources import folder_hint
from ..engine.types import Granularity
from ..errors import ConfigError, EmptySourceError, SourceError, UnknownTableError
from .gate_findings import Findings, Reason
from .._display import repr_html

PURPOSES = ("train", "serve")
_EVENT = {"train": "train.before", "serve": "serve.before"}
_SOURCE_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv")

log = logging.getLogger("watchkeeper.gate")


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer for one partition. ``bool(decision)`` is ``decision.allowed``.

    ``severity`` is the worst finding in the partition that no person waived (the
    severity of the ``train.before`` / ``serve.before`` event); ``incidents`` are
    the active incidents with an anomaly in it.
    """

    allowed: bool
    reasons: list[Reason]
    partition: str
    table: str
    for_: str
    severity: str = "ok"
    incidents: list[int] = field(default_factory=list)
    waived: list[Reason] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.allowed

    _repr_html_ = repr_html  # Jupyter: tables and charts (watchkeeper.server.notebook)

    def describe(self) -> str:
        """One line with the answer, then one indented line per reason."""
        head = (f"{'allowed' if self.allowed else 'blocked'}: {self.table} {self.partition} "
                f"for {self.for_}")
        lines = [head, *(f"  - {r}" for r in self.reasons)]
        lines += [f"  waived: {r}" for r in self.waived]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "table": self.table, "partition": self.partition,
                "for": self.for_, "severity": self.severity, "incidents": list(self.incidents),
                "reasons": [r.to_dict() for r in self.reasons],
                "waived": [r.to_dict() for r in self.waived]}


def gate(table, partition, *, for_: str = "train", project=None, store=None, source=None,
         partition_column: str | None = None, granularity: str | None = None,
         slo=None) -> GateDecision:
    """May ``partition`` of ``table`` be used ``for_`` ``"train"`` or ``"serve"``?

    ``table`` is a registered name, a :class:`watchkeeper.TableSpec`, or a
    Parquet/CSV path (then pass ``partition_column=``). ``source`` (a frame, an
    Ibis table, a path) replaces the table's registered source, e.g. a managed
    table's current version. ``project`` is a :class:`watchkeeper.Project`, its
    folder or file (default: the nearest one); ``store`` defaults to its store;
    ``slo`` (a :class:`watchkeeper.slo.TableSLO`) to its ``slos:`` for the table.

    Bad input (an unknown table, a malformed date, a partition the source does not
    have) raises a :class:`watchkeeper.errors.UserError`.
    """
    [decision] = gate_many(table, [partition], for_=for_, project=project, store=store,
                           source=source, partition_column=partition_column,
                           granularity=granularity, slo=slo)
    return decision


def gate_many(table, partitions, *, for_: str = "train", project=None, store=None,
              source=None, partition_column: str | None = None, granularity: str | None = None,
              slo=None) -> list[GateDecision]:
    """:func:`gate` for several partitions (oldest first), with one profile, one SLO
    evaluation and one check for all: what a read of many partitions should call.

    Each partition is still judged against the partitions before it only.
    """
    from .dispatch import _project

    if for_ not in PURPOSES:
        raise ConfigError(f"for_={for_!r} is not one of {', '.join(PURPOSES)}")
    project = _project(project)
    spec = _table_spec(table, project, partition_column, granularity, source is not None)
    grain = Granularity.parse(spec.granularity)
    if isinstance(partitions, (str, date)) or not hasattr(partitions, "__iter__"):
        partitions = [partitions]  # one partition, not the characters of its text
    starts = sorted({partition_start(p, grain) for p in partitions})
    if not starts:
        return []
    store = store if store is not None else (project.store() if project is not None
                                             else _default_store())
    root = project.root if project is not None else None
    data = source if source is not None else _parse(spec.source, root)
    _profile(data, spec, grain, starts, store, project)
    slo_results, slo_blocks = _evaluate_slos(data, spec, grain, starts, project, store, slo)

    from ..alerts import check, records

    # The incidents touching these partitions, read once for all of them.
    touching = records.load_all(store, table=spec.name, active=False, partitions=starts)
    stale = _to_judge(store, spec.name, grain, starts, slo_results, touching, project)
    if stale:
        check(spec.name, project, partitions=stale, store=store)
        touching = records.load_all(store, table=spec.name, active=False, partitions=starts)
    by_partition: dict = {}  # the SLO results split once, not filtered per partition
    for row in slo_results.to_dict("records"):
        by_partition.setdefault(pd.Timestamp(row["partition"]), []).append(row)
    return [_decide(spec.name, start, grain, for_, project, store, by_partition.get(start, []),
                    slo_blocks.get(start, []), touching)
            for start in starts]


def _to_judge(store, table: str, grain: Granularity, starts: list[pd.Timestamp],
              slo_results: pd.DataFrame, incidents, project) -> list[pd.Timestamp]:
    """The partitions the detector must judge (again): all but those whose stored verdict
    still stands (see ``AlertLog.standing``: judged by the same detector version and
    parameters, nothing changed under it since) and that have nothing open to update: no
    failing or unevaluable SLO check now, no active incident. A project file edited since
    (detector or alert settings) judges them all again."""
    from ..alerts.settings import AlertSettings
    from ..store.alerts import AlertLog

    detector = AlertSettings.of(project, table).detector_key(grain.value)
    standing = AlertLog(store).standing(table, [s.to_pydatetime() for s in starts], detector)
    if standing and project is not None and project.path.is_file():
        edited = pd.Timestamp(project.path.stat().st_mtime, unit="s")
        standing = {p: at for p, at in standing.items() if at > edited}
    failing = slo_results[slo_results["passed"].ne(True) | slo_results["error"].notna()]
    open_here = {p for i in incidents if i.status.active for p in i.partitions}
    return [s for s in starts if s not in standing or s in open_here
            or bool((failing["partition"] == s).any())]


def _decide(table: str, start: pd.Timestamp, grain: Granularity, for_: str, project, store,
            slo_results: list[dict], slo_blocks: list, incidents=None) -> GateDecision:
    findings = Findings.collect(store, table, start, grain, slo_results, incidents)
    fired = _fire(findings, table, start, for_, project)
    reasons = findings.blocking + [_trigger_reason(r, f.matched)
                                   for f in (*slo_blocks, fired) for r in f.reasons]
    decision = GateDecision(not reasons, reasons, grain.format(start), table, for_,
                            findings.severity, findings.incident_ids, findings.waived)
    log.info("%s", decision.describe())
    return decision


def gate_ok(table, partition, *, for_: str = "train", missing_ok: bool = False,
            **kwargs) -> bool:
    """``gate(...).allowed``, logging the reasons (for orchestrators: see docs/triggers.md).

    ``missing_ok=True`` answers False, instead of raising, for a partition the
    source does not have yet: a sensor then waits for the data to arrive.
    """
    try:
        decision = gate(table, partition, for_=for_, **kwargs)
    except EmptySourceError as exc:
        if not missing_ok:
            raise
        log.warning("not yet: %s", exc)
        return False
    if not decision.allowed:
        log.warning("%s", decision.describe())
    return decision.allowed


def partition_start(value, grain: Granularity) -> pd.Timestamp:
    """A partition's start from a date, timestamp or ISO text; it must start a partition."""
    return grain.start_of(value)


# -- the steps ---------------------------------------------------------------------------
def _table_spec(table, project: Project | None, partition_column, granularity,
                has_source: bool) -> TableSpec:
    if isinstance(table, TableSpec):
        spec = table
    elif project is not None and table in project.tables:
        spec = project.tables[table]
    elif has_source or _is_path(str(table)):
        if not partition_column:
            raise ConfigError(f"{table!r} is not a registered table, so its partition column "
                              "is unknown: pass partition_column= (--partition-column COL)")
        name = str(table)
        if not has_source and "://" not in name and not name.startswith(("duckdb:", "spark:")):
            name = str(Path(name).expanduser().resolve())
        return TableSpec(name, name, partition_column, granularity or "day")
    elif folder_hint(str(table)):
        raise SourceError(folder_hint(str(table)))
    else:
        known = ", ".join(sorted(project.tables)) if project is not None else ""
        hint = f" (registered: {known})" if known else ""
        raise UnknownTableError(f"{table!r} is not a registered table{hint} nor a file path: "
                                "register it with wk table add, or pass a .parquet/.csv path")
    if partition_column or granularity:
        spec = TableSpec(spec.name, spec.source, partition_column or spec.partition_column,
                         granularity or spec.granularity, spec.consumers)
    return spec


def _is_path(text: str) -> bool:
    return (text.startswith(("duckdb:", "postgresql://", "postgres://", "spark:"))
            or text.lower().endswith(_SOURCE_SUFFIXES) or "/" in text or "*" in text)


def _parse(source: str, root):
    from ..engine import parse_source

    return parse_source(source, root)


def _default_store():
    from ..store import Store

    return Store.open()


def _profile(data, spec: TableSpec, grain: Granularity, starts: list[pd.Timestamp],
             store, project) -> None:
    from ..summaries import profile
    from .announce import announce_profiled

    result = profile(data, partition_column=spec.partition_column, granularity=grain,
                     name=spec.name, store=store)
    announce_profiled(result, project)
    missing = [grain.format(p) for p in starts if p not in set(result.partitions)]
    if missing:
        first, last = grain.format(min(result.partitions)), grain.format(max(result.partitions))
        raise EmptySourceError(f"table {spec.name!r} has no rows in partition "
                               f"{', '.join(missing)} (its partitions run from {first} to "
                               f"{last}): check the date")


def _evaluate_slos(data, spec: TableSpec, grain: Granularity, starts: list[pd.Timestamp],
                   project, store, slo) -> tuple[pd.DataFrame, dict]:
    """The partitions' SLO results, and the ``slo.failed`` firings that a ``block``
    action answered, by partition (their reasons block the gate too)."""
    from ..slo import evaluate, load_spec
    from .announce import announce_slo_failed

    if slo is None and project is not None:
        slo = load_spec(project).for_table(spec.name)
    if slo is None or not slo.checks:
        return pd.DataFrame(columns=["check", "partition", "severity", "passed", "error"]), {}
    result = evaluate(data, slo, partition_column=spec.partition_column, granularity=grain,
                      partitions=starts, store=store, name=spec.name,
                      others=dict(project.tables) if project is not None else {},
                      root=project.root if project is not None else None)
    blocks: dict = {}
    for fired in announce_slo_failed(result, project):
        if fired.reasons:
            blocks.setdefault(partition_start(fired.event.partition, grain), []).append(fired)
    return result.results[result.results["partition"].isin(starts)], blocks


def _fire(findings: Findings, table: str, start: pd.Timestamp, for_: str, project):
    from .dispatch import fire
    from .events import Event

    event = Event(_EVENT[for_], table=table, partition=start, severity=findings.severity,
                  incident_id=str(findings.top_incident) if findings.top_incident else None,
                  column=findings.top_column,
                  context={"for": for_, "failed_checks": findings.failed_checks,
                           "incidents": findings.incident_ids,
                           "blocked_by": [r.message for r in findings.blocking]})
    return fire(event, project)


def _trigger_reason(text: str, matched) -> Reason:
    # FireResult.reasons read "TRIGGER: REASON (TABLE PARTITION)"; the longest
    # matching name wins, in case one trigger's name prefixes another's.
    names = sorted((m for m in matched if text.startswith(f"{m}: ")), key=len, reverse=True)
    return Reason("trigger", text, trigger=names[0] if names else None)
