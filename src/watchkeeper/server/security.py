"""Who may do what: a token from the environment for writes, CSRF-safe forms.

- API writes carry ``Authorization: Bearer <token>``.
- A browser signs in once at ``/login`` with the token; the server answers with a
  session cookie holding an HMAC of the token (never the token itself). The session
  counts for the pages' forms only, never for API writes.
- Every form carries a CSRF token equal to the ``wk_csrf`` cookie (double submit):
  another site can make a browser send the cookie but cannot read it into the form.
- Reads are open on loopback; beyond it they need the token too, unless
  ``--open-read``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request

from .context import TOKEN_ENV, Settings

SESSION_COOKIE = "wk_session"
CSRF_COOKIE = "wk_csrf"
CSRF_FIELD = "csrf"


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"watchkeeper-dashboard-session", hashlib.sha256).hexdigest()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authenticated(request: Request, settings: Settings, *, session: bool = True) -> bool:
    """The request presents the token (header) or, if ``session``, a session signed in
    with it."""
    if not settings.token:
        return False
    given = _bearer(request)
    if given is not None and hmac.compare_digest(given.encode(), settings.token.encode()):
        return True
    if not session:
        return False
    cookie = request.cookies.get(SESSION_COOKIE)
    return cookie is not None and hmac.compare_digest(cookie, session_value(settings.token))


def require_write(request: Request) -> None:
    """A dependency of every write endpoint: 401/403 with the fix in the message."""
    settings: Settings = request.app.state.settings
    if not settings.token:
        raise HTTPException(403, f"write actions are off: start wk serve with {TOKEN_ENV} set "
                                 "in its environment")
    # API writes take the header only: a browser's session cookie counts on the pages,
    # whose forms carry the CSRF token.
    api = request.url.path.startswith("/api/")
    if not authenticated(request, settings, session=not api):
        raise HTTPException(401, "this action needs the server's token: send "
                                 "Authorization: Bearer <token>, or sign in at /login",
                            headers={"WWW-Authenticate": "Bearer"})


def require_read(request: Request) -> None:
    settings: Settings = request.app.state.settings
    if settings.read_needs_token and not authenticated(request, settings):
        raise HTTPException(401, "this server listens beyond loopback: reading needs its token "
                                 "(Authorization: Bearer <token>, or sign in at /login)",
                            headers={"WWW-Authenticate": "Bearer"})


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (the cookie's, or a fresh one the response sets)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing
    if not hasattr(request.state, "new_csrf"):
        request.state.new_csrf = secrets.token_urlsafe(32)
    return request.state.new_csrf


def set_csrf_cookie(request: Request, response) -> None:
    new = getattr(request.state, "new_csrf", None)
    if new:
        response.set_cookie(CSRF_COOKIE, new, httponly=True, samesite="strict")


def check_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted or not hmac.compare_digest(cookie, submitted):
        raise HTTPException(403, "the form's CSRF token does not match this browser's: reload "
                                 "the page and submit again")


async def form_fields(request: Request, limit: int = 16_384) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as ``{name: first value}`` (the forms
    here are small; no multipart parser needed)."""
    from urllib.parse import parse_qs

    body = await request.body()
    if len(body) > limit:
        raise HTTPException(413, f"form too large (over {limit} bytes)")
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}
