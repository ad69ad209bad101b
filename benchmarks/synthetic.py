"""A seeded synthetic partitioned table for the benchmarks, written as Parquet.

30 columns of mixed types, one row group per day, sorted by ``event_time``:

- 2 timestamps: ``event_time`` (the partition column) and ``ingested_at``;
- 8 integers, 10 floats (some with NULLs, NaN and ±inf), 3 booleans;
- 5 low-cardinality strings (one with empty strings), 2 high-cardinality ones.

The data has what real event tables have and what makes summaries non-trivial:
a daily cycle (hour of day), a weekly season, a slow trend across days, and
correlated columns (``amount`` follows ``quantity * price``, ``latency_ms``
follows ``session_seconds``). The same seed always writes the same bytes.

    python benchmarks/synthetic.py --rows 2000000 --days 30 --out benchmarks/.data/events.parquet
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

DATA_DIR = Path(__file__).resolve().parent / ".data"
START = datetime(2024, 1, 1)
PARTITION_COLUMN = "event_time"

_COUNTRIES = np.array(["US", "DE", "FR", "GB", "IN", "BR", "JP", "CA", "ES", "IT", "NL", "MX"])
_COUNTRY_P = np.array([30, 12, 9, 9, 10, 7, 6, 5, 4, 3, 3, 2], dtype=float)
_DEVICES = np.array(["ios", "android", "web", "tv"])
_BROWSERS = np.array(["chrome", "safari", "firefox", "edge", "", "opera"])
_STATUSES = np.array(["ok", "retry", "error", "timeout"])
_CATEGORIES = np.array([f"cat_{i:02d}" for i in range(40)])


def _strings(values: np.ndarray, prefix: str) -> pa.Array:
    """Integers as ``prefix<n>`` strings, built in Arrow (numpy string ops are slow)."""
    return pc.binary_join_element_wise(prefix, pa.array(values).cast(pa.string()), "")


def _with_nulls(values: np.ndarray, rng: np.random.Generator, rate: float) -> pa.Array:
    return pa.array(values, mask=rng.random(len(values)) < rate)


def day_table(day: int, rows: int, seed: int) -> pa.Table:
    """The rows of day number ``day`` (0 = 2024-01-01); deterministic in (day, seed)."""
    rng = np.random.default_rng([seed, day])
    n = rows
    micros = np.sort(rng.integers(0, 86_400_000_000, n))  # sorted: one day per row group
    hour = micros / 3.6e9
    daily = np.sin((hour - 6) / 24 * 2 * np.pi)  # peaks mid-afternoon
    weekly = 1.0 + 0.25 * np.sin(day / 7 * 2 * np.pi)
    trend = 1.0 + 0.004 * day
    start = np.datetime64(START + timedelta(days=day), "us")
    event_time = start + micros.astype("timedelta64[us]")
    ingest_delay = rng.exponential(90, n).astype("int64") * 1_000_000
    ingested_at = event_time + ingest_delay.astype("timedelta64[us]")

    quantity = rng.poisson(2.0 * weekly, n)  # many zeros
    price = np.round(rng.lognormal(3.0, 0.6, n) * trend, 2)
    discount = np.clip(rng.beta(2, 8, n), 0, 0.9)
    amount = np.round(quantity * price * (1 - discount), 2)
    session_seconds = rng.gamma(2.0, 120 * (1 + 0.3 * daily), n)
    latency_ms = (40 + 0.05 * session_seconds + rng.normal(0, 8, n)).astype("int64")
    temperature = 12 + 8 * daily + 5 * np.sin(day / 365 * 2 * np.pi) + rng.normal(0, 1.5, n)
    balance = np.round(rng.normal(50 * trend, 400, n), 2)  # negatives
    score = rng.normal(0.6, 0.15, n)
    score[rng.random(n) < 0.003] = np.nan
    ratio = amount / np.where(price > 0, price, 1)
    ratio[rng.random(n) < 0.0005] = np.inf
    ratio[rng.random(n) < 0.0005] = -np.inf

    is_mobile = rng.random(n) < 0.55 + 0.1 * daily
    converted = rng.random(n) < np.clip(0.03 + 0.002 * quantity, 0, 1)
    country = rng.choice(_COUNTRIES, n, p=_COUNTRY_P / _COUNTRY_P.sum())
    device = np.where(is_mobile, rng.choice(_DEVICES[:2], n), rng.choice(_DEVICES[2:], n, p=[0.9, 0.1]))

    columns = {
        PARTITION_COLUMN: pa.array(event_time),
        "ingested_at": pa.array(ingested_at),
        "user_id": pa.array(rng.zipf(1.3, n) % 5_000_000),
        "item_id": pa.array(rng.integers(1, 200_000, n)),
        "quantity": pa.array(quantity.astype("int32")),
        "age": _with_nulls(rng.integers(18, 90, n).astype("int16"), rng, 0.08),
        "clicks": pa.array((rng.poisson(3 * (1 + 0.5 * daily), n)).astype("int32")),
        "latency_ms": pa.array(latency_ms),
        "retries": pa.array(rng.geometric(0.7, n).astype("int8") - 1),
        "http_status": pa.array(rng.choice([200, 200, 200, 201, 204, 301, 404, 500], n).astype("int16")),
        "price": pa.array(price),
        "amount": pa.array(amount),
        "discount": _with_nulls(discount, rng, 0.2),
        "session_seconds": pa.array(session_seconds),
        "temperature": _with_nulls(temperature.astype("float32"), rng, 0.01),
        "balance": pa.array(balance),
        "score": pa.array(score),
        "ratio": pa.array(ratio),
        "lat": pa.array(rng.uniform(-60, 70, n)),
        "lon": pa.array(rng.uniform(-180, 180, n)),
        "country": pa.array(country),
        "device": pa.array(device),
        "browser": _with_nulls(rng.choice(_BROWSERS, n, p=[0.5, 0.2, 0.1, 0.1, 0.05, 0.05]), rng, 0.02),
        "status": pa.array(rng.choice(_STATUSES, n, p=[0.93, 0.04, 0.02, 0.01])),
        "category": pa.array(rng.choice(_CATEGORIES, n)),
        "session_id": _strings(rng.integers(0, 2**40, n), "s-"),
        "url_path": _strings(rng.zipf(1.5, n) % 1_000_000, "/p/"),
        "is_mobile": pa.array(is_mobile),
        "converted": pa.array(converted),
        "flagged": _with_nulls(rng.random(n) < 0.01, rng, 0.05),
    }
    return pa.table(columns)


def write(path: Path, *, rows: int, days: int, seed: int = 0, first_day: int = 0) -> Path:
    """Write ``days`` daily partitions of about ``rows / days`` rows each into one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    per_day = max(1, rows // days)
    tmp = path.with_suffix(".tmp")
    writer = None
    try:
        for day in range(first_day, first_day + days):
            table = day_table(day, per_day, seed)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=per_day)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, path)  # a half-written file is never left under the final name
    return path


def write_days(directory: Path, *, rows_per_day: int, days: int, seed: int = 0,
               first_day: int = 0) -> list[Path]:
    """One Parquet file per day (``day-NNN.parquet``), as a landing zone that grows by a file."""
    paths = []
    for day in range(first_day, first_day + days):
        paths.append(write(directory / f"day-{day:03d}.parquet", rows=rows_per_day, days=1,
                           seed=seed, first_day=day))
    return paths


def ensure(path: Path, *, rows: int, days: int, seed: int = 0) -> Path:
    """Write the file unless one for these parameters already exists (generation is not timed)."""
    if not path.is_file():
        write(path, rows=rows, days=days, seed=seed)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DATA_DIR / "events.parquet")
    parser.add_argument("--per-day-files", action="store_true",
                        help="write one file per day into --out (a directory)")
    args = parser.parse_args()
    if args.per_day_files:
        write_days(args.out, rows_per_day=args.rows // args.days, days=args.days, seed=args.seed)
    else:
        write(args.out, rows=args.rows, days=args.days, seed=args.seed)
    print(args.out)


if __name__ == "__main__":
    main()
