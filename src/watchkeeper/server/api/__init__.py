"""The REST API: one module per resource, each with a ``router``. A new resource (models,
lineage) is one more module here and one more entry in ``ROUTERS``."""

from __future__ import annotations

from . import incidents, mutes, quarantine, slo, tables, triggers

ROUTERS = [tables.router, slo.router, incidents.router, mutes.router, triggers.router,
           quarantine.router]
