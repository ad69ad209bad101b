"""The FastAPI application: the API routers, the page routers, static assets, errors.

User mistakes (an unknown table, an unknown incident) answer 404/400 with the same
one-line message the CLI prints, as JSON under ``/api`` and as a page elsewhere.
"""

from __future__ import annotations

import contextlib

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from .._version import __version__
from ..alerts import UnknownIncidentError
from ..errors import UnknownTableError, UserError
from .api import ROUTERS as API_ROUTERS
from .context import Settings, Workspace
from .held_store import HeldStore
from .pages import ROUTERS as PAGE_ROUTERS
from .pages.common import respond
from .pages.render import STATIC


def create_app(project=None, *, store=None, settings: Settings | None = None) -> FastAPI:
    """The dashboard of ``project`` (a :class:`watchkeeper.Project`; default: the nearest
    ``watchkeeper.yaml``, else the store of ``WK_STORE_URL``); ``store`` overrides the
    project's store. ``settings`` default to the environment (``WK_SERVER_TOKEN``) on
    loopback."""
    if project is None:
        from ..config import Project

        project = Project.find()
    workspace = Workspace(project, store)
    # Open (and migrate) the store now, once: not in several request threads at a time.
    workspace.store.schema_version()
    held = None
    if not workspace.store.url.startswith(("postgresql:", "postgres:")):
        held = HeldStore(workspace.store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        if held is not None:
            held.close()

    app = FastAPI(title="watchkeeper", version=__version__,
                  description="Tables, partition summaries, SLO results, incidents with "
                              "feedback, and the trigger log. Lists are paginated "
                              "(limit, offset). See docs/dashboard.md.",
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
                  lifespan=lifespan)
    app.state.workspace = workspace
    app.state.settings = settings or Settings.from_env()
    if held is not None:
        app.middleware("http")(_one_at_a_time(held))
    for router in (*API_ROUTERS, *PAGE_ROUTERS):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(UserError, _user_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    return app


def _one_at_a_time(held: HeldStore):
    """DuckDB stores: one request at a time, on the connection :class:`HeldStore` keeps
    for a burst of requests."""
    async def middleware(request: Request, call_next):
        if request.url.path.startswith("/static/"):
            return await call_next(request)
        return await held.run(lambda: call_next(request))

    return middleware


def _status(exc: UserError) -> int:
    return 404 if isinstance(exc, (UnknownTableError, UnknownIncidentError)) else 400


def _answer(request: Request, status: int, message: str, headers=None):
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return respond(request, "error.html", status_code=status, status=status, message=message)


async def _user_error(request: Request, exc: UserError):
    return _answer(request, _status(exc), str(exc))


async def _http_error(request: Request, exc: HTTPException):
    return _answer(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def _invalid_request(request: Request, exc: RequestValidationError):
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors())
    return respond(request, "error.html", status_code=422, status=422, message=problems)
