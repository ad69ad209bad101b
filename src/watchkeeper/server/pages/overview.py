"""``/``: which tables are healthy, and the open incidents, most urgent first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .. import views
from ..security import require_read
from .common import respond

router = APIRouter(dependencies=[Depends(require_read)], include_in_schema=False)


@router.get("/")
def overview(request: Request):
    return respond(request, "overview.html", **views.overview(request.app.state.workspace))
