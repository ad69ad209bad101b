"""The REST API: one module per resource, each with a ``router``. A new resource is one
more module here and one more entry in ``ROUTERS``."""

from __future__ import annotations

from . import incidents, lineage, models, mutes, quarantine, slo, tables, triggers

ROUTERS = [tables.router, slo.router, incidents.router, mutes.router, triggers.router,
           quarantine.router, models.router, lineage.router]
