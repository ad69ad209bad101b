"""``wk report TABLE``: one self-contained HTML file (styles, scripts and chart data
inlined; no network needed to open it) with the table page and its open incidents."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .context import Workspace
from .pages.render import STATIC, render
from .series import series
from . import records, views

_ASSETS = {"css": ("vendor/uplot/uPlot.min.css", "wk.css"),
           "js": ("vendor/uplot/uPlot.iife.min.js", "wk.js")}


def assets() -> dict[str, str]:
    """Our own and the vendored files, to inline (none holds ``</script`` or ``</style``)."""
    return {kind: "\n".join((STATIC / name).read_text(encoding="utf-8") for name in names)
            for kind, names in _ASSETS.items()}


def render_report(workspace: Workspace, table: str) -> str:
    table_view = views.table(workspace, table, chart_offset=-1)
    spec = workspace.slo_spec()
    charts: list[dict] = []

    def add(column: str, statistic: str) -> int:
        charts.append(series(workspace.store, spec, table, column, statistic))
        return len(charts) - 1

    top_values: list[list[dict]] = []
    for column in table_view["charts"]:
        column["inline"] = add(column["column"], column["statistic"])
        if column["categorical"]:
            top_values.append(records.top_values(workspace.store, table, column["column"]))
            column["top_inline"] = len(top_values) - 1
    incidents = []
    for listed in table_view["incidents"]:
        incident = views.incident(workspace, listed["id"])
        for a in incident["anomalies"][:10]:
            if a["chart_statistic"]:
                a["chart"] = add(a["chart_column"], a["chart_statistic"])
        incidents.append(incident)
    return render("report.html", table=table_view, incidents=incidents, charts=charts,
                  top_values=top_values,
                  report=True, assets=assets(), signed_in=False, can_sign_in=False, csrf="",
                  generated_at=pd.Timestamp.utcnow().strftime("%Y-%m-%d %H:%M UTC"))


def write_report(table: str, out: str | Path, project=None, *, store=None) -> Path:
    """Write the report of ``table`` to ``out``; returns the path written."""
    html = render_report(Workspace(project, store), table)
    path = Path(out)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # all or nothing: a failed render leaves any old report intact
    return path
