"""Calendar days: public holidays and their eves, from the ``holidays`` package.

A holiday moves a table the way no ordinary day does (a third fewer orders, another
mix of customers), and one a year is too rare for a seasonal model to learn. The
detector therefore learns normal without calendar days, keeps them out of its
calibration, and expects their deviations: on a calendar day only a likely
engineering fault pages (``_causes``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..engine.types import Granularity
from ..errors import ConfigError


@lru_cache(maxsize=32)
def _holidays(calendar: str, years: tuple[int, ...]) -> dict:
    try:
        import holidays
    except ImportError:  # pragma: no cover - a dependency of the package
        raise ConfigError("calendars need the holidays package: pip install holidays") from None
    country, _, subdiv = calendar.partition("-")
    try:
        found = holidays.country_holidays(country.upper(), subdiv=subdiv.upper() or None,
                                          years=list(years))
    except (NotImplementedError, KeyError, ValueError) as exc:
        raise ConfigError(f"calendar {calendar!r} is not known to the holidays package "
                          f"({exc}): use an ISO country code such as 'US' or 'US-CA'"
                          ) from None
    return {pd.Timestamp(day): str(name) for day, name in found.items()}


def check_calendar(calendar) -> str | None:
    """``calendar`` checked (an ISO code like ``US`` or ``DE-BY``), or None for none."""
    if calendar is None or calendar == "":
        return None
    if not isinstance(calendar, str):
        raise ConfigError(f"calendar {calendar!r} must be an ISO country code such as 'US'")
    _holidays(calendar, (2024,))  # an unknown code fails here, when the detector is built
    return calendar


def calendar_days(partitions: pd.DatetimeIndex, grain: Granularity,
                  calendar: str | None) -> dict[int, str]:
    """Rows of ``partitions`` that hold a holiday or its eve: row -> the holiday's name."""
    if calendar is None or len(partitions) == 0:
        return {}
    years = tuple(range(partitions.min().year - 1, partitions.max().year + 2))
    days = _holidays(calendar, years)
    out: dict[int, str] = {}
    span = 7 if grain is Granularity.WEEK else 1
    for row, start in enumerate(partitions):
        day = pd.Timestamp(start).normalize()
        for offset in range(span):
            d = day + pd.Timedelta(days=offset)
            if d in days:
                out[row] = days[d]
                break
            eve = d + pd.Timedelta(days=1)
            if eve in days:
                out[row] = f"eve of {days[eve]}"
                break
    return out


def calendar_mask(partitions: pd.DatetimeIndex, grain: Granularity,
                  calendar: str | None) -> tuple[np.ndarray, dict[int, str]]:
    """A boolean row mask of calendar days, and their names."""
    names = calendar_days(partitions, grain, calendar)
    mask = np.zeros(len(partitions), dtype=bool)
    if names:
        mask[list(names)] = True
    return mask, names
