"""``/api/lineage`` and ``/api/trace``: which partitions trained a model version, and
which version (trained on what) produced a prediction batch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from .. import model_records
from ..security import require_read
from .pagination import BAD_REQUEST, ERRORS, LimitParam, OffsetParam

router = APIRouter(prefix="/api", tags=["lineage"], dependencies=[Depends(require_read)],
                   responses=ERRORS)


@router.get("/lineage", responses=BAD_REQUEST)
def get_lineage(request: Request,
                model: Annotated[str, Query(min_length=1, max_length=300, description=(
                    "MODEL or MODEL@VERSION (a number or an alias); default: the champion, "
                    "else the challenger."))],
                limit: LimitParam = 100, offset: OffsetParam = 0) -> dict[str, Any]:
    """The ``wk lineage --format json`` object; each table's ``partitions`` list is one
    page (``limit``, ``offset``) and ``partitions_total`` counts them all."""
    found = model_records.model_lineage(model_records.workspace_of(request), model)
    return model_records.page_partitions(found, limit, offset)


@router.get("/trace")
def get_trace(request: Request,
              batch: Annotated[str, Query(min_length=1, max_length=300, description=(
                  "A prediction batch id (wk predict prints it)."))],
              limit: LimitParam = 100, offset: OffsetParam = 0) -> dict[str, Any]:
    """The ``wk trace --format json`` object; the model's partitions are paged as in
    ``/api/lineage``."""
    found = model_records.trace(model_records.workspace_of(request), batch)
    return {**found, "model": model_records.page_partitions(found["model"], limit, offset)}
