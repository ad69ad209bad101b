"""A second benchmark data shape, unlike ``synthetic.py``'s: nothing our shortcuts favour.

30 columns beside the partition column ``ts`` (days), no unique column, so the
duplicate-rows query always runs:

- 20 floats ``f00``..``f19``, each with 5-20% NULLs (normal, lognormal, uniform);
- 5 integers ``i0``..``i4`` of wide ranges (no small range for footers to bound);
- 5 strings ``s0``..``s4`` of 50, 300, 1,000, 2,500 and 5,000 distinct values.

Also a wide shape (``wide_table``): ``columns`` floats and integers, few rows.
The same seed always writes the same bytes.

    python benchmarks/shapes.py --rows 1000000 --out benchmarks/.data/shape-b-1000000.parquet
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

DATA_DIR = Path(__file__).resolve().parent / ".data"
START = np.datetime64(datetime(2024, 1, 1), "us")
STRING_CARDINALITY = (50, 300, 1_000, 2_500, 5_000)


def _nulls(values: np.ndarray, rng: np.random.Generator, rate: float) -> pa.Array:
    return pa.array(values, mask=rng.random(len(values)) < rate)


def day_table(day: int, rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng([seed, day, 2])
    micros = np.sort(rng.integers(0, 86_400_000_000, rows))
    columns = {"ts": pa.array(START + np.timedelta64(day, "D") + micros.astype("timedelta64[us]"))}
    for k in range(20):
        kind = k % 3
        values = (rng.normal(100 + k, 15, rows) if kind == 0 else
                  rng.lognormal(1 + k / 10, 0.8, rows) if kind == 1 else
                  rng.uniform(-1000, 1000, rows))
        columns[f"f{k:02d}"] = _nulls(values, rng, 0.05 + 0.0075 * k)
    for k in range(5):
        # wide ranges (past what footers bound), yet not unique in a day
        columns[f"i{k}"] = pa.array(rng.integers(-10**7, 10**7, rows) // (k + 1))
    for k, size in enumerate(STRING_CARDINALITY):
        codes = rng.zipf(1.2, rows) % size
        words = np.array([f"v{k}_{i:05d}" for i in range(size)], dtype=object)
        columns[f"s{k}"] = pa.array(words[codes], pa.string())
    return pa.table(columns)


def write(path: Path, *, rows: int, days: int = 30, seed: int = 0) -> Path:
    """``days`` daily partitions of ``rows / days`` rows, Parquet (one row group a day) or
    CSV by the suffix; written under a temporary name, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    per_day = max(1, rows // days)
    writer = None
    try:
        for day in range(days):
            table = day_table(day, per_day, seed)
            if writer is None:
                writer = (pacsv.CSVWriter(tmp, table.schema) if path.suffix == ".csv" else
                          pq.ParquetWriter(tmp, table.schema, compression="snappy"))
            if path.suffix == ".csv":
                writer.write_table(table)
            else:
                writer.write_table(table, row_group_size=per_day)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, path)
    return path


def wide_table(columns: int, rows: int = 500, days: int = 10, seed: int = 0) -> pa.Table:
    """``columns`` value columns (floats with NULLs, every fifth an integer) and ``ts``."""
    rng = np.random.default_rng([seed, columns])
    n = rows * days
    day = np.repeat(np.arange(days), rows).astype("timedelta64[D]")
    out = {"ts": pa.array(START + day)}
    for k in range(columns):
        if k % 5 == 4:
            out[f"c{k:05d}"] = pa.array(rng.integers(0, 10**9, n))
        else:
            out[f"c{k:05d}"] = _nulls(rng.normal(k, 1 + k % 7, n), rng, 0.1)
    return pa.table(out)


def ensure(path: Path, *, rows: int, days: int = 30, seed: int = 0) -> Path:
    if not path.is_file():
        write(path, rows=rows, days=days, seed=seed)
    return path


def ensure_wide(path: Path, *, columns: int, rows: int = 500, days: int = 10) -> Path:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        pq.write_table(wide_table(columns, rows, days), tmp)
        os.replace(tmp, path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--out", type=Path, required=True, help=".parquet or .csv")
    args = parser.parse_args()
    print(write(args.out, rows=args.rows, days=args.days))


if __name__ == "__main__":
    main()
