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


class Error(BaseModel):
    """A refused request: one line naming the problem and the fix."""

    detail: str


ERRORS: dict = {
    401: {"model": Error, "description": "The server's token is needed (writes; reads "
                                         "beyond loopback)."},
    404: {"model": Error, "description": "No such table or incident in the store."},
}
WRITE_ERRORS: dict = {403: {"model": Error, "description": "Writes are off: the server "
                                                          "has no WK_SERVER_TOKEN."}}
BAD_REQUEST: dict = {400: {"model": Error, "description": "A request the store refuses: "
                                                          "the message names the fix."}}
