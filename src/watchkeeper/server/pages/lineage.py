"""``/lineage?model=M[@V]``: which partitions trained a model version, by table and role,
with the incidents on them; ``/trace?batch=ID``: which version produced a prediction
batch, from which partitions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from .. import model_records
from ..security import require_read
from .common import respond

router = APIRouter(dependencies=[Depends(require_read)], include_in_schema=False)
Text = Annotated[str, Query(min_length=1, max_length=300)]


@router.get("/lineage")
def lineage(request: Request, model: Text):
    found = model_records.model_lineage(request.app.state.workspace, model)
    return respond(request, "lineage.html", lineage=summarised(found), trace=None)


@router.get("/trace")
def trace(request: Request, batch: Text):
    found = model_records.trace(request.app.state.workspace, batch)
    return respond(request, "lineage.html", lineage=summarised(found["model"]), trace=found)


def summarised(lineage: dict) -> dict:
    """Each table's partitions as runs by role (``train``: 14 partitions, first .. last);
    every partition stays listed, for the page's details."""
    tables = []
    for table in lineage["tables"]:
        roles: dict[str, list[dict]] = {}
        for p in table["partitions"]:
            roles.setdefault(p["role"], []).append(p)
        tables.append({**table, "roles": [
            {"role": role, "count": len(parts), "first": parts[0]["partition"][:10],
             "last": parts[-1]["partition"][:10]} for role, parts in roles.items()]})
    return {**lineage, "tables": tables}
