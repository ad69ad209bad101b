"""``/login``: sign a browser in with the server's token (a session cookie, not the token)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from ..security import SESSION_COOKIE, check_csrf, form_fields, session_value
from .common import respond

router = APIRouter(include_in_schema=False)


def _local(target: str) -> str:
    # Only paths on this server: a crafted ?next= must not send the user elsewhere.
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return respond(request, "login.html", next=_local(next), error=None)


@router.post("/login")
async def login(request: Request):
    form = await form_fields(request)
    check_csrf(request, form.get("csrf"))
    token, next = form.get("token", ""), form.get("next", "/")
    settings = request.app.state.settings
    if not settings.token or not hmac.compare_digest(token.encode(), settings.token.encode()):
        return respond(request, "login.html", status_code=401, next=_local(next),
                       error="that is not the server's token")
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, session_value(settings.token), httponly=True,
                        samesite="strict")
    return response
