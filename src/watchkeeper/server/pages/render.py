"""Jinja2 rendering shared by the pages and the report. Autoescaping is on for every
template: a user string (a column named ``<script>``) is always text."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..records import dumps

HERE = Path(__file__).resolve().parent.parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _number(value) -> str:
    from ...cli.render import fmt_value

    return fmt_value(value)


def _statistics_text(values: dict) -> str:
    """``{statistic: value}`` as one line: ``mean 4.2 · null_fraction 0``."""
    from ...cli.render import fmt_value

    return " · ".join(f"{s} {fmt_value(v)}" for s, v in values.items())


def _percent(value) -> str:
    return "–" if value is None else f"{value:.1%}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    env.filters["statistics_text"] = _statistics_text
    env.filters["json_script"] = dumps
    return env


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)
