"""``/api/quarantine``: the rows a managed table's ingests sent to quarantine."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Query, Request

from .. import records
from ..security import require_read
from .pagination import ERRORS, LimitParam, OffsetParam, Page, page

router = APIRouter(prefix="/api", tags=["quarantine"], dependencies=[Depends(require_read)],
                   responses=ERRORS)


@router.get("/quarantine", response_model=Page)
def list_quarantine(request: Request,
                    table: Annotated[str, Query(min_length=1, description="A managed table.")],
                    partition: Annotated[Optional[list[str]], Query(
                        description="Only these partitions (repeatable).")] = None,
                    all: Annotated[bool, Query(description="Include batches superseded by a "
                                                           "later ingest.")] = False,
                    limit: LimitParam = 100, offset: OffsetParam = 0) -> Page:
    """Quarantined rows with the checks they failed and their ingest (the
    ``wk quarantine --format json`` shape)."""
    workspace = request.app.state.workspace
    return page(records.quarantine(workspace.project, workspace.store, table,
                                   partitions=partition or None, include_superseded=all),
                limit, offset)
