"""What every page response shares: who is signed in, the CSRF token, its cookie."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from ..security import authenticated, csrf_token, set_csrf_cookie
from .render import render


def respond(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    settings = request.app.state.settings
    html = render(template, csrf=csrf_token(request), report=False, assets=None,
                  signed_in=authenticated(request, settings),
                  can_sign_in=bool(settings.token), **context)
    response = HTMLResponse(html, status_code=status_code,
                            headers={"Content-Security-Policy": CSP,
                                     "X-Content-Type-Options": "nosniff",
                                     "Referrer-Policy": "same-origin"})
    set_csrf_cookie(request, response)
    return response


# Scripts only from this server: even a string that escaped escaping could not run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
