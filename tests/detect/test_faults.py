"""Fault injectors: each corrupts a partition's rows the way its name says, reproducibly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from watchkeeper.datasets import FAULTS, inject, synthetic
from watchkeeper.errors import ConfigError


@pytest.fixture
def rows() -> pd.DataFrame:
    frame = synthetic(seed=1, days=3, rows_per_day=200).frame
    return frame[frame["order_date"] == frame["order_date"].min()].reset_index(drop=True)


@pytest.fixture
def yesterday() -> pd.DataFrame:
    frame = synthetic(seed=1, days=3, rows_per_day=200).frame
    return frame[frame["order_date"] == frame["order_date"].min()].reset_index(drop=True)


@pytest.fixture
def today() -> pd.DataFrame:
    frame = synthetic(seed=1, days=3, rows_per_day=200).frame
    second = sorted(frame["order_date"].unique())[1]
    return frame[frame["order_date"] == second].reset_index(drop=True)


def hit(rows, fault, column=None, seed=0, previous=None):
    return inject(rows, fault, np.random.default_rng(seed), column=column,
                  exclude=("order_date",), previous=previous, partition_column="order_date",
                  shift=pd.Timedelta(days=1))


class TestFaults:
    def test_every_fault_applies_to_the_synthetic_table(self, rows):
        """Each declared fault changes the rows and names the column(s) it hit."""
        for name in FAULTS:
            out, columns = hit(rows, name, previous=rows.iloc[:50])
            assert columns and "order_date" not in columns
            assert not out.equals(rows), name

    def test_same_seed_same_corruption(self, rows):
        """A fault drawn with the same seed corrupts the same rows the same way."""
        a, _ = hit(rows, "nulls", seed=7)
        b, _ = hit(rows, "nulls", seed=7)
        pd.testing.assert_frame_equal(a, b)

    def test_nulls_fraction_in_range(self, rows):
        """10-50% of the column's rows become NULL."""
        out, _ = hit(rows, "nulls", "amount")
        added = out["amount"].isna().mean() - rows["amount"].isna().mean()
        assert 0.09 <= added <= 0.51

    def test_negatives_only_in_non_negative_column(self, rows):
        """Negatives go into a column that had none, and only such columns are eligible."""
        out, (column,) = hit(rows, "negatives")
        assert (rows[column].dropna() >= 0).all() and (out[column] < 0).any()

    def test_truncated_keeps_type_drops_fractions(self, rows):
        """Truncation keeps a float column but removes every fractional part."""
        out, _ = hit(rows, "truncated", "amount")
        assert out["amount"].dtype == rows["amount"].dtype
        assert (out["amount"].dropna() % 1 == 0).all()

    def test_unit_change_is_celsius_to_fahrenheit(self, rows):
        """Values become x * 1.8 + 32."""
        out, _ = hit(rows, "unit_change", "amount")
        np.testing.assert_allclose(out["amount"], rows["amount"] * 1.8 + 32)

    def test_average_and_constant(self, rows):
        """Averaging leaves one value equal to the mean; pinning leaves one value."""
        avg, _ = hit(rows, "replaced_by_average", "amount")
        assert avg["amount"].nunique() == 1
        assert avg["amount"].iloc[0] == pytest.approx(rows["amount"].mean())
        pinned, _ = hit(rows, "pinned_constant", "channel")
        assert pinned["channel"].nunique() == 1

    def test_table_faults_change_row_count(self, rows):
        """Duplication adds 30-100% rows; a partial load keeps 20-60%."""
        dup, cols = hit(rows, "duplicated_rows")
        assert cols == ("*",) and 1.29 * len(rows) <= len(dup) <= 2 * len(rows)
        part, _ = hit(rows, "partial_load")
        assert 0.19 * len(rows) <= len(part) <= 0.61 * len(rows)

    def test_category_merged_removes_one_category(self, rows):
        """One category disappears into the most frequent one."""
        out, _ = hit(rows, "category_merged", "channel")
        assert out["channel"].nunique() == rows["channel"].nunique() - 1

    def test_category_merged_only_merges_a_five_percent_category(self):
        """The merged category held >= 5% of rows; a rare one is never the victim."""
        frame = pd.DataFrame({"c": ["a"] * 60 + ["b"] * 37 + ["c"] * 3})
        for seed in range(10):
            out, _ = inject(frame, "category_merged", np.random.default_rng(seed))
            assert set(out["c"]) == {"a", "c"} and (out["c"] == "a").sum() == 97

    def test_category_merged_leaves_nulls_alone(self):
        """Only the merged category's rows change: NULLs of a nullable string column stay."""
        frame = pd.DataFrame({"race": pd.array(["White"] * 50 + ["Black"] * 30 + [None] * 20,
                                               dtype="string")})
        out, _ = inject(frame, "category_merged", np.random.default_rng(0))
        assert out["race"].isna().sum() == 20
        assert set(out["race"].dropna()) == {"White"}

    def test_category_merged_skips_tables_without_such_a_category(self):
        """Names or ids (no second category of >= 5%) are not eligible: the fault is skipped."""
        frame = pd.DataFrame({"name": [f"n{i}" for i in range(40)] + ["n0"] * 60})
        with pytest.raises(ConfigError):
            inject(frame, "category_merged", np.random.default_rng(0))
        with pytest.raises(ConfigError):
            inject(frame, "category_merged", np.random.default_rng(0), column="name")

    def test_timezone_shift_moves_all_timestamps(self, rows):
        """Every timestamp moves by the same 3-10 hours."""
        out, _ = hit(rows, "timezone_shift", "ordered_at")
        delta = (out["ordered_at"] - rows["ordered_at"]).unique()
        assert len(delta) == 1 and 3 <= abs(delta[0] / pd.Timedelta(hours=1)) <= 10

    def test_sentinel_padding_and_swap(self, rows):
        """Sentinels appear; padding lengthens strings; a swap exchanges two columns."""
        sent, _ = hit(rows, "sentinel_default", "items")
        assert (sent["items"] == -1).mean() >= 0.09
        pad, _ = hit(rows, "string_padding", "channel")
        assert pad["channel"].str.len().nunique() == 1
        assert pad["channel"].str.strip().equals(rows["channel"])
        swap, (a, b) = hit(rows, "swapped_columns")
        np.testing.assert_allclose(swap[a].astype(float), rows[b].astype(float))

    def test_unknown_fault_is_a_config_error(self, rows):
        """An unknown fault name is refused with the list of known ones."""
        with pytest.raises(ConfigError, match="unknown fault"):
            hit(rows, "gremlins")


class TestFaultsInsideNaturalVariance:
    """The faults that hide in natural variance do exactly what their docstrings say."""

    def test_scale_half_and_1_3(self, rows):
        """A conversion multiplies every value by 0.5 or 1.3; NULLs stay NULL."""
        half, _ = hit(rows, "scale_half", "discount")
        np.testing.assert_allclose(half["discount"], rows["discount"] * 0.5)
        more, _ = hit(rows, "scale_1_3", "amount")
        np.testing.assert_allclose(more["amount"], rows["amount"] * 1.3)

    def test_scale_faults_skip_all_zero_columns(self):
        """A column that is all 0 has nothing to rescale: it is not eligible."""
        frame = pd.DataFrame({"z": [0.0] * 20, "x": np.arange(20.0)})
        for seed in range(5):
            _, (column,) = inject(frame, "scale_half", np.random.default_rng(seed))
            assert column == "x"

    def test_partial_load_mild_keeps_50_to_80_percent(self, rows):
        """A random 50-80% of the rows land, in their original order."""
        for seed in range(5):
            out, cols = hit(rows, "partial_load_mild", seed=seed)
            assert cols == ("*",) and 0.49 * len(rows) <= len(out) <= 0.81 * len(rows)
            assert out["ordered_at"].is_monotonic_increasing

    def test_more_nulls_only_in_often_null_columns(self, rows):
        """Only a column already >= 20% NULL is hit, and it gains 10-20 points of NULLs."""
        assert rows["discount"].isna().mean() >= 0.2
        for seed in range(5):
            out, (column,) = hit(rows, "more_nulls", seed=seed)
            assert column == "discount"
            added = out["discount"].isna().mean() - rows["discount"].isna().mean()
            assert 0.09 <= added <= 0.21

    def test_duplicated_few_adds_5_to_15_percent(self, rows):
        """5-15% of the rows arrive a second time, identical."""
        out, cols = hit(rows, "duplicated_few")
        assert cols == ("*",) and 1.04 * len(rows) <= len(out) <= 1.16 * len(rows)
        assert out.duplicated().sum() >= 0.04 * len(rows)

    def test_default_zero(self, rows):
        """10-30% of the values become 0."""
        out, _ = hit(rows, "default_zero", "amount")
        assert 0.09 <= (out["amount"] == 0).mean() - (rows["amount"] == 0).mean() <= 0.31

    def test_string_truncated(self, rows):
        """Strings are cut to one width shorter than the longest; prefixes are kept."""
        out, _ = hit(rows, "string_truncated", "customer_id")
        width = out["customer_id"].str.len().max()
        assert 2 <= width < rows["customer_id"].str.len().max()
        assert all(b.startswith(a) for a, b in zip(out["customer_id"], rows["customer_id"]))

    def test_string_truncated_needs_long_strings(self):
        """Columns of 1-3 characters are not eligible."""
        frame = pd.DataFrame({"c": ["ab", "cd"] * 10})
        with pytest.raises(ConfigError):
            inject(frame, "string_truncated", np.random.default_rng(0))


class TestLockboxFaults:
    """The lockbox fault types (benchmarks/detection/LOCKBOX.md)."""

    def test_stale_reload_is_the_previous_rows_redated(self, today, yesterday):
        """The partition's rows are yesterday's, with the partition column moved one day."""
        out, cols = hit(today, "stale_reload", previous=yesterday)
        assert cols == ("*",) and len(out) == len(yesterday)
        assert (out["order_date"] == today["order_date"].iloc[0]).all()
        pd.testing.assert_series_equal(out["amount"], yesterday["amount"])
        pd.testing.assert_series_equal(out["ordered_at"], yesterday["ordered_at"])

    def test_stale_reload_without_previous_rows_is_refused(self, today):
        """Without the previous partition the fault cannot apply: a clear ConfigError."""
        with pytest.raises(ConfigError, match="previous"):
            hit(today, "stale_reload")

    def test_case_changed(self, rows):
        """Category values in upper case, NULLs kept."""
        out, _ = hit(rows, "case_changed", "channel")
        assert out["channel"].equals(rows["channel"].str.upper())

    def test_rounded_to_one_significant_digit(self):
        """123.4 -> 100, 0.0456 -> 0.05, -87 -> -90, 0 and NULL stay."""
        frame = pd.DataFrame({"x": [123.4, 0.0456, -87.0, 0.0, None]})
        out, _ = inject(frame, "rounded", np.random.default_rng(0))
        np.testing.assert_allclose(out["x"], [100, 0.05, -90, 0, np.nan])

    def test_rounded_skips_columns_already_at_one_digit(self):
        """A column of 1, 2, 30 has nothing to lose: not eligible."""
        frame = pd.DataFrame({"x": [1.0, 2.0, 30.0], "y": [1.5, 2.25, 3.0]})
        _, (column,) = inject(frame, "rounded", np.random.default_rng(0))
        assert column == "y"


class TestSynthetic:
    def test_seeded_and_seasonal(self):
        """The same seed gives the same table; weekends carry more rows than weekdays."""
        a, b = synthetic(seed=3, days=28).frame, synthetic(seed=3, days=28).frame
        pd.testing.assert_frame_equal(a, b)
        per_day = a.groupby("order_date").size()
        weekend = per_day[per_day.index.dayofweek >= 5].mean()
        assert weekend > 1.15 * per_day[per_day.index.dayofweek < 5].mean()


def test_nulls_in_boolean_and_integer_columns():
    """NULLs go into boolean and integer columns through nullable dtypes, values kept."""
    frame = pd.DataFrame({"flag": [True, False] * 20, "n": list(range(40))})
    for column in ("flag", "n"):
        out, _ = inject(frame, "nulls", np.random.default_rng(0), column=column)
        assert out[column].isna().mean() >= 0.09
        kept = out[column].notna()
        assert (out[column][kept] == frame[column][kept]).all()
