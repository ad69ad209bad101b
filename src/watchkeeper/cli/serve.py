"""``wk serve`` (the dashboard and REST API) and ``wk report`` (one HTML file).

FastAPI, uvicorn and Jinja2 are imported only when these commands run, so the other
commands never pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ..errors import ConfigError
from . import app, render
from ._common import _project


def _require_server_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"the dashboard needs {exc.name}: pip install "
                          "'watchkeeper[server]'") from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; beyond loopback, reads "
                                           "need the token too unless --open-read.")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    open_read: Annotated[bool, typer.Option("--open-read", help="Let anyone who reaches "
                                            "the server read without the token.")] = False,
) -> None:
    """Run the dashboard and REST API (writes need WK_SERVER_TOKEN). Ctrl-C stops it."""
    _require_server_extra()
    import uvicorn

    from ..server import create_app
    from ..server.context import TOKEN_ENV, Settings

    settings = Settings.from_env(host, open_read)
    if settings.read_needs_token and not settings.token:
        raise ConfigError(f"--host {host} is beyond loopback: set {TOKEN_ENV} (reads then "
                          "need it) or pass --open-read to serve reads to anyone")
    application = create_app(_project(), settings=settings)
    shown = f"[{host}]" if ":" in host else host
    render.err.print(f"watchkeeper dashboard on http://{escape(shown)}:{port}/ (API: /api, "
                     f"spec: /api/openapi.json); feedback "
                     + ("on: sign in with the token" if settings.token else
                        f"off: set {TOKEN_ENV} to enable it"))
    uvicorn.run(application, host=host, port=port, log_level="info")


@app.command()
def report(
    table: Annotated[str, typer.Argument(metavar="NAME", help="A profiled table.")],
    out: Annotated[Optional[Path], typer.Option(help="File to write (default: "
                                                     "NAME-report.html).")] = None,
) -> None:
    """Write one self-contained HTML file: the table page and its open incidents."""
    _require_server_extra()
    from ..server import write_report

    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in table)
    path = write_report(table, out or Path(f"{safe}-report.html"), _project())
    render.console.print(f"Wrote {escape(str(path))}: open it in a browser (no network needed).")
