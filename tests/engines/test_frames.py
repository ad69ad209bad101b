"""In-memory frames: what pandas means by NaN, and dtypes Ibis's own conversion trips on."""

from __future__ import annotations

import decimal

import pandas as pd
import pyarrow as pa

from watchkeeper import profile


def stats(result, column: str) -> dict[str, float]:
    frame = result.statistics[result.statistics["column"] == column]
    return dict(zip(frame["statistic"], frame["value"]))


class TestPandasFrames:
    """pandas frames are read through Arrow."""

    def test_nan_in_a_numpy_float_column_is_null(self):
        """In a classic float64 column NaN means missing, so it counts as NULL, not NaN."""
        frame = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01"] * 4),
                              "x": [1.0, float("nan"), 3.0, float("inf")]})
        x = stats(profile(frame, partition_column="ts"), "x")
        assert x["null_fraction"] == 0.25 and x["nan_count"] == 0 and x["posinf_count"] == 1
        assert x["mean"] == 2.0

    def test_arrow_backed_frame_keeps_nan_apart_from_null(self):
        """With Arrow dtypes, NaN stays a value and NULL stays missing."""
        table = pa.table({"ts": pa.array(pd.to_datetime(["2024-01-01"] * 3)),
                          "x": pa.array([float("nan"), None, 2.0])})
        frame = table.to_pandas(types_mapper=pd.ArrowDtype)
        x = stats(profile(frame, partition_column="ts"), "x")
        assert (x["null_fraction"], x["nan_count"], x["mean"]) == (1 / 3, 1, 2.0)

    def test_decimal_column_with_nulls(self):
        """Decimal columns holding None are summarized as doubles."""
        frame = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01"] * 3),
                              "d": [decimal.Decimal("1.50"), None, decimal.Decimal("-0.50")]})
        d = stats(profile(frame, partition_column="ts"), "d")
        assert (d["mean"], d["negative_fraction"], d["null_fraction"]) == (0.5, 0.5, 1 / 3)
