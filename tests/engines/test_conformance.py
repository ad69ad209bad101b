"""One conformance suite over every engine: the same cases, the same reference.

Each statistic an engine computes is compared with numpy on the same rows, to the
tolerance in :mod:`watchkeeper.summaries.tolerance`. A profile is computed once
per (engine, partition column, granularity) and shared by the tests that read it,
so Spark starts its jobs a handful of times rather than once per assertion.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conformance_data import (
    COLUMN_KINDS, KEYWORD, QUOTED, ROWS, ROWS_PER_DAY, SPACED, UNICODE, expected, finite_values, groups,
    value_counts,
)

from watchkeeper import Kind, profile
from watchkeeper.engine import Granularity
from watchkeeper.errors import PartitionColumnError
from watchkeeper.summaries import QUANTILES, statistics_for
from watchkeeper.summaries.tolerance import SKETCH, within

DAY, WEEK, HOUR = Granularity.DAY, Granularity.WEEK, Granularity.HOUR
APPROX_DISTINCT = frozenset({"distinct_count"})
_CACHE: dict[tuple[str, str, Granularity], object] = {}


def profiled(engine, partition_column: str = "ts", grain: Granularity = DAY):
    key = (engine.name, partition_column, grain)
    if key not in _CACHE:
        _CACHE[key] = profile(engine.source, partition_column=partition_column,
                              granularity=grain)
    return _CACHE[key]


def mismatches(result, partition_column: str, grain: Granularity, columns: list[str],
               only: set[str] | None = None, skip: frozenset[str] = frozenset()) -> list[tuple]:
    """Every (partition, column, statistic) whose value is off, missing or unexpected."""
    stats = result.statistics
    got = {(p, c, s): v for p, c, s, v in stats.itertuples(index=False, name=None)}
    out = []
    for partition, rows in groups(partition_column, grain).items():
        if got.get((partition, "*", "row_count")) != len(rows):
            out.append((partition, "*", "row_count", got.get((partition, "*", "row_count")),
                        len(rows)))
        for column in columns:
            kind = Kind(COLUMN_KINDS[column])
            reference = expected(column, rows, partition, grain)
            names = set(statistics_for(kind))
            actual_names = {s for (p, c, s) in got if p == partition and c == column}
            if actual_names != names:
                out.append((partition, column, "names", sorted(actual_names ^ names), None))
            for statistic in sorted(names - skip if only is None else names & only):
                actual = got.get((partition, column, statistic))
                finite = finite_values(column, rows) if statistic in QUANTILES else None
                if not within(statistic, kind, _float(actual), reference.get(statistic), finite,
                              rows=len(rows)):
                    out.append((partition, column, statistic, actual, reference.get(statistic)))
    return out


def _float(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else float(value)


def by_kind(kind: str) -> list[str]:
    return [c for c, k in COLUMN_KINDS.items() if k == kind]


class TestStatistics:
    """Every statistic of the vocabulary, per column kind, against numpy."""

    @pytest.mark.parametrize("kind", ["numeric", "float", "string", "boolean", "temporal"])
    def test_kind_matches_reference(self, engine, kind):
        """Each statistic of each column of this kind agrees with numpy within tolerance."""
        result = profiled(engine)
        assert mismatches(result, "ts", DAY, by_kind(kind), skip=APPROX_DISTINCT) == []

    def test_distinct_count_exact_for_strings(self, engine):
        """Strings have exact distinct counts on every engine, so a merged category shows."""
        columns = by_kind("string")
        assert mismatches(profiled(engine), "ts", DAY, columns, only=APPROX_DISTINCT) == []

    def test_distinct_count_exact_for_integers(self, engine):
        """Integer codes have exact distinct counts on every engine (value counts)."""
        columns = ["i", KEYWORD]
        assert mismatches(profiled(engine), "ts", DAY, columns, only=APPROX_DISTINCT) == []

    def test_distinct_count_exact_for_floats_and_decimals_in_small_partitions(self, engine):
        """Partitions of at most EXACT_ROWS rows have exact distinct counts of every kind."""
        columns = by_kind("numeric") + by_kind("float")
        assert mismatches(profiled(engine), "ts", DAY, columns, only=APPROX_DISTINCT) == []

    def test_distinct_count_within_sketch_error(self, engine):
        """Every engine's distinct count is within the 30% that sketches guarantee.

        This still catches real bugs: counting NULL as a value, or each NaN apart.
        """
        columns = by_kind("numeric") + by_kind("float") + by_kind("string")
        result = profiled(engine).statistics.query("statistic == 'distinct_count'")
        for partition, rows in groups("ts", DAY).items():
            for column in columns:
                truth = expected(column, rows, partition, DAY)["distinct_count"]
                got = result[(result["partition"] == partition) & (result["column"] == column)]
                error = abs(got["value"].iloc[0] - truth)
                assert error <= SKETCH.value * truth, (column, partition)

    def test_awkward_identifiers_are_profiled_under_their_own_names(self, engine):
        """A SQL keyword, quotes, a space and unicode in column names come back unchanged."""
        columns = set(profiled(engine).statistics["column"])
        assert {KEYWORD, QUOTED, SPACED, UNICODE} <= columns
        assert columns == {"*", *COLUMN_KINDS}

    def test_no_column_is_skipped(self, engine):
        """The dataset holds only summarizable types, so the run raises no notice."""
        assert profiled(engine).notices == []


class TestPartitioning:
    """Granularity and partition column types bucket rows identically everywhere."""

    def test_rows_without_partition_value_belong_to_no_partition(self, engine):
        """The two rows whose timestamp is NULL are not counted in any partition."""
        result = profiled(engine)
        rows = result.statistics.query("column == '*' and statistic == 'row_count'")
        assert rows["value"].sum() == len(ROWS["ts"]) - 2
        assert result.partitions == list(groups("ts", DAY))

    def test_week_starts_on_monday(self, engine_family):
        """Saturday and Sunday fall in the week of Monday 2024-01-01; Monday starts the next."""
        result = profiled(engine_family, "ts", WEEK)
        assert result.partitions == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")]
        assert mismatches(result, "ts", WEEK, list(COLUMN_KINDS), skip=APPROX_DISTINCT) == []

    def test_hour_granularity(self, engine_family):
        """Hour partitions of five rows each carry the same statistics as numpy's."""
        result = profiled(engine_family, "ts", HOUR)
        assert len(result.partitions) == 72
        columns = ["i", "f", "s", "b", "ts"]
        assert mismatches(result, "ts", HOUR, columns, skip=APPROX_DISTINCT) == []

    def test_date_partition_column(self, engine_family):
        """A DATE partition column gives the same day partitions as the timestamp."""
        result = profiled(engine_family, "d", DAY)
        assert mismatches(result, "d", DAY, list(COLUMN_KINDS), skip=APPROX_DISTINCT) == []

    def test_iso_string_partition_column(self, engine_family):
        """An ISO 8601 string column is parsed as a timestamp to partition by."""
        result = profiled(engine_family, "iso", DAY)
        assert mismatches(result, "iso", DAY, ["i", "f", "s", "iso"], skip=APPROX_DISTINCT) == []

    def test_tz_aware_partition_column_uses_utc_days(self, engine_family):
        """A timestamp with time zone is bucketed by UTC day: 23:36+30 min is the next day."""
        result = profiled(engine_family, "ts_tz", DAY)
        assert result.partitions == list(groups("ts_tz", DAY))
        assert mismatches(result, "ts_tz", DAY, ["i", "s", "ts_tz"], skip=APPROX_DISTINCT) == []

    def test_date_column_has_no_hours(self, engine_family):
        """Hourly partitions of a DATE column are refused with a PartitionColumnError."""
        with pytest.raises(PartitionColumnError, match="no hours"):
            profile(engine_family.source, partition_column="d", granularity="hour")

    def test_missing_partition_column(self, engine_family):
        """A partition column that does not exist is named in a PartitionColumnError."""
        with pytest.raises(PartitionColumnError, match="'nope'"):
            profile(engine_family.source, partition_column="nope")


class TestTopValues:
    """Top values and their occurrence ratios, independent of how ties are ordered."""

    @pytest.mark.parametrize("column", ["s", QUOTED])
    def test_top_values_match_reference(self, engine, column):
        """Each ranked value's ratio is its true share, and ratios fall in reference order."""
        result = profiled(engine)
        top = result.top_values[result.top_values["column"] == column]
        for partition, rows in groups("ts", DAY).items():
            counts = value_counts(column, rows)
            total = sum(counts.values())
            here = top[top["partition"] == partition].sort_values("rank")
            assert len(here) == min(10, len(counts))
            shares = sorted((n / total for n in counts.values()), reverse=True)
            for value, ratio, share in zip(here["value"], here["ratio"], shares):
                assert ratio == pytest.approx(counts[value] / total, rel=1e-9)
                assert ratio == pytest.approx(share, rel=1e-9)

    def test_top_ratio_is_the_first_ranked_share(self, engine):
        """``top_ratio`` equals the ratio of the rank-1 value in the top values."""
        result = profiled(engine)
        stats = result.statistics.query("statistic == 'top_ratio'")
        first = result.top_values[result.top_values["rank"] == 1]
        joined = stats.merge(first, on=["partition", "column"])
        assert len(joined) == len(stats) > 0
        assert (joined["value_x"].astype(float) - joined["ratio"]).abs().max() < 1e-12


class TestDuplicateRows:
    """``duplicate_fraction``: free with a unique column, one DISTINCT query without."""

    def test_zero_where_a_column_is_unique(self, engine):
        """``iso`` (the timestamp as text) is unique in every partition: no row repeats."""
        stats = profiled(engine).statistics
        rows = stats.query("column == '*' and statistic == 'duplicate_fraction'")
        assert list(rows["partition"]) == list(groups("ts", DAY))
        assert list(rows["value"]) == [0.0] * len(rows)

    def test_distinct_rows_match_pandas(self, engine_family):
        """On columns with few values many rows repeat; NULLs and NaNs count as equal."""
        from watchkeeper.engine import open_source

        names = ["s", KEYWORD, "b", "f"]
        with open_source(engine_family.source) as relation:
            columns = [c for c in relation.columns() if c.name in names]
            found = relation.distinct_rows("ts", DAY, columns)

        def key(k):  # NaN equals NaN but not NULL, as in SQL's DISTINCT
            return tuple("NaN" if isinstance(v, float) and math.isnan(v) else v
                         for v in (ROWS[name][k] for name in names))

        expected_counts = {p: len({key(k) for k in rows}) for p, rows in groups("ts", DAY).items()}
        assert found == expected_counts
        assert all(n < ROWS_PER_DAY for n in found.values())  # repeats were there to find
