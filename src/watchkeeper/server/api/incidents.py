"""``/api/incidents``: incidents ranked, one explained, and feedback on it."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from ... import alerts
from .. import records
from ..security import require_read, require_write
from .pagination import ERRORS, WRITE_ERRORS, LimitParam, OffsetParam, Page, page

router = APIRouter(prefix="/api/incidents", tags=["incidents"],
                   dependencies=[Depends(require_read)],
                   responses=ERRORS)
IdParam = Annotated[int, Path(ge=1, le=2**62, description="The incident id.")]


class Action(str, Enum):
    ack = "ack"
    resolve = "resolve"
    false_positive = "false_positive"


class Feedback(BaseModel):
    """What ``wk alerts ack|resolve|false-positive ID --note TEXT`` records."""

    action: Action
    note: Optional[str] = Field(None, max_length=2000)


@router.get("", response_model=Page)
def list_incidents(request: Request,
                   table: Annotated[Optional[str], Query(description="Only this table.")] = None,
                   all: Annotated[bool, Query(description="Also info-level and closed ones.")
                                  ] = False,
                   limit: LimitParam = 100, offset: OffsetParam = 0) -> Page:
    """Incidents, most urgent first (the ``wk alerts --format json`` shape)."""
    workspace = request.app.state.workspace
    return page(records.incidents(workspace.project, workspace.store, table=table,
                                  include_closed=all), limit, offset)


@router.get("/{incident_id}")
def get_incident(request: Request, incident_id: IdParam) -> dict[str, Any]:
    """One incident with its ranked anomalies and feedback (``wk alerts show --format json``)."""
    return records.incident(request.app.state.workspace.store, incident_id)


@router.post("/{incident_id}/feedback", dependencies=[Depends(require_write)],
             responses=WRITE_ERRORS)
def post_feedback(request: Request, incident_id: IdParam, body: Feedback) -> dict[str, Any]:
    """Acknowledge, resolve or mark a false positive; needs the server's token. Returns the
    incident as ``GET`` does."""
    give_feedback(request, incident_id, body.action.value, body.note)
    return records.incident(request.app.state.workspace.store, incident_id)


def give_feedback(request: Request, incident_id: int, action: str, note: str | None) -> None:
    workspace = request.app.state.workspace
    alerts.feedback(incident_id, action, note=note or None, project=workspace.project,
                    store=workspace.store)
