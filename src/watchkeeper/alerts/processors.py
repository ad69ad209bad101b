"""The alert processor chain: verdicts and failed SLO checks in, ranked incidents out.

A processor is a plain function ``processor(batch, **params) -> batch`` (the
structlog shape): it reads a :class:`Batch` and returns a new one. The chain is
declared as data in ``watchkeeper.yaml``; each entry is a processor name, or a
one-key mapping from the name to its parameters::

    alerts:
      processors:
        - detector_anomalies
        - slo_anomalies
        - apply_tolerances
        - assign_severity
        - group_by_partition: {wide_columns: 3}
        - merge_ongoing
        - resolve_recovered
        - rank: {usage_weight: 1.0}
        - explain: {points: 14}

A name with a colon (``mypackage.alerts:route``) imports a function of your own,
from the project file only.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import pandas as pd

from ..detect._calibration import TAIL_INDEX
from ..detect import Severity, Verdict
from ..engine.types import Granularity
from ..errors import ConfigError
from .tolerance import Tolerance
from .model import Anomaly, Incident, Status

TABLE = "*"


@dataclass(frozen=True)
class Batch:
    """Everything one run of the chain knows, and what it has produced so far.

    ``levels`` are the detector's (info, warning, critical) score thresholds;
    ``known`` are stored incidents of the table that are active or cover a judged
    partition; ``judged`` are the partitions this run looked at.
    """

    table: str
    granularity: Granularity = Granularity.DAY
    levels: tuple[float, float, float] = (4.0, 7.0, 14.0)  # detect.thresholds("medium")
    verdicts: tuple[Verdict, ...] = ()
    slo_results: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    tolerances: Mapping[tuple[str, str], Tolerance] = field(default_factory=dict)
    consumers: int = 0
    known: tuple[Incident, ...] = ()
    judged: tuple[pd.Timestamp, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    incidents: tuple[Incident, ...] = ()


Processor = Callable[[Batch], Batch]


# -- anomalies ------------------------------------------------------------------------
def detector_anomalies(batch: Batch) -> Batch:
    """One anomaly per explained (column, statistic) of every judged verdict."""
    found = [Anomaly(batch.table, pd.Timestamp(v.partition), e.column, e.statistic, e.observed,
                     e.expected_low, e.expected_high, e.score,
                     tolerance=getattr(e, "tolerance", 1.0))
             for v in batch.verdicts if v.judged for e in v.columns]
    return replace(batch, anomalies=batch.anomalies + tuple(found))


def slo_anomalies(batch: Batch) -> Batch:
    """One anomaly per failed SLO check (passed is False) of a judged partition."""
    frame = batch.slo_results
    if frame is None or frame.empty:
        return batch
    failed = frame[frame["passed"].eq(False)]
    found = []
    for row in failed.to_dict("records"):
        observed = row.get("observed")
        if observed is None or pd.isna(observed):
            observed = row.get("unexpected_fraction")
        found.append(Anomaly(
            batch.table, pd.Timestamp(row["partition"]), _column(row.get("column")),
            str(row["kind"]), _float(observed), source="slo",
            severity=Severity(str(row["severity"])), check=str(row["check"]),
            score=_float(row.get("unexpected_fraction"), 0.0)))
    return replace(batch, anomalies=batch.anomalies + tuple(found))


def _column(value) -> str:
    """A result's column, or ``TABLE`` for a table-level check (stored results read the
    missing column back as None or NaN, depending on what else the frame holds)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return TABLE
    return str(value)


def apply_tolerances(batch: Batch) -> Batch:
    """Scores lowered and bands widened by the tolerance that false positives earned
    (only a note when the detector already applied it: ``Anomaly.tolerance`` equals it)."""
    out = []
    for a in batch.anomalies:
        tol = batch.tolerances.get(a.key)
        if a.source != "detector" or tol is None or tol.multiplier == 1.0:
            out.append(a)
            continue
        m = tol.multiplier
        if a.tolerance == m:  # the detector already widened this band (fit(tolerance=))
            out.append(replace(a, note=tol.note))
            continue
        # A score is bits of surprise falling by TAIL_INDEX bits per doubling of the distance
        # (``_calibration``): a distance divided by m loses TAIL_INDEX log2(m) bits.
        center = (a.expected_low + a.expected_high) / 2
        half = (a.expected_high - a.expected_low) / 2 * m
        out.append(replace(a, score=max(0.0, a.score - TAIL_INDEX * math.log2(m)),
                           expected_low=center - half, expected_high=center + half,
                           tolerance=m, note=tol.note))
    return replace(batch, anomalies=tuple(out))


def assign_severity(batch: Batch, info: float | None = None, warning: float | None = None,
                    critical: float | None = None) -> Batch:
    """Detector anomalies graded by score (below ``info`` they are dropped); an SLO
    failure keeps the severity its check declares, so a broken critical SLO is critical."""
    lo, mid, hi = (x if x is not None else d for x, d in zip((info, warning, critical),
                                                             batch.levels))
    out = []
    for a in batch.anomalies:
        if a.source != "detector":
            out.append(a)
            continue
        level = (Severity.CRITICAL if a.score >= hi else Severity.WARNING if a.score >= mid
                 else Severity.INFO if a.score >= lo else Severity.OK)
        if level > Severity.OK:
            out.append(replace(a, severity=level))
    return replace(batch, anomalies=tuple(out))


# -- incidents ----------------------------------------------------------------------------
def group_by_partition(batch: Batch, wide_columns: int = 3, wide_share: float = 0.5) -> Batch:
    """Every anomaly of one partition goes into one incident: never one page per column.

    The cause names the likely upstream problem: a row-count change is a load
    problem; ``wide_columns`` or more columns (and ``wide_share`` of the table) at
    once point at one upstream change rather than many separate ones.
    """
    n_columns = _column_count(batch)
    by_partition: dict[pd.Timestamp, list[Anomaly]] = {}
    for a in batch.anomalies:
        by_partition.setdefault(a.partition, []).append(a)
    made = []
    for partition in sorted(by_partition):
        group = by_partition[partition]
        made.append(Incident(batch.table, (partition,), tuple(group), _worst(group),
                             _score(group), cause=_cause(group, n_columns, wide_columns,
                                                         wide_share),
                             consumers=batch.consumers, granularity=batch.granularity,
                             change="opened"))
    return replace(batch, incidents=batch.incidents + tuple(made))


def merge_ongoing(batch: Batch) -> Batch:
    """Fold each new incident into the one it continues.

    - A re-checked partition updates the incident that already covers it (a
      closed one keeps its human verdict: nothing reopens).
    - The same columns going wrong in the next partition extend an active
      incident instead of opening another.
    """
    known = {inc.id: inc for inc in batch.known}
    previous = _previous_partition(batch)
    out: list[Incident] = []
    for new in sorted(batch.incidents, key=lambda i: i.first_partition):
        if new.change != "opened":
            out.append(new)
            continue
        partition = new.first_partition
        pool = [i for i in [*known.values(), *out] if i.table == new.table]
        covering = next((i for i in pool if partition in i.partitions), None)
        if covering is not None:
            merged = _absorb(covering, new, "updated") if covering.status.active else None
        else:
            before = previous.get(partition)
            ongoing = next((i for i in pool if i.status.active and before is not None
                            and i.last_partition == before and i.columns == new.columns), None)
            merged = _absorb(ongoing, new, "extended") if ongoing is not None else new
        if merged is None:
            continue
        if merged.id is not None:
            known[merged.id] = merged
        out = [i for i in out if i is not merged and not _same(i, merged)] + [merged]
    return replace(batch, incidents=tuple(out))


def resolve_recovered(batch: Batch) -> Batch:
    """An active incident whose partitions were all re-checked and found clean resolves.

    The bad data of a partition does not heal by itself; only a re-profile (a
    backfill) that judges clean resolves it.
    """
    hot = {p for i in batch.incidents for p in i.partitions}
    clean = set(batch.judged) - {a.partition for a in batch.anomalies}
    out = list(batch.incidents)
    for inc in batch.known:
        if (inc.status.active and inc.id not in {i.id for i in out if i.id is not None}
                and set(inc.partitions) <= clean and not set(inc.partitions) & hot):
            out.append(inc.with_(status=Status.RESOLVED, change="resolved"))
    return replace(batch, incidents=tuple(out))


def rank(batch: Batch, usage_weight: float = 1.0, score_cap: float = 1000.0) -> Batch:
    """Order by severity, then impact = min(score, cap) x (1 + w log2(1 + consumers)).

    A table that feeds many models or dashboards outranks an equally broken one
    nobody reads; the cap keeps one infinite score from burying everything else.
    """
    usage = 1.0 + usage_weight * math.log2(1 + max(batch.consumers, 0))
    scored = [i.with_(impact=min(i.score, score_cap) * usage, consumers=batch.consumers)
              for i in batch.incidents]
    return replace(batch, incidents=tuple(sorted(scored, key=rank_key)))


def explain(batch: Batch, points: int = 14) -> Batch:
    """Attach to each detector anomaly the ``points`` values of its series before it."""
    history = batch.history
    if history is None or history.empty:
        return batch
    fmt = batch.granularity.format
    series = {k: g.sort_values("partition") for k, g in
              history.groupby(["column", "statistic"], sort=False)}

    def with_history(a: Anomaly) -> Anomaly:
        if a.history or a.source != "detector":
            return a
        rows = series.get(a.key)
        if rows is None:
            return a
        rows = rows[rows["partition"] < a.partition].tail(points)
        return replace(a, history=tuple((fmt(pd.Timestamp(p)), _float(v)) for p, v in
                                        zip(rows["partition"], rows["value"])))

    done = [i.with_(anomalies=tuple(with_history(a) for a in i.anomalies))
            for i in batch.incidents]
    return replace(batch, incidents=tuple(done))


def rank_key(incident: Incident) -> tuple:
    return (-incident.severity.rank, -incident.impact, -incident.score,
            -pd.Timestamp(incident.last_partition).value, incident.table)


# -- the registry and the chain ------------------------------------------------------------
PROCESSORS: dict[str, Callable[..., Batch]] = {
    f.__name__: f for f in (detector_anomalies, slo_anomalies, apply_tolerances,
                            assign_severity, group_by_partition, merge_ongoing,
                            resolve_recovered, rank, explain)}

DEFAULT_CHAIN: tuple[str, ...] = tuple(PROCESSORS)


def build_chain(spec: Sequence | None = None) -> list[Processor]:
    """Processors from their declaration (names, or ``{name: {param: value}}``)."""
    out = []
    for entry in DEFAULT_CHAIN if spec is None else spec:
        name, params = _entry(entry)
        func = _resolve(name)
        try:
            bound = partial(func, **params)
            bound(Batch("-"))  # fail now on an unknown parameter, not mid-check
        except TypeError as exc:
            raise ConfigError(f"alerts processor {name!r}: bad parameters {params}: "
                              f"{exc}") from None
        out.append(bound)
    return out


def run_chain(batch: Batch, chain: Sequence[Processor]) -> Batch:
    for processor in chain:
        batch = processor(batch)
    return batch


def _entry(entry) -> tuple[str, dict]:
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, Mapping) and len(entry) == 1:
        name, params = next(iter(entry.items()))
        if params is None or isinstance(params, Mapping):
            return str(name), dict(params or {})
    raise ConfigError(f"alerts processor entry {entry!r} must be a name or "
                      "{name: {param: value}}")


def _resolve(name: str) -> Callable[..., Batch]:
    if name in PROCESSORS:
        return PROCESSORS[name]
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            raise ConfigError(f"alerts processor {name!r} cannot be imported: check the "
                              "module:function path") from None
    raise ConfigError(f"unknown alerts processor {name!r}: use one of {', '.join(PROCESSORS)}"
                      " or module:function")


# -- helpers ---------------------------------------------------------------------------------
def _float(value, default: float = math.nan) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(out) else out


def _worst(anomalies) -> Severity:
    return max((a.severity for a in anomalies), key=lambda s: s.rank, default=Severity.INFO)


def _score(anomalies) -> float:
    return max((a.score for a in anomalies if a.source == "detector"), default=0.0)


def _column_count(batch: Batch) -> int:
    if batch.history is None or batch.history.empty:
        return 0
    return int(batch.history.loc[batch.history["column"] != TABLE, "column"].nunique())


def _cause(group, n_columns: int, wide_columns: int, wide_share: float) -> str:
    loud = [a for a in group if a.severity >= Severity.WARNING] or list(group)
    columns = sorted({a.column for a in loud if a.column != TABLE})
    parts = []
    if any(a.column == TABLE and a.statistic == "row_count" for a in loud):
        parts.append("row count changed: a partial or duplicated load upstream")
    if len(columns) >= wide_columns and (n_columns == 0 or len(columns) >= wide_share * n_columns):
        parts.append(f"{len(columns)} columns at once: one upstream change (load, join, schema)")
    elif columns:
        parts.append(f"column{'s' if len(columns) > 1 else ''} {', '.join(columns)}")
    slo = sorted({a.check for a in loud if a.source == "slo"})
    if slo:
        parts.append(f"SLO {', '.join(slo)} failed")
    return "; ".join(parts)


def _previous_partition(batch: Batch) -> dict[pd.Timestamp, pd.Timestamp]:
    """Each judged partition's predecessor among the known partitions (gaps allowed)."""
    known = set(batch.judged)
    if batch.history is not None and not batch.history.empty:
        known |= set(pd.DatetimeIndex(batch.history["partition"].unique()))
    ordered = sorted(known)
    return {p: q for q, p in zip(ordered, ordered[1:])}


def _absorb(target: Incident, new: Incident, change: str) -> Incident:
    partition = new.first_partition
    kept = tuple(a for a in target.anomalies if a.partition != partition)
    anomalies = kept + new.anomalies
    severity = _worst(anomalies)
    if change == "extended" and severity > target.severity:
        change = "escalated"
    if target.change == "opened":
        change = "opened"  # still new in this run: one notification, not two
    return target.with_(partitions=tuple(sorted(set(target.partitions) | {partition})),
                        anomalies=anomalies, severity=severity, score=_score(anomalies),
                        cause=new.cause if change == "updated" else target.cause or new.cause,
                        change=change)


def _same(a: Incident, b: Incident) -> bool:
    return a.id is not None and a.id == b.id or (a.id is None and b.id is None
                                                 and a.partitions[0] == b.partitions[0])
