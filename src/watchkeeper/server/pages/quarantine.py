"""``/quarantine?table=T``: a managed table's quarantined rows, one record per row (readable
for wide tables), grouped by ingest, with a CSV export."""

from __future__ import annotations

import csv
import io
import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .. import records
from ..security import require_read
from .common import respond

router = APIRouter(dependencies=[Depends(require_read)], include_in_schema=False)
PAGE = 50


@router.get("/quarantine")
def quarantine(request: Request, table: str, offset: int = 0):
    workspace = request.app.state.workspace
    rows = records.quarantine(workspace.project, workspace.store, table)
    offset = max(0, offset)
    shown = rows[offset:offset + PAGE]
    ingests: dict[str, list[dict]] = {}
    for row in shown:
        ingests.setdefault(str(row.get("_wk_ingest_id")), []).append(row)
    return respond(request, "quarantine.html", table=table, total=len(rows), offset=offset,
                   page=PAGE, ingests=ingests)


@router.get("/quarantine/export.csv")
def export(request: Request, table: str):
    """Every quarantined row as CSV (lists as JSON text; text that a spreadsheet would
    take for a formula starts with a quote)."""
    workspace = request.app.state.workspace
    rows = records.quarantine(workspace.project, workspace.store, table)
    out = io.StringIO()
    names = list(rows[0]) if rows else ["_wk_row", "_wk_failed_checks", "_wk_ingest_id"]
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in table)
    return Response(out.getvalue(), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{safe}-quarantine.csv"'})


def _cell(value):
    if isinstance(value, list):
        value = json.dumps(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
