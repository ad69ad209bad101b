"""``/api/mutes``: a table's muted columns and (column, statistic) pairs, and muting one."""

from __future__ import annotations

from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ... import alerts
from ...alerts.tolerance import mutes_of
from ...store.alerts import AlertLog
from ..security import require_read, require_write
from .pagination import BAD_REQUEST, ERRORS, WRITE_ERRORS

router = APIRouter(prefix="/api/mutes", tags=["mutes"], dependencies=[Depends(require_read)],
                   responses=ERRORS)


class Mute(BaseModel):
    """What ``wk alerts mute|unmute TABLE COLUMN [--statistic S] [--note TEXT]`` records."""

    table: str = Field(min_length=1, max_length=1000)
    column: str = Field(min_length=1, max_length=1000)
    statistic: Optional[str] = Field(None, min_length=1, max_length=200,
                                     description="Only this statistic; default: all of them.")
    note: Optional[str] = Field(None, max_length=2000)
    muted: bool = Field(True, description="false unmutes.")


@router.get("")
def get_mutes(request: Request, table: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    """The table's stored mutes, ``column`` or ``column.statistic`` (the
    ``wk alerts mute --format json`` shape)."""
    store = request.app.state.workspace.store
    store._require(table)
    return {"table": table, "muted": mutes_of(AlertLog(store).tolerances(table))}


@router.post("", dependencies=[Depends(require_write)],
             responses={**WRITE_ERRORS, **BAD_REQUEST})
def post_mute(request: Request, body: Mute) -> dict[str, Any]:
    """Mute (or with ``muted: false`` unmute) a column or one of its statistics; needs the
    server's token. Returns the table's mutes afterwards, as ``GET`` does."""
    return {"table": body.table, "muted": set_mute(request, body.table, body.column,
                                                   body.statistic, body.note, body.muted)}


def set_mute(request: Request, table: str, column: str, statistic: str | None,
             note: str | None, muted: bool) -> list[str]:
    workspace = request.app.state.workspace
    return alerts.mute(table, column, statistic or None, note=note or None, unmute=not muted,
                       project=workspace.project, store=workspace.store)
