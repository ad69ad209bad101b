"""The JSON the API answers with: the ``--format json`` shapes of the ``wk`` commands.

Each function names the command whose lines it reproduces; a test compares them
with the command's own output, so the API never grows a second vocabulary.
"""

from __future__ import annotations

import json

import pandas as pd

from .. import alerts
from .._util import json_value as plain, redact_url
from ..engine import Granularity
from ..slo.attainment import attainment
from ..slo.evaluate import ValidationResult
from ..store import Store, TableRecord
from ..store.alerts import AlertLog
from ..store.slo_results import load_results


def frame_records(frame: pd.DataFrame) -> list[dict]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def table(record: TableRecord) -> dict:
    """``wk table list --format json``; a source URL's password is hidden."""
    return {"name": record.name, "source": redact_url(record.source),
            "partition_column": record.partition_column, "granularity": record.granularity}


def grain_of(store: Store, name: str) -> Granularity:
    record = store.table(name)
    return Granularity.parse(record.granularity if record else "day")


def partitions(store: Store, name: str) -> list[dict]:
    """``partition`` and ``row_count`` of every stored partition, oldest first."""
    fmt = grain_of(store, name).format
    state = store.partition_state(name)
    return [{"partition": fmt(p), "row_count": int(n)}
            for p, n in zip(state["partition"], state["row_count"])]


def summaries(store: Store, name: str, column: str, statistic: str | None = None,
              grain: Granularity | None = None) -> list[dict]:
    """``wk summary NAME --column C --format json``, optionally one statistic only."""
    fmt = (grain or grain_of(store, name)).format
    stats = store.load_statistics(name, column=column,
                                  statistics=[statistic] if statistic else None)
    return [{"partition": fmt(row.partition), "column": row.column,
             "statistic": row.statistic, "value": plain(row.value)}
            for row in stats.itertuples(index=False)]


def top_values(store: Store, name: str, column: str) -> list[dict]:
    """A column's most frequent values per partition: ``partition, column, rank, value,
    ratio`` (share of the partition's rows), oldest partition first."""
    fmt = grain_of(store, name).format
    top = store.load_top_values(name, column=column)
    return [{"partition": fmt(row.partition), "column": row.column, "rank": int(row.rank),
             "value": plain(row.value), "ratio": plain(row.ratio)}
            for row in top.itertuples(index=False)]


def slo_results(store: Store, name: str, check: str | None = None,
                grain: Granularity | None = None) -> list[dict]:
    """``wk validate --format json`` lines, for the verdicts the store keeps."""
    frame = load_results(store, name, check=check)
    grain = grain or grain_of(store, name)
    frame = frame.drop(columns=["table", "evaluated_at"])
    frame = frame.astype(object).where(frame.notna(), None)  # a stored NaN sample is none
    return [{k: plain(v) for k, v in r.items()}
            for r in ValidationResult(name, grain, frame).records()]


def slo_attainment(store: Store, spec, name: str | None = None,
                   target: float | None = None) -> list[dict]:
    """``wk slo status [TABLE] --format json``."""
    results = load_results(store, name)
    out = []
    for table_name, group in results.groupby("table"):
        frame = attainment(group, target or spec.target_of(table_name))
        for row in frame.to_dict("records"):
            row["latest_partition"] = str(row["latest_partition"])
            out.append({k: plain(v) for k, v in row.items()})
    return out


def incidents(project, store: Store, *, table: str | None = None,
              include_closed: bool = False) -> list[dict]:
    """``wk alerts [--all] --format json``: ranked, most urgent first."""
    found = alerts.incidents(project, table=table, include_closed=include_closed,
                             min_severity="info" if include_closed else "warning", store=store)
    return [i.to_record(anomalies=False) for i in found]


def incident(store: Store, incident_id: int) -> dict:
    """``wk alerts show ID --format json``: the incident, its anomalies and feedback."""
    found = alerts.records.load(store, incident_id)
    notes = AlertLog(store).feedback(found.id)
    record = found.to_record()
    record["feedback"] = [{"action": r["action"], "user": r["user_name"], "note": r["note"],
                           "at": str(r["created_at"])} for r in notes.to_dict("records")]
    return record


def trigger_log(store: Store, *, limit: int, trigger: str | None = None) -> list[dict]:
    """``wk triggers log --format json``: newest firing first, with actions and attempts."""
    from ..store.trigger_log import TriggerLog

    log = TriggerLog(store)
    firings = log.firings(limit=limit, trigger=trigger)
    keys = list(firings["firing_key"])
    if not keys:
        return []
    actions, attempts = log.actions(keys), log.attempts(keys)
    by_key = {k: g for k, g in actions.groupby("firing_key")}
    tries = {k: g for k, g in attempts.groupby(["firing_key", "action_index"])}
    out = []
    for firing in frame_records(firings):
        acts = frame_records(by_key.get(firing["firing_key"], actions.iloc[:0]))
        for a in acts:
            a["attempt_log"] = frame_records(tries.get((firing["firing_key"], a["action_index"]),
                                                       attempts.iloc[:0]))
        out.append({**firing, "actions": acts})
    return out


def quarantine(project, store: Store, name: str, *, partitions=None,
               include_superseded: bool = False) -> list[dict]:
    """``wk quarantine NAME --format json``: quarantined rows with ``_wk_row``,
    ``_wk_failed_checks`` and ``_wk_ingest_id``."""
    from ..managed import managed_table

    rows = managed_table(name, project, store=store).quarantine(
        partitions=partitions, include_superseded=include_superseded, format="pandas")
    return [{k: plain(v) for k, v in row.items()} for row in rows.to_dict("records")]


def dumps(value) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<`` is escaped, so no
    user string can close the script element."""
    return (json.dumps(value, default=str).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))
