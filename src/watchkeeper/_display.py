"""Rich display of results in Jupyter: ``_repr_html_ = repr_html`` in a result class.

The HTML (tables and the dashboard's charts) comes from ``watchkeeper.server.notebook``,
imported only when a notebook asks; without Jinja2 (the ``server`` extra) Jupyter falls
back to the plain ``repr``.
"""

from __future__ import annotations


def repr_html(result) -> str | None:
    from .server.notebook import html_of

    return html_of(result)


class BacktestResult(list):
    """The verdicts of a backtest, oldest partition first: a plain ``list`` of
    :class:`watchkeeper.detect.Verdict` that Jupyter shows as rich HTML (the score over
    time with the alerts marked, and the partitions that would have paged)."""

    _repr_html_ = repr_html
