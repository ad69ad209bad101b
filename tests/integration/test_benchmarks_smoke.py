"""The benchmark code cannot rot: its generator and its SQL baseline run at tiny size.

The benchmarks themselves (``make bench``) are not tests; this checks that the
synthetic data is what the docs say and that the hand-written SQL baseline of
``benchmarks/handwritten.py`` computes the same statistics as watchkeeper, so
the speed ratio in docs/benchmarks.md compares like with like.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import watchkeeper

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import handwritten  # noqa: E402
import synthetic  # noqa: E402

APPROXIMATE = {"distinct_count", *handwritten.QUANTILES}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("bench") / "events.parquet"
    return str(synthetic.write(path, rows=3_000, days=3, seed=7))


@pytest.fixture(scope="module")
def tiny_repeats(tiny, tmp_path_factory) -> str:
    """The tiny file with its first 50 rows loaded twice: day 1 has no unique column."""
    import pyarrow as pa

    table = pq.read_table(tiny)
    doubled = pa.concat_tables([table, table.slice(0, 50)]).sort_by("event_time")
    path = tmp_path_factory.mktemp("bench") / "repeats.parquet"
    pq.write_table(doubled, path)
    return str(path)


class TestSynthetic:
    """The generator writes the table the benchmark docs describe, deterministically."""

    def test_shape_types_and_partitions(self, tiny):
        """30 columns of every kind, sorted daily partitions, NULLs, NaN and ±inf present."""
        table = pq.read_table(tiny)
        assert table.num_columns == 30 and table.num_rows == 3_000
        kinds = {c.kind for c in handwritten.columns_of(tiny)}
        assert kinds == {"numeric", "float", "string", "boolean", "temporal"}
        frame = table.to_pandas()
        assert frame["event_time"].is_monotonic_increasing
        assert frame["event_time"].dt.floor("D").nunique() == 3
        assert frame["discount"].isna().any() and frame["score"].isna().any()
        assert (frame["ratio"] == math.inf).any() and (frame["browser"] == "").any()

    def test_same_seed_same_bytes(self, tiny, tmp_path):
        """Two runs with one seed produce identical files, so benchmark runs compare."""
        again = synthetic.write(tmp_path / "again.parquet", rows=3_000, days=3, seed=7)
        assert Path(tiny).read_bytes() == Path(again).read_bytes()


class TestHandwrittenBaseline:
    """The hand-written SQL baseline computes the statistics watchkeeper computes."""

    @pytest.mark.parametrize("form", ["filter", "case"])
    @pytest.mark.parametrize("data", ["tiny", "tiny_repeats"])
    def test_same_statistics_as_watchkeeper(self, data, form, request):
        """Every statistic agrees: exact ones to 1e-9, approximate ones to 2%.

        ``tiny_repeats`` makes both count duplicate rows with a DISTINCT query."""
        tiny = request.getfixturevalue(data)
        ours = watchkeeper.profile(tiny, partition_column="event_time").statistics
        columns, rows, top = handwritten.run(tiny, "event_time", form)
        theirs = {(pd.Timestamp(d), c, s): v
                  for (d, c, s), v in handwritten.statistics(columns, rows, top).items()}
        mine = {(p, c, s): v for p, c, s, v in ours.itertuples(index=False, name=None)}
        missing = {k[2] for k in set(mine) - set(theirs)} | {k[2] for k in set(theirs) - set(mine)}
        assert not missing, (f"statistics {sorted(missing)} differ between watchkeeper and "
                             "benchmarks/handwritten.py: update the baseline so the speed "
                             "comparison in docs/benchmarks.md stays like for like")
        repeated = [v for (p, c, s), v in mine.items() if s == "duplicate_fraction" and v > 0]
        assert len(repeated) == (1 if data == "tiny_repeats" else 0)
        for key, value in mine.items():
            other = theirs[key]
            if value is None or other is None or math.isnan(value):
                assert (value is None or math.isnan(value)) and other is None, key
                continue
            rel = 0.02 if key[2] in APPROXIMATE else 1e-9
            assert value == pytest.approx(other, rel=rel, abs=1e-9), key
