"""``/incidents/ID``: one incident explained, with charts and feedback buttons."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from .. import views
from ...alerts import records as stored
from ..api.incidents import Action, give_feedback
from ..api.mutes import set_mute
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


@router.post("/incidents/{incident_id}/mute", dependencies=[Depends(require_write)])
async def mute(request: Request, incident_id: int):
    """Mute (``muted=true``) or unmute a column of the incident's table, or one statistic
    of it; back to the incident."""
    form = await form_fields(request)
    check_csrf(request, form.get("csrf"))
    column, statistic = form.get("column", ""), form.get("statistic", "")
    muted = form.get("muted", "true")
    if muted not in ("true", "false"):
        raise HTTPException(400, f"muted must be true or false, not {muted[:40]!r}")
    store = request.app.state.workspace.store
    found = await run_in_threadpool(stored.load, store, incident_id)
    await run_in_threadpool(set_mute, request, found.table, column[:1000],
                            statistic[:200] or None, None, muted == "true")
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
