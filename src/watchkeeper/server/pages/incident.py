"""``/incidents/ID``: one incident explained, with charts and feedback buttons."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from .. import views
from ..api.incidents import Action, give_feedback
from ..security import check_csrf, form_fields, require_read, require_write
from .common import respond

router = APIRouter(dependencies=[Depends(require_read)], include_in_schema=False)


@router.get("/incidents/{incident_id}")
def incident(request: Request, incident_id: int):
    return respond(request, "incident.html",
                   incident=views.incident(request.app.state.workspace, incident_id))


@router.post("/incidents/{incident_id}/feedback", dependencies=[Depends(require_write)])
async def feedback(request: Request, incident_id: int):
    form = await form_fields(request)
    check_csrf(request, form.get("csrf"))
    action, note = form.get("action", ""), form.get("note", "")
    if action not in Action.__members__:
        raise HTTPException(400, f"unknown feedback {action!r}: use ack, resolve or "
                                 "false_positive")
    await run_in_threadpool(give_feedback, request, incident_id, action, note[:2000])
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
