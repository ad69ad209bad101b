"""Nothing is lost: for every ingest, committed + quarantined rows = the input rows.

``hypothesis`` is not in the environment, so the property runs on many seeded
random batches (NULLs, NaN, negative and duplicate values, rows outside the
partition), and an independent pandas oracle says which checks each row fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from watchkeeper.managed import managed_table

from .data import user_rows, write_project

CHECKS = [
    {"name": "price_positive", "kind": "between", "column": "price", "min": 0,
     "strict_min": True},
    {"kind": "not_null", "column": "order_id"},
    {"kind": "unique", "column": "order_id"},
    {"name": "size_known", "kind": "in_set", "column": "size", "values": ["S", "M", "L"]},
    {"name": "id_shape", "kind": "regex", "column": "order_id", "pattern": "^o[0-9]+$"},
    {"name": "qty_rule", "kind": "sql_row", "expression": "qty <= 4 OR size = 'L'"},
]
DAY = pd.Timestamp("2024-05-01")


def random_batch(rng: np.random.Generator) -> pd.DataFrame:
    n = int(rng.integers(0, 60))
    ids = rng.integers(0, max(n, 1) * 2 + 1, n)  # duplicates happen
    frame = pd.DataFrame({
        "order_id": [f"o{i}" if rng.random() > 0.05 else f"x{i}" for i in ids],
        "date": [DAY.date()] * n,
        "price": rng.normal(10, 8, n),
        "size": rng.choice(["S", "M", "L", "XL"], n, p=[0.3, 0.3, 0.3, 0.1]),
        "qty": rng.integers(0, 8, n),
    })
    mask = rng.random(n)
    frame.loc[mask < 0.05, "order_id"] = None
    frame.loc[(mask > 0.05) & (mask < 0.08), "price"] = np.nan
    frame.loc[(mask > 0.08) & (mask < 0.1), "price"] = None
    outside = rng.random(n) < 0.04
    frame.loc[outside, "date"] = (DAY + pd.Timedelta(days=1)).date()
    return frame


def expected_failures(frame: pd.DataFrame) -> list[set[str]]:
    """Per row, the critical checks it violates (NULLs are judged by not_null only)."""
    ids = frame["order_id"]
    price = frame["price"].astype("float64")
    dup = ids.notna() & ids.duplicated(keep="first")
    out = []
    for i in range(len(frame)):
        failed = set()
        # pandas NaN becomes an Arrow NULL on the way in: not judged by between.
        if pd.notna(frame["price"].iloc[i]) and not price.iloc[i] > 0:
            failed.add("price_positive")
        if pd.isna(ids.iloc[i]):
            failed.add("not_null_order_id")
        elif not str(ids.iloc[i]).startswith("o"):
            failed.add("id_shape")
        if dup.iloc[i]:
            failed.add("unique_order_id")
        if frame["size"].iloc[i] not in ("S", "M", "L"):
            failed.add("size_known")
        if not (frame["qty"].iloc[i] <= 4 or frame["size"].iloc[i] == "L"):
            failed.add("qty_rule")
        if frame["date"].iloc[i] != DAY.date():
            failed.add("partition_key")
        out.append(failed)
    return out


class TestNothingLost:
    """Valid + quarantined = input, row for row, with the right check names."""

    @pytest.mark.parametrize("seed", range(24))
    def test_random_batches(self, tmp_path, monkeypatch, seed):
        """For a seeded random batch, the committed and quarantined rows partition the input,
        and each quarantined row lists exactly the checks an independent oracle finds."""
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        write_project(tmp_path, checks=CHECKS)
        orders = managed_table("orders", tmp_path)
        frame = random_batch(np.random.default_rng(seed))
        result = orders.ingest(frame, partition=DAY)
        committed = orders.read(allow_invalid=True, format="pandas")
        quarantined = orders.quarantine(format="pandas")
        assert result.rows_valid + result.rows_quarantined == result.rows_in == len(frame)
        assert len(committed) == result.rows_valid
        together = pd.concat([committed, user_rows(quarantined)], ignore_index=True)
        pd.testing.assert_frame_equal(user_rows(together), user_rows(frame), check_dtype=False)
        expected = expected_failures(frame)
        got = {int(r): set(f) for r, f in zip(quarantined.get("_wk_row", []),
                                              quarantined.get("_wk_failed_checks", []))}
        assert got == {i: f for i, f in enumerate(expected) if f}
