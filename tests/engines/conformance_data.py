"""The conformance dataset and its reference statistics, computed with numpy.

One small table (three days, 120 rows a day, two rows without a partition value)
holds every column kind and every awkward value the engines must agree on:
NULLs, NaN, ±infinity, zeros, empty strings, unicode, decimals, booleans,
tz-aware timestamps, and identifiers that are SQL keywords or contain quotes.
The reference below never goes through Ibis or an engine.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections import Counter

import numpy as np
import pandas as pd
import pyarrow as pa

from watchkeeper.engine import Granularity
from watchkeeper.summaries import QUANTILES

START = dt.datetime(2024, 1, 6)  # a Saturday: day partitions 6, 7, 8 fall in two ISO weeks
ROWS_PER_DAY = 120
DAYS = 3

# Identifiers that must survive every engine's quoting.
KEYWORD = "select"
QUOTED = "a \"b\" 'c'"
SPACED = "with space"
UNICODE = "größe"

COLUMN_KINDS = {
    "i": "numeric", "dec": "numeric", KEYWORD: "numeric",
    "f": "float", SPACED: "float", UNICODE: "float",
    "s": "string", QUOTED: "string", "iso": "string",
    "b": "boolean",
    "ts": "temporal", "ts_tz": "temporal", "d": "temporal",
}

_CATEGORIES = ["alpha", "beta", "", "ünï", "γάμμα", "d e"]
_WEIGHTS = [0.4, 0.25, 0.15, 0.1, 0.06, 0.04]


def _rows() -> dict[str, list]:
    rng = np.random.default_rng(20240106)
    n = ROWS_PER_DAY * DAYS
    ts: list = [START + dt.timedelta(minutes=12 * k) for k in range(n)] + [None, None]
    total = len(ts)

    def nullify(values, p):
        return [None if rng.random() < p else v for v in values]

    floats = [float(v) for v in rng.normal(10.0, 4.0, total).round(3)]
    for k in range(total):  # deterministic placement of special values
        if k % 37 == 0:
            floats[k] = float("nan")
        elif k % 53 == 0:
            floats[k] = float("inf")
        elif k % 59 == 0:
            floats[k] = float("-inf")
        elif k % 11 == 0:
            floats[k] = 0.0
    return {
        "ts": ts,
        "ts_tz": [None if t is None else (t + dt.timedelta(minutes=30)).replace(
            tzinfo=dt.timezone.utc) for t in ts],
        "d": [None if t is None else t.date() for t in ts],
        "iso": [None if t is None else t.isoformat() for t in ts],
        "i": nullify([int(v) for v in rng.integers(-20, 60, total)], 0.05),
        "dec": nullify([decimal.Decimal(f"{v:.3f}") for v in rng.normal(-1.0, 50.0, total)], 0.1),
        KEYWORD: [int(v) for v in rng.integers(0, 5, total)],
        "f": nullify(floats, 0.05),
        SPACED: [float(v) for v in rng.exponential(2.0, total).round(6)],
        UNICODE: nullify([float(v) for v in rng.lognormal(0.0, 1.0, total)], 0.2),
        "s": nullify([str(v) for v in rng.choice(_CATEGORIES, total, p=_WEIGHTS)], 0.08),
        QUOTED: [["it's", 'say "hi"', "select", "x"][min(3, int(v))]
                 for v in rng.exponential(0.9, total)],
        "b": nullify([bool(v) for v in rng.random(total) < 0.3], 0.1),
    }


ARROW_TYPES = {
    "ts": pa.timestamp("us"), "ts_tz": pa.timestamp("us", tz="UTC"), "d": pa.date32(),
    "iso": pa.string(), "i": pa.int64(), "dec": pa.decimal128(12, 3), KEYWORD: pa.int64(),
    "f": pa.float64(), SPACED: pa.float64(), UNICODE: pa.float64(), "s": pa.string(),
    QUOTED: pa.string(), "b": pa.bool_(),
}

ROWS = _rows()


def arrow_table() -> pa.Table:
    return pa.table({name: pa.array(values, ARROW_TYPES[name]) for name, values in ROWS.items()})


# -- the reference ----------------------------------------------------------------
def partition_of(value, grain: Granularity) -> pd.Timestamp | None:
    """The UTC start of the partition holding ``value`` (weeks start on Monday)."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    if grain is Granularity.HOUR:
        return ts.floor("h")
    day = ts.normalize()
    return day - pd.Timedelta(days=day.weekday()) if grain is Granularity.WEEK else day


def groups(partition_column: str, grain: Granularity) -> dict[pd.Timestamp, list[int]]:
    """Row indices per partition; rows without a partition value belong to none."""
    out: dict[pd.Timestamp, list[int]] = {}
    for k, value in enumerate(ROWS[partition_column]):
        key = partition_of(value, grain)
        if key is not None:
            out.setdefault(key, []).append(k)
    return dict(sorted(out.items()))


def _epoch(value) -> float:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return (ts - pd.Timestamp(0)).total_seconds()


def expected(column: str, rows: list[int], partition: pd.Timestamp,
             grain: Granularity) -> dict[str, float | None]:
    """Every exact statistic of ``column`` over ``rows`` (quantiles as true values)."""
    values = [ROWS[column][k] for k in rows]
    present = [v for v in values if v is not None]
    n, nn = len(values), len(present)
    out: dict[str, float | None] = {"non_null_count": float(nn), "null_fraction": (n - nn) / n}
    kind = COLUMN_KINDS[column]
    frac = (lambda c: c / nn) if nn else (lambda c: None)
    if kind in ("numeric", "float"):
        x = np.array([float(v) for v in present], dtype="float64")
        finite = x[np.isfinite(x)]
        if kind == "float":
            out["nan_count"] = float(np.isnan(x).sum())
            out["posinf_count"] = float(np.isposinf(x).sum())
            out["neginf_count"] = float(np.isneginf(x).sum())
            out["integral_fraction"] = frac(float((np.isfinite(x) & (x == np.floor(x))).sum()))
        out["mean"] = float(finite.mean()) if finite.size else None
        out["std"] = float(finite.std(ddof=1)) if finite.size > 1 else None
        out["min"] = float(finite.min()) if finite.size else None
        out["max"] = float(finite.max()) if finite.size else None
        for name, q in QUANTILES.items():
            out[name] = float(np.quantile(finite, q)) if finite.size else None
        out["zero_fraction"] = frac(float((x == 0).sum()))
        out["negative_fraction"] = frac(float((x < 0).sum()))
        # NaN is one value, as in SQL's DISTINCT; NaN != NaN would count each apart.
        out["distinct_count"] = float(len({"nan" if math.isnan(v) else v for v in x}))
    elif kind == "string":
        counts = Counter(present)
        out["empty_fraction"] = frac(float(counts.get("", 0)))
        out["distinct_count"] = float(len(counts))
        out["top_ratio"] = frac(float(max(counts.values()))) if counts else None
        lengths = [len(v) for v in present]
        out["length_mean"] = float(np.mean(lengths)) if lengths else None
        out["length_min"] = float(min(lengths)) if lengths else None
        out["length_max"] = float(max(lengths)) if lengths else None
    elif kind == "boolean":
        out["true_fraction"] = frac(float(sum(present)))
    else:
        epochs = [_epoch(v) for v in present]
        out["min"] = min(epochs) if epochs else None
        out["max"] = max(epochs) if epochs else None
        end = _epoch(partition + grain.offset)
        out["lag_seconds"] = end - out["max"] if epochs else None
    return out


def finite_values(column: str, rows: list[int]) -> np.ndarray:
    x = np.array([float(ROWS[column][k]) for k in rows if ROWS[column][k] is not None])
    return np.sort(x[np.isfinite(x)])


def value_counts(column: str, rows: list[int]) -> Counter:
    return Counter(ROWS[column][k] for k in rows if ROWS[column][k] is not None)
