"""Server-rendered pages: one module per page, each with a ``router``. A new page (models,
lineage) is one more module here and one more entry in ``ROUTERS``."""

from __future__ import annotations

from . import incident, login, overview, table

ROUTERS = [overview.router, table.router, incident.router, login.router]
