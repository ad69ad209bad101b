"""Calendar days: public holidays and their eves, from the ``holidays`` package.

A holiday moves a table the way no ordinary day does (a third fewer orders, another
mix of customers), and one a year is too rare for a seasonal model to learn. The
detector therefore learns normal without calendar days and keeps them out of its
calibration. Whether a calendar day's deviation is expected is learned per series,
from the calendar days before it (:func:`calendar_expected`): a series that moved on
earlier holidays (orders, the mix of customers) may move again, up to
:data:`CALENDAR_REACH` times as far as it ever did; a series that holidays never moved
(a temperature) is judged as on any day. Until a series has :data:`MIN_CALENDAR_DAYS`
calendar days behind it, its calendar deviations are expected. On a calendar day whose
every anomalous series is expected, only a likely engineering fault pages (``_causes``).
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


CALENDAR_REACH = 2.0  # a calendar day may move a series twice as far as earlier ones did
MIN_CALENDAR_DAYS = 3  # calendar days a series needs behind it before its reaction is known


def calendar_expected(z: np.ndarray, holiday: np.ndarray, judged: np.ndarray,
                      rows: np.ndarray, window: int) -> np.ndarray:
    """Per (row of ``rows``, series): is the row's score ``z`` one its series' calendar
    days make expected? True on a calendar row whose series had fewer than
    :data:`MIN_CALENDAR_DAYS` judged calendar days in the ``window`` partitions before
    it, or scores at most :data:`CALENDAR_REACH` times its largest score on them (and at
    least the noise level 3); False on ordinary rows."""
    out = np.zeros((len(rows), z.shape[1]), dtype=bool)
    past = holiday & judged
    for i, r in enumerate(rows):
        if not holiday[r]:
            continue
        before = np.flatnonzero(past[max(0, r - window):r]) + max(0, r - window)
        if before.size < MIN_CALENDAR_DAYS:
            out[i] = True
            continue
        reach = np.fmax(3.0, CALENDAR_REACH * np.nanmax(z[before], axis=0))
        out[i] = z[r] <= reach
    return out


def calendar_mask(partitions: pd.DatetimeIndex, grain: Granularity,
                  calendar: str | None) -> tuple[np.ndarray, dict[int, str]]:
    """A boolean row mask of calendar days, and their names."""
    names = calendar_days(partitions, grain, calendar)
    mask = np.zeros(len(partitions), dtype=bool)
    if names:
        mask[list(names)] = True
    return mask, names
