"""What each page shows, as plain data: built once, rendered by the live pages and by
``wk report`` alike."""

from __future__ import annotations

import pandas as pd

from ..alerts import records as stored
from ..detect import Severity
from ..engine import Granularity
from .context import Workspace
from . import records

# The statistic a column's chart shows first, by what the column holds.
_DEFAULT_STATISTICS = ("mean", "null_fraction", "true_fraction", "distinct_count", "top_ratio",
                       "row_count")
_SHOWN = ("null_fraction", "mean", "p50", "distinct_count", "top_ratio", "true_fraction")
_RANK = {"ok": 0, "info": 1, "warning": 2, "critical": 3}


def overview(workspace: Workspace) -> dict:
    """Per table: freshness, SLO attainment and budget; open incidents ranked."""
    store = workspace.store
    attainment = records.slo_attainment(store, workspace.slo_spec())
    by_table: dict[str, list[dict]] = {}
    for row in attainment:
        by_table.setdefault(row["table"], []).append(row)
    open_incidents = records.incidents(workspace.project, store)
    tables = []
    now = pd.Timestamp.utcnow().tz_localize(None)
    for record in store.tables():
        state = store.partition_state(record.name)
        grain = records.grain_of(store, record.name)
        newest = state["partition"].max() if not state.empty else None
        checks = by_table.get(record.name, [])
        budgets = [c["budget_left_30"] for c in checks if c["budget_left_30"] is not None]
        mine = [i for i in open_incidents if i["table"] == record.name]
        tables.append({
            "name": record.name, "granularity": record.granularity,
            "partitions": len(state),
            "newest": grain.format(newest) if newest is not None else None,
            "age_days": None if newest is None else
            round((now - (newest + grain.offset)) / pd.Timedelta(days=1), 1),
            "checks": len(checks),
            "failing": [c["check"] for c in checks if not c["latest_passed"]],
            "attainment_30": min((c["attainment_30"] for c in checks), default=None),
            "budget_left_30": min(budgets, default=None),
            "incidents": len(mine),
            "worst": max((i["severity"] for i in mine), key=_RANK.get, default="ok"),
        })
    from ..managed.spec import load_managed

    managed = sorted(load_managed(workspace.project)) if workspace.project is not None else []
    return {"tables": tables, "incidents": open_incidents, "managed": managed}


CHARTS_PER_PAGE = 50
"""Column charts on one table page; the health table lists every column."""


def table(workspace: Workspace, name: str, statistic: str | None = None,
          column: str | None = None, chart_offset: int | None = None) -> dict:
    """A table's columns with their health and the statistic each chart shows
    (``statistic`` for ``column``, or for every column when ``column`` is None).
    Charts come ``CHARTS_PER_PAGE`` at a time from ``chart_offset`` (default: the page
    holding ``column``); ``chart_offset=-1`` charts every column (a report)."""
    store = workspace.store
    record = store.table(name)
    if record is None:
        store._require(name)  # raises, naming the profiled tables and the fix
    grain = Granularity.parse(record.granularity)
    state = store.partition_state(name)
    newest = state["partition"].max() if not state.empty else None
    # The newest partition only: its statistics are the newest values and the choice of
    # statistics per chart (a long history is read by the charts, one column at a time).
    newest_values: dict[str, dict] = {}
    if newest is not None:
        latest = store.load_statistics(name, partition=newest)
        for c, s, v in zip(latest["column"].tolist(), latest["statistic"].tolist(),
                           latest["value"].tolist()):
            newest_values.setdefault(c, {})[s] = v
    schema = store.columns(name)
    columns = [{"column": c, "kind": k, "dtype": d} for c, k, d in
               zip(schema["column"].tolist(), schema["kind"].tolist(), schema["dtype"].tolist())]
    active = stored.load_all(store, table=name)
    hits: dict[str, list] = {}
    for incident in active:
        for a in incident.anomalies:
            hits.setdefault(a.column, []).append((incident, a))
    failing: dict[str, list[str]] = {}
    for v in _newest_verdicts(store, name, grain):
        if v["passed"] is False:
            failing.setdefault(v["column"], []).append(v["check"])
    out = []
    for col in [{"column": "*", "kind": "table", "dtype": ""}, *columns]:
        here = col["column"]
        values = newest_values.get(here, {})
        have = [str(s) for s in values]
        asked = statistic if column in (None, here) else None
        chosen = asked if asked in have else next(
            (s for s in _DEFAULT_STATISTICS if s in have), have[0] if have else None)
        worst, why = "ok", {}
        for incident, a in hits.get(here, ()):
            if _RANK[a.severity.value] > _RANK[worst]:
                worst = a.severity.value
            why.setdefault(incident.id, {"incident": incident.id,
                                         "severity": incident.severity.value})
        if failing.get(here) and worst == "ok":
            worst = "warning"
        out.append({**col, "anchor": f"col-{len(out)}", "categorical": "top_ratio" in values,
                    "statistics": sorted(have), "statistic": chosen, "health": worst,
                    "incidents": list(why.values()), "failing": failing.get(here, []),
                    "latest": {s: records.plain(values[s]) for s in _SHOWN if s in values}})
    charted = [c for c in out if c["statistic"]]
    if chart_offset is None:
        at = next((i for i, c in enumerate(charted) if c["column"] == column), 0)
        chart_offset = at - at % CHARTS_PER_PAGE
    shown = charted if chart_offset < 0 else \
        charted[chart_offset:chart_offset + CHARTS_PER_PAGE]
    on_page = {c["column"] for c in shown}
    for c in out:
        c["on_page"] = c["column"] in on_page
    return {"name": name, "columns": out, "granularity": grain.value, "charts": shown,
            "chart_offset": max(chart_offset, 0), "charted": len(charted),
            "charts_per_page": CHARTS_PER_PAGE,
            "newest": grain.format(newest) if newest is not None else None,
            "incidents": [i.to_record(anomalies=False) for i in active
                          if i.severity >= Severity.INFO]}


def _newest_verdicts(store, name: str, grain: Granularity) -> list[dict]:
    """The newest stored verdict of each SLO check of the table."""
    newest: dict[str, dict] = {}
    for v in records.slo_results(store, name, grain=grain):  # oldest first: last one wins
        newest[v["check"]] = v
    return list(newest.values())


def incident(workspace: Workspace, incident_id: int) -> dict:
    """An incident: ranked anomalies, new and vanished categories, its feedback."""
    store = workspace.store
    record = records.incident(store, incident_id)
    partitions = [pd.Timestamp(p) for p in record["partitions"]]
    record["categories"] = [c for column in record["columns"]
                            if (c := categories(store, record["table"], column, partitions))]
    for a in record["anomalies"]:
        a["chart_column"], a["chart_statistic"] = chart_of(a)
    record["mutes"] = mutes(workspace, record["table"])
    return record


def mutes(workspace: Workspace, table: str) -> dict:
    """The table's mutes: ``stored`` (``wk alerts mute``, the dashboard; can be undone
    here) and ``declared`` (watchkeeper.yaml), as ``column`` or ``column.statistic``."""
    from ..alerts.settings import AlertSettings
    from ..alerts.tolerance import mutes_of
    from ..store.alerts import AlertLog

    declared = list(AlertSettings.of(workspace.project, table).mute)
    return {"stored": mutes_of(AlertLog(workspace.store).tolerances(table)),
            "declared": declared}


# The statistic that shows a failed SLO check of each kind (the anomaly names the kind).
_SLO_STATISTIC = {"not_null": "null_fraction", "coverage": "null_fraction",
                  "row_count": "row_count"}


def chart_of(anomaly: dict) -> tuple[str | None, str | None]:
    """The series to chart for an anomaly: its own, or for a failed SLO check the
    statistic that shows it (None when no stored statistic does)."""
    if anomaly["source"] != "slo":
        return anomaly["column"], anomaly["statistic"]
    statistic = _SLO_STATISTIC.get(anomaly["statistic"])
    if statistic == "row_count":
        return "*", statistic
    return (anomaly["column"], statistic) if statistic and anomaly["column"] else (None, None)


def categories(store, table: str, column: str, partitions: list[pd.Timestamp],
               window: int = 14) -> dict | None:
    """Top values of ``column`` in the incident's partitions that the ``window`` partitions
    before never listed (new), and those every one of them listed that are gone (vanished)."""
    top = store.load_top_values(table, column=column)
    if top.empty:
        return None
    first = min(partitions)
    before = sorted(p for p in top["partition"].unique() if p < first)[-window:]
    if not before:
        return None
    prior = top[top["partition"].isin(before)]
    usual = set.intersection(*(set(g["value"]) for _, g in prior.groupby("partition")))
    seen = set(prior["value"])
    now = top[top["partition"].isin(partitions)]
    new = sorted({str(v) for v in now["value"] if v not in seen})
    vanished = sorted(str(v) for v in usual - set(now["value"]))
    if not new and not vanished:
        return None
    return {"column": column, "new": new, "vanished": vanished, "window": len(before)}
