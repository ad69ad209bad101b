"""Seeded synthetic tables, one per phenomenon that makes real tables hard to monitor.

Each generator returns a daily-partitioned :class:`~.real.Dataset` whose rows are an
ordinary table plus one phenomenon a detector must not page on (it is real, not a
fault). The same seed gives the same rows. :data:`GENERATORS` lists them by name:

- ``zero_inflated``: columns that are 0 on most days or rows (rain, waiting days,
  cancellations), positive on some;
- ``holidays``: US public holidays and their eves (from the ``holidays`` package):
  20-35% fewer rows, a shifted mix, prices ramping through the December season;
- ``extreme_days``: about 3% of days are storms that move correlated columns together
  (wind, rain, visibility, and the NULL fractions of two sensor columns);
- ``bursts``: groups of 5-15 related rows sharing one value (a group booking) land in
  small partitions;
- ``volatile_volume``: the row count swings by +-40-60% from one day to the next;
- ``trend``: volume and amounts grow steeply (3x over the period);
- ``calendar_flags``: 0/1 columns constant within a day (weekend, holiday, month end,
  promotion);
- ``small_partitions``: about 30 rows a day, small integers, 2-3-valued categories.

Some also hold an often-NULL column (35-60% NULL: a coupon, a special request, a
referrer, a tip), where added NULLs hide in the natural variance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .real import Dataset, _strings

START = "2023-01-02"
DAYS = 365


def _days(start: str = START, days: int = DAYS) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=days, freq="D")


def _dataset(name: str, parts: list[pd.DataFrame], description: str) -> Dataset:
    return Dataset(name, _strings(pd.concat(parts, ignore_index=True)), "day", "day",
                   description)


def zero_inflated(seed: int = 0, days: int = DAYS) -> Dataset:
    """Weather-station readings: rain is 0 on ~70% of days; waits and cancellations are
    0 on most rows."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, day in enumerate(_days(days=days)):
        n = int(rng.poisson(120))
        season = np.sin(2 * np.pi * i / 365)
        rainy = rng.random() < 0.3
        rain = np.where(rng.random(n) < 0.6, rng.gamma(0.8, 4.0, n), 0.0) if rainy else np.zeros(n)
        wait = np.where(rng.random(n) < 0.15, rng.geometric(0.3, n), 0)
        cancelled = rng.binomial(1, 0.03 + 0.05 * rainy, n)
        parts.append(pd.DataFrame({
            "day": day, "station": rng.choice(["north", "south", "east"], n),
            "temperature": np.round(12 + 10 * season + rng.normal(0, 3, n), 1),
            "rain_mm": np.round(rain, 1), "wait_days": wait.astype("int64"),
            "cancellations": cancelled.astype("int64")}))
    return _dataset(f"zero_inflated-{seed}", parts,
                    "seeded readings with zero-inflated rain, waiting days and cancellations")


def holidays_table(seed: int = 0, days: int = DAYS, country: str = "US") -> Dataset:
    """Orders with public holidays and eves (fewer rows, more delivery, gift items) and a
    price ramp through December."""
    import holidays

    rng = np.random.default_rng(seed)
    dates = _days(days=days)
    calendar = holidays.country_holidays(country, years=sorted({d.year for d in dates}))
    parts = []
    for day in dates:
        holiday = day in calendar
        eve = (day + pd.Timedelta(days=1)) in calendar
        volume = 200 * (1 - rng.uniform(0.2, 0.35)) if holiday or eve else 200
        n = int(rng.poisson(volume))
        december = day.month == 12 and day.day <= 24
        ramp = 1.0 + (0.25 * day.day / 24 if december else 0.0)
        gift = 0.4 if holiday or eve or december else 0.1
        kind = rng.choice(["food", "gift", "home"], n, p=[0.6 - gift / 2, gift, 0.4 - gift / 2])
        channel = rng.choice(["store", "delivery"], n, p=[0.4, 0.6] if holiday else [0.7, 0.3])
        coupon = np.round(rng.uniform(1, 10, n), 0)
        coupon[rng.random(n) < 0.6] = np.nan  # an often-NULL column
        parts.append(pd.DataFrame({
            "day": day, "kind": kind, "channel": channel,
            "price": np.round(rng.lognormal(3.0, 0.4, n) * ramp, 2),
            "items": rng.poisson(2, n).astype("int64") + 1, "coupon": coupon}))
    return _dataset(f"holidays-{seed}", parts,
                    f"seeded orders with {country} public holidays and eves (20-35% fewer "
                    "rows, shifted mix) and a December price ramp")


def extreme_days(seed: int = 0, days: int = DAYS) -> Dataset:
    """Hourly weather readings per station; on ~3% of days a storm moves wind, rain,
    visibility and the NULL fractions of the gust and visibility sensors together."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, day in enumerate(_days(days=days)):
        n = 24 * 6
        storm = rng.random() < 0.03
        power = rng.uniform(2, 4) if storm else 1.0
        wind = rng.gamma(2.0, 4.0 * power, n)
        rain = np.where(rng.random(n) < (0.8 if storm else 0.1), rng.gamma(1.0, 2.0 * power, n),
                        0.0)
        visibility = np.clip(rng.normal(10 / power, 1.5, n), 0.1, None)
        gust = wind * rng.uniform(1.2, 1.8, n)
        lost = rng.random(n) < (rng.uniform(0.3, 0.6) if storm else 0.02)
        gust[lost] = np.nan
        visibility[lost & (rng.random(n) < 0.9)] = np.nan
        parts.append(pd.DataFrame({
            "day": day, "station": np.repeat(["a", "b", "c", "d", "e", "f"], 24),
            "temperature": np.round(15 + 8 * np.sin(2 * np.pi * i / 365)
                                    + rng.normal(0, 2, n) - 3 * storm, 1),
            "wind_kmh": np.round(wind, 1), "gust_kmh": np.round(gust, 1),
            "rain_mm": np.round(rain, 1), "visibility_km": np.round(visibility, 2)}))
    return _dataset(f"extreme_days-{seed}", parts,
                    "seeded weather readings; ~3% storm days move correlated columns together")


def bursts(seed: int = 0, days: int = DAYS) -> Dataset:
    """Hotel bookings, ~35 a day; on ~20% of days a group of 5-15 rows shares one party
    size, room type, price and arrival offset."""
    rng = np.random.default_rng(seed)
    parts = []
    for day in _days(days=days):
        n = int(rng.poisson(35))
        party = rng.choice([1, 2, 2, 3, 4], n)
        room = rng.choice(["single", "double", "suite"], n, p=[0.3, 0.6, 0.1])
        price = np.round(rng.normal(120, 25, n) * (1 + 0.5 * (room == "suite")), 2)
        lead = rng.geometric(0.05, n)
        if rng.random() < 0.2:
            g = int(rng.integers(5, 16))
            party = np.concatenate([party, np.full(g, rng.integers(1, 5))])
            room = np.concatenate([room, np.full(g, rng.choice(["double", "suite"]))])
            price = np.concatenate([price, np.full(g, round(rng.normal(100, 10), 2))])
            lead = np.concatenate([lead, np.full(g, rng.integers(30, 200))])
        request = rng.choice(["late check-in", "quiet room", "crib", "parking"], len(party))
        request = np.where(rng.random(len(party)) < 0.45, None, request)  # often NULL
        parts.append(pd.DataFrame({"day": day, "party_size": party.astype("int64"),
                                   "room": room, "price": price,
                                   "lead_days": lead.astype("int64"), "request": request}))
    return _dataset(f"bursts-{seed}", parts,
                    "seeded bookings; groups of 5-15 rows sharing one value on ~20% of days")


def volatile_volume(seed: int = 0, days: int = DAYS) -> Dataset:
    """Events whose daily volume swings by +-40-60% (a log-normal factor per day)."""
    rng = np.random.default_rng(seed)
    parts = []
    for day in _days(days=days):
        n = max(5, int(rng.poisson(300 * rng.lognormal(0.0, 0.45))))
        referrer = rng.choice(["search", "social", "mail"], n).astype(object)
        referrer[rng.random(n) < 0.35] = None  # direct visits: often NULL
        parts.append(pd.DataFrame({
            "day": day, "kind": rng.choice(["view", "click", "buy"], n, p=[0.7, 0.25, 0.05]),
            "duration_s": np.round(rng.lognormal(3.0, 1.0, n), 2),
            "value": np.round(rng.gamma(2.0, 10.0, n), 2), "referrer": referrer}))
    return _dataset(f"volatile_volume-{seed}", parts,
                    "seeded events; daily volume swings by +-40-60%")


def trend(seed: int = 0, days: int = DAYS) -> Dataset:
    """Sign-ups growing 3x over the period; amounts and the share of the new plan grow."""
    rng = np.random.default_rng(seed)
    parts = []
    for i, day in enumerate(_days(days=days)):
        growth = 3.0 ** (i / days)
        n = int(rng.poisson(60 * growth))
        new_plan = min(0.9, 0.1 + 0.6 * i / days)
        parts.append(pd.DataFrame({
            "day": day, "plan": rng.choice(["basic", "new"], n, p=[1 - new_plan, new_plan]),
            "amount": np.round(rng.lognormal(3.0, 0.3, n) * growth, 2),
            "seats": rng.poisson(1 + 2 * i / days, n).astype("int64") + 1}))
    return _dataset(f"trend-{seed}", parts, "seeded sign-ups growing 3x over the period")


def calendar_flags(seed: int = 0, days: int = DAYS, country: str = "US") -> Dataset:
    """Orders with 0/1 calendar flags constant within a day (weekend, holiday, month end,
    promotion on ~5% of days)."""
    import holidays

    rng = np.random.default_rng(seed)
    dates = _days(days=days)
    calendar = holidays.country_holidays(country, years=sorted({d.year for d in dates}))
    parts = []
    for day in dates:
        n = int(rng.poisson(150))
        promo = rng.random() < 0.05
        parts.append(pd.DataFrame({
            "day": day, "is_weekend": np.full(n, int(day.dayofweek >= 5)),
            "is_holiday": np.full(n, int(day in calendar)),
            "is_month_end": np.full(n, int(day.is_month_end)),
            "promo": np.full(n, int(promo)),
            "amount": np.round(rng.lognormal(3.0, 0.5, n) * (0.8 if promo else 1.0), 2)}))
    return _dataset(f"calendar_flags-{seed}", parts,
                    "seeded orders with 0/1 calendar flags constant within a day")


def small_partitions(seed: int = 0, days: int = DAYS) -> Dataset:
    """About 30 rows a day: small integers whose quantiles move in whole steps, 2-3-valued
    categories, and a min and max that move with every sample."""
    rng = np.random.default_rng(seed)
    parts = []
    for day in _days(days=days):
        n = max(5, int(rng.poisson(30)))
        parts.append(pd.DataFrame({
            "day": day, "grade": rng.choice(["A", "B", "C"], n, p=[0.5, 0.4, 0.1]),
            "repeat": rng.choice(["yes", "no"], n, p=[0.2, 0.8]),
            "rooms": rng.poisson(2, n).astype("int64") + 1,
            "score": rng.integers(1, 6, n).astype("int64"),
            "amount": np.round(rng.lognormal(4.0, 0.6, n), 2),
            "tip": np.where(rng.random(n) < 0.5, np.nan, np.round(rng.gamma(2, 2, n), 1))}))
    return _dataset(f"small_partitions-{seed}", parts,
                    "seeded table of ~30 rows a day with small integers and 2-3-valued "
                    "categories")


GENERATORS: dict[str, Callable[..., Dataset]] = {
    "zero_inflated": zero_inflated,
    "holidays": holidays_table,
    "extreme_days": extreme_days,
    "bursts": bursts,
    "volatile_volume": volatile_volume,
    "trend": trend,
    "calendar_flags": calendar_flags,
    "small_partitions": small_partitions,
}
