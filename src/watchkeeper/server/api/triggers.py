"""``/api/triggers/log``: recent firings, their actions and every attempt."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Query, Request

from .. import records
from ..security import require_read
from .pagination import ERRORS, LimitParam, OffsetParam, Page

router = APIRouter(prefix="/api/triggers", tags=["triggers"],
                   dependencies=[Depends(require_read)],
                   responses=ERRORS)


@router.get("/log", response_model=Page)
def trigger_log(request: Request,
                trigger: Annotated[Optional[str], Query(description="Only this trigger.")] = None,
                limit: LimitParam = 20, offset: OffsetParam = 0) -> Page:
    """Firings, newest first (the ``wk triggers log --format json`` shape). ``total`` counts
    the firings up to this page's end, plus one when more follow."""
    store = request.app.state.workspace.store
    found = records.trigger_log(store, limit=offset + limit + 1, trigger=trigger)
    return Page(items=found[offset:offset + limit], total=len(found), limit=limit,
                offset=offset)
