"""The dashboard: a REST API, server-rendered pages and self-contained HTML reports.

``create_app(project)`` builds the FastAPI application that ``wk serve`` runs on
uvicorn; ``write_report(table, out)`` writes what ``wk report`` writes;
``BacktestResult(verdicts)`` shows a backtest's verdicts in Jupyter. Everything
here needs the ``server`` extra (``pip install 'watchkeeper[server]'``): FastAPI
and uvicorn serve, Jinja2 renders the pages, and uPlot (vendored under
``static/vendor/uplot``) draws the charts. See docs/dashboard.md.

Each API resource is one module under ``api/`` and each page one module under
``pages/``; both register themselves in their package's ``ROUTERS`` list.
"""

from __future__ import annotations

__all__ = ["BacktestResult", "create_app", "write_report"]


def __getattr__(name: str):
    # Lazy: ``import watchkeeper.server`` must not import FastAPI until it is used.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "BacktestResult":
        from .._display import BacktestResult

        return BacktestResult
    if name == "write_report":
        from .report import write_report

        return write_report
    raise AttributeError(name)
