"""Rich HTML for Jupyter: what ``_repr_html_`` of a profile, validation, check, gate or
backtest result shows, with the dashboard's charts (uPlot and the chart data inlined, like a
``wk report``). Needs Jinja2 (the ``server`` extra); without it Jupyter falls back to
the plain ``repr``."""

from __future__ import annotations

import uuid

from .records import plain

_SHOWN = ("mean", "null_fraction", "true_fraction", "distinct_count", "row_count")
MAX_CHARTS = 12


def html_of(result) -> str | None:
    try:
        from .pages.render import render
        from .report import assets
    except ImportError:
        return None
    kind = type(result).__name__
    view = {"ProfileResult": _profile, "ValidationResult": _validation,
            "CheckResult": _check, "GateDecision": _gate,
            "BacktestResult": _backtest}[kind](result)
    prefix = f"wk-{uuid.uuid4().hex[:10]}"  # several outputs share one page
    for i, chart in enumerate(view.get("charts", [])):
        chart["id"] = f"{prefix}-{i}"
    return render("notebook.html", kind=kind, view=view, assets=assets())


def _series(table, column, statistic, points, bands=(), alerts=()) -> dict:
    return {"table": table, "column": column, "statistic": statistic, "points": points,
            "bands": list(bands), "limits": [], "alerts": list(alerts)}


def _profile(result) -> dict:
    fmt = result.granularity.format
    stats = result.statistics
    charts = []
    for column, group in stats.groupby("column", sort=False):
        have = set(group["statistic"])
        statistic = next((s for s in _SHOWN if s in have), None)
        if statistic is None or len(charts) >= MAX_CHARTS:
            continue
        rows = group[group["statistic"] == statistic].sort_values("partition")
        charts.append(_series(result.table, str(column), statistic,
                              [{"partition": fmt(p), "value": plain(v)}
                               for p, v in zip(rows["partition"], rows["value"])]))
    return {"title": f"Profile of {result.table}",
            "facts": {"partitions": len(result.partitions), "computed": len(result.refreshed),
                      "unchanged": result.skipped, "columns": stats["column"].nunique()},
            "notices": [f"{n.column}: {n.message}" for n in result.notices],
            "charts": charts}


def _validation(result) -> dict:
    rows = list(result.records())
    rows.sort(key=lambda r: (r["passed"] is not False and not r["error"], r["partition"]))
    return {"title": f"SLO checks of {result.table}",
            "facts": {"verdicts": len(rows), "failed": len(result.failed()),
                      "critical failed": len(result.failed("critical")), "ok": result.ok},
            "rows": [{k: r[k] for k in ("partition", "check", "severity", "passed", "observed",
                                        "unexpected_count", "error")} for r in rows[:200]]}


def _check(result) -> dict:
    charts, incidents = [], []
    for incident in result.incidents:
        record = incident.to_record()
        incidents.append(record)
        for a in record["anomalies"][:3]:
            if not a["history"] or len(charts) >= MAX_CHARTS:
                continue
            points = a["history"] + [{"partition": a["partition"], "value": a["observed"]}]
            band = {"partition": a["partition"], "low": a["expected_low"],
                    "high": a["expected_high"], "incident": record["id"]}
            mark = {"partition": a["partition"], "incident": record["id"],
                    "severity": a["severity"], "status": record["status"],
                    "source": a["source"], "check": a["check"]}
            charts.append(_series(record["table"], a["column"], a["statistic"], points,
                                  [band] if a["source"] == "detector" else [], [mark]))
    return {"title": f"Check of {result.table}",
            "facts": {"partitions judged": len(result.partitions),
                      "incidents": len(incidents)},
            "incidents": incidents, "charts": charts}


def _gate(decision) -> dict:
    record = decision.to_dict()
    return {"title": f"Gate: {'allowed' if decision.allowed else 'blocked'}",
            "facts": {"table": record["table"], "partition": record["partition"],
                      "for": record["for"], "severity": record["severity"]},
            "reasons": [str(r) for r in decision.reasons],
            "waived": [str(r) for r in decision.waived]}


def _backtest(verdicts) -> dict:
    """The score of every judged partition, alerts marked; the partitions that would have
    paged (warning or worse), with the columns to blame."""
    judged = [v for v in verdicts if v.judged]
    ranks = {"ok": 0, "info": 1, "warning": 2, "critical": 3}
    paged = [v for v in judged if ranks[v.severity.value] >= 2]
    points = [{"partition": v.granularity.format(v.partition), "value": plain(v.score)}
              for v in judged]
    marks = [{"partition": v.granularity.format(v.partition), "incident": None,
              "severity": v.severity.value, "status": "backtest", "source": "detector",
              "check": None} for v in paged]
    charts = [_series("backtest", "all columns", "score (bits)", points, (), marks)] \
        if points else []
    return {"title": "Backtest",
            "facts": {"partitions": len(verdicts), "judged": len(judged),
                      "would have paged": len(paged),
                      "critical": sum(v.severity.value == "critical" for v in paged)},
            "alerts": [{"partition": v.granularity.format(v.partition),
                        "severity": v.severity.value, "score": plain(v.score),
                        "cause": v.extra.get("cause"),
                        "columns": [f"{e.column} · {e.statistic}" for e in v.columns[:3]]}
                       for v in paged[:100]],
            "charts": charts}
