"""``/api/slo``: stored SLO verdicts and attainment with error budgets."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Query, Request

from .. import records
from ..security import require_read
from .pagination import ERRORS, LimitParam, OffsetParam, Page, page

router = APIRouter(prefix="/api/slo", tags=["slo"], dependencies=[Depends(require_read)],
                   responses=ERRORS)


@router.get("/results", response_model=Page)
def list_results(request: Request, table: Annotated[str, Query(min_length=1)],
                 check: Annotated[Optional[str], Query(description="Only this check.")] = None,
                 limit: LimitParam = 100, offset: OffsetParam = 0) -> Page:
    """Verdicts per (check, partition), oldest first (the ``wk validate --format json`` shape)."""
    store = request.app.state.workspace.store
    store._require(table)
    return page(records.slo_results(store, table, check), limit, offset)


@router.get("/attainment", response_model=Page)
def list_attainment(request: Request,
                    table: Annotated[Optional[str], Query(description="Only this table.")] = None,
                    limit: LimitParam = 100, offset: OffsetParam = 0) -> Page:
    """Attainment over 7/30/90 partitions and error budget left, per (table, check)
    (the ``wk slo status --format json`` shape)."""
    workspace = request.app.state.workspace
    return page(records.slo_attainment(workspace.store, workspace.slo_spec(), table),
                limit, offset)
