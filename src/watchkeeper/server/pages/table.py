"""``/table?name=T``: a table's columns, their health, and a chart per column."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Query, Request

from .. import views
from ..security import require_read
from .common import respond

router = APIRouter(dependencies=[Depends(require_read)], include_in_schema=False)


@router.get("/table")
def table(request: Request, name: str, column: Optional[str] = None,
          statistic: Optional[str] = None,
          chart_offset: Annotated[Optional[int], Query(ge=0, le=10**9)] = None):
    view = views.table(request.app.state.workspace, name, statistic, column, chart_offset)
    return respond(request, "table.html", table=view)
