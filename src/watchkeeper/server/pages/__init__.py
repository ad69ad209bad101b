"""Server-rendered pages: one module per page, each with a ``router``. A new page is one
more module here and one more entry in ``ROUTERS``."""

from __future__ import annotations

from . import incident, lineage, login, models, overview, quarantine, table

ROUTERS = [overview.router, table.router, incident.router, quarantine.router, models.router,
           lineage.router, login.router]
