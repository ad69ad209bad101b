"""Every list the API returns is one page: ``items``, ``total``, ``limit``, ``offset``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

MAX_LIMIT = 1000


class Page(BaseModel):
    """One page of a list; ask for the next with ``offset = offset + limit``."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
OffsetParam = Annotated[int, Query(ge=0, le=10**9, description="Items to skip.")]


def page(items: list[dict], limit: int, offset: int) -> Page:
    return Page(items=items[offset:offset + limit], total=len(items), limit=limit,
                offset=offset)
