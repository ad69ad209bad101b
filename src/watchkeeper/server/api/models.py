"""``/api/models``: the pipelines' registered models, their versions and stage changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from .. import model_records
from ..security import require_read
from .pagination import ERRORS, LimitParam, OffsetParam, Page, page

router = APIRouter(prefix="/api/models", tags=["models"], dependencies=[Depends(require_read)],
                   responses=ERRORS)
ModelParam = Annotated[str, Query(min_length=1, max_length=300,
                                  description="A pipeline's registered model.")]


@router.get("", response_model=Page)
def list_models(request: Request, limit: LimitParam = 100, offset: OffsetParam = 0) -> Page:
    """Each pipeline of watchkeeper.yaml: ``model`` and its ``aliases`` (alias to version)."""
    return page(model_records.models(model_records.workspace_of(request)), limit, offset)


@router.get("/versions", response_model=Page)
def list_versions(request: Request, model: ModelParam, limit: LimitParam = 100,
                  offset: OffsetParam = 0) -> Page:
    """A model's versions, newest first, with aliases and metrics (the
    ``wk model list --format json`` shape)."""
    return page(model_records.versions(model_records.workspace_of(request), model), limit, offset)


@router.get("/stages", response_model=Page)
def list_stages(request: Request, model: ModelParam, limit: LimitParam = 100,
                offset: OffsetParam = 0) -> Page:
    """A model's alias changes (shadow, promote, roll back), newest first, with who made
    them and why."""
    return page(model_records.stages(model_records.workspace_of(request), model), limit, offset)
