"""Integers of a small range known from Parquet footers: distinct values as bits.

The fused scan counts them exactly (one bit per possible value, OR-ed per
partition, in one BIGINT mask or one bit string) instead of a branch of the
value-count query. The counts must be what pandas counts, whatever the range's
position, width or NULLs; columns without footer statistics, or of a wide range,
keep the value-count path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import watchkeeper
from watchkeeper.engine import ColumnInfo, Granularity, Kind, open_source
from watchkeeper.engine.aggregates import MASK_RANGE, SMALL_INTEGER_RANGE
from watchkeeper.engine.parquet_footers import integer_ranges


def _frame(rows: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "ts": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 3 * 86400, rows),
                                                            unit="s"),
        "tiny": pd.array(rng.integers(0, 6, rows), dtype="Int8"),
        "negative": rng.integers(-40, 21, rows).astype("int16"),
        # a bit string (more values than a mask holds); both ends of the range occur
        "sparse": np.where(rng.random(rows) < 0.5, 0, rng.integers(0, 300, rows) * 3 % 301),
        "edge": rng.choice([1_000, 1_000 + MASK_RANGE - 1], rows).astype("int64"),
        # the widest bit string; both ends occur
        "ids": np.concatenate([[5, 5 + SMALL_INTEGER_RANGE - 1], rng.integers(5, 90_000, rows - 2)]),
        "wide": rng.integers(0, 10**6, rows),
    })
    frame.loc[rng.random(rows) < 0.2, "tiny"] = None  # NULLs are not a value
    frame.loc[frame["ts"] >= pd.Timestamp("2024-03-03"), "tiny"] = None  # a day of NULLs only
    return frame.sort_values("ts", ignore_index=True)


def _expected(frame: pd.DataFrame, column: str) -> list[float]:
    day = frame["ts"].dt.floor("D")
    return frame.groupby(day)[column].nunique().astype(float).tolist()


def _distinct(result, column: str) -> list[float]:
    s = result.statistics
    rows = s[(s["column"] == column) & (s["statistic"] == "distinct_count")]
    return rows.sort_values("partition")["value"].tolist()


@pytest.fixture
def parquet(tmp_path):
    frame = _frame()
    path = tmp_path / "ints.parquet"
    frame.to_parquet(path, row_group_size=700)
    return frame, path


class TestSmallIntegerRanges:
    def test_footers_give_the_small_ranges(self, parquet):
        frame, path = parquet
        with open_source(str(path)) as relation:
            ranges = relation.small_integer_ranges()
            assert set(ranges) == {"tiny", "negative", "sparse", "edge", "ids"}  # not "wide"
            assert ranges["negative"] == (frame["negative"].min(), frame["negative"].max())
            assert ranges["edge"] == (1_000, 1_000 + MASK_RANGE - 1)
            assert ranges["ids"] == (5, 5 + SMALL_INTEGER_RANGE - 1)
            counted = {name: relation.counted_states(ColumnInfo(name, Kind.NUMERIC, "int"))
                       for name in ["tiny", "wide"]}
        assert counted == {"tiny": frozenset(), "wide": frozenset({"distinct"})}

    @pytest.mark.parametrize("column", ["tiny", "negative", "sparse", "edge", "ids", "wide"])
    def test_distinct_counts_are_exact(self, parquet, column):
        frame, path = parquet
        result = watchkeeper.profile(str(path), partition_column="ts")
        assert _distinct(result, column) == _expected(frame, column)

    def test_without_footer_statistics_the_value_counts_count(self, tmp_path):
        frame = _frame()
        path = tmp_path / "nostats.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path,
                       write_statistics=False)
        assert integer_ranges([str(path)], ["tiny", "negative"]) == {}
        with open_source(str(path)) as relation:
            assert relation.small_integer_ranges() == {}
        result = watchkeeper.profile(str(path), partition_column="ts")
        for column in ("tiny", "negative", "sparse"):
            assert _distinct(result, column) == _expected(frame, column)

    def test_a_column_missing_from_one_file_has_no_range(self, tmp_path):
        frame = _frame()
        frame.iloc[:1500].to_parquet(tmp_path / "a.parquet")
        frame.iloc[1500:].drop(columns=["tiny"]).to_parquet(tmp_path / "b.parquet")
        files = [str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")]
        assert set(integer_ranges(files, ["tiny", "negative"])) == {"negative"}

    def test_frames_and_other_sources_are_unchanged(self):
        frame = _frame(300)
        with open_source(frame) as relation:  # no Parquet footers to read
            assert relation.small_integer_ranges() == {}

    def test_footers_read_for_the_row_counts_are_not_read_again(self, parquet, monkeypatch):
        """The row-count step reads every footer once; the ranges come from that read."""
        _frame_, path = parquet
        with open_source(str(path)) as relation:
            relation.partition_counts("ts", Granularity.DAY)
            monkeypatch.setattr(pq, "read_metadata", _no_second_read)
            assert set(relation.small_integer_ranges()) == {"tiny", "negative", "sparse",
                                                            "edge", "ids"}
        known = {"/nowhere.parquet": {"a": (1, 5), "b": None}}
        assert integer_ranges(["/nowhere.parquet"], ["a", "b"], known) == {"a": (1, 5)}


def _no_second_read(path):
    raise AssertionError(f"footer of {path} read twice")


def test_a_value_outside_its_footer_range_is_still_counted(tmp_path, monkeypatch):
    """Footers that understate a range (a file rewritten after they were read, a writer's
    bug) fail the bit counting; the run counts those integers the general way instead."""
    frame = _frame()
    path = tmp_path / "ints.parquet"
    frame.to_parquet(path)
    import watchkeeper.engine.relation as relation_module

    for stale in ({"negative": (-40, 10)}, {"sparse": (0, 100)}, {"negative": (-30, 20)},
                  {"ids": (5, 1000)}):  # a mask (values past either end), bit strings
        def narrow(files, columns, known=None, stale=stale):  # what stale footers would say
            return stale

        monkeypatch.setattr(relation_module, "integer_ranges", narrow)
        result = watchkeeper.profile(str(path), partition_column="ts")
        assert result.notices == []
        for column in ("tiny", "sparse", "ids", "negative"):
            assert _distinct(result, column) == _expected(frame, column), (stale, column)
