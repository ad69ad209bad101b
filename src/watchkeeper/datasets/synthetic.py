"""A seeded synthetic table: weekly seasonality, trend, correlated columns, natural drift.

Every call with the same arguments returns the same rows, so benchmark numbers
are reproducible from the seed alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .real import Dataset

WEEKDAY_VOLUME = np.array([1.0, 0.95, 0.97, 1.02, 1.2, 1.45, 1.3])  # Monday first
CHANNELS = ("web", "app", "store", "phone")


def synthetic(seed: int = 0, days: int = 365, rows_per_day: int = 400,
              start: str = "2023-01-02") -> Dataset:
    """An orders-like table partitioned by day.

    - volume: weekly cycle, slow upward trend and noise;
    - ``amount`` (lognormal) drifts slowly upward and is correlated with ``items``;
    - ``discount`` is null for about 30% of rows, more at weekends;
    - ``channel`` mix drifts from web to app over the year;
    - ``rating`` is integer 1-5 with a few nulls; ``customer_id`` is an id-like string.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=days, freq="D")
    frames = []
    for i, day in enumerate(dates):
        trend = 1.0 + 0.4 * i / days
        n = max(10, int(rng.poisson(rows_per_day * WEEKDAY_VOLUME[day.dayofweek] * trend)))
        frames.append(_day(rng, day, i / days, n))
    frame = pd.concat(frames, ignore_index=True)
    return Dataset(f"synthetic-{seed}", frame, "order_date", "day",
                   f"seeded synthetic orders, {days} days, ~{rows_per_day} rows a day, "
                   "weekly seasonality, trend, correlated columns, drift")


def _day(rng: np.random.Generator, day: pd.Timestamp, progress: float, n: int) -> pd.DataFrame:
    weekend = day.dayofweek >= 5
    items = rng.poisson(2.0 + 0.5 * weekend, n) + 1
    drift = 1.0 + 0.15 * progress + 0.03 * np.sin(2 * np.pi * progress * 3)
    amount = np.round(items * rng.lognormal(2.5, 0.35, n) * drift, 2)
    discount = np.round(amount * rng.uniform(0.0, 0.2, n), 2)
    discount[rng.random(n) < (0.38 if weekend else 0.3)] = np.nan
    app_share = 0.2 + 0.25 * progress
    probs = np.array([0.5 - app_share / 2, app_share, 0.3 - app_share / 2, 0.2])
    channel = rng.choice(CHANNELS, n, p=probs / probs.sum())
    rating = rng.choice([1, 2, 3, 4, 5], n, p=[0.05, 0.07, 0.18, 0.35, 0.35]).astype(float)
    rating[rng.random(n) < 0.02] = np.nan
    seconds = np.sort(rng.uniform(0, 86400, n))
    return pd.DataFrame({
        "order_date": day,
        "ordered_at": day + pd.to_timedelta(seconds, unit="s"),
        "customer_id": pd.array([f"C{x:07d}" for x in rng.integers(0, 2_000_000, n)],
                                dtype="string"),
        "channel": pd.array(channel, dtype="string"),
        "items": items.astype("int64"),
        "amount": amount,
        "discount": discount,
        "rating": rating,
    })
