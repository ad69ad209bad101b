"""The detector on odd rows behind a moved moment, the table's uniqueness, and the distinct
counts of id-like columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from watchkeeper.detect import RobustDetector, Severity, thresholds
from watchkeeper.detect import _judge
from watchkeeper.detect._features import null_partners, with_uniqueness
from watchkeeper.detect._grid import partition_offsets as _grid_offsets, to_grid

from detect_histories import make_history, set_value


def _split(history: pd.DataFrame):
    last = sorted(history["partition"].unique())[-1]
    return history[history["partition"] < last], history[history["partition"] == last], last


def _with_species(history: pd.DataFrame, rows: int = 400) -> pd.DataFrame:
    """``species``: 3-letter names every day (its length has no spread to learn)."""
    parts = sorted(history["partition"].unique())
    out = []
    for day in parts:
        out += [(day, "species", "non_null_count", float(rows)),
                (day, "species", "null_fraction", 0.0),
                (day, "species", "length_min", 3.0), (day, "species", "length_max", 3.0),
                (day, "species", "length_mean", 3.0)]
    extra = pd.DataFrame(out, columns=["partition", "column", "statistic", "value"])
    return pd.concat([history, extra], ignore_index=True)


def _species_score(verdict) -> float:
    return max([e.score for e in verdict.columns if e.column == "species"], default=0.0)


class TestRowsBehindAMoment:
    def test_a_few_odd_rows_at_a_seen_extreme_are_not_paged(self):
        """Three 4-letter names among 400 move length_mean by 3/400: three rows, not a
        shift of the column. The moment, far beyond its band of a constant length, scores
        like three rows (sqrt(2 x 3), within noise): no page."""
        history = _with_species(make_history())
        past, new, day = _split(history)
        odd = set_value(new, day, "species", "length_max", 4.0)
        odd = set_value(odd, day, "species", "length_mean", 3.0 + 3 / 400)
        verdict = RobustDetector().fit(past).judge(odd)[0]
        assert _species_score(verdict) < thresholds()[1]
        assert verdict.severity < Severity.WARNING

    def test_a_shift_many_rows_must_make_alerts(self):
        """The same extremes with length_mean up by 0.5 need 200 rows at length 4: a fault."""
        history = _with_species(make_history())
        past, new, day = _split(history)
        bad = set_value(new, day, "species", "length_max", 4.0)
        bad = set_value(bad, day, "species", "length_mean", 3.5)
        verdict = RobustDetector().fit(past).judge(bad)[0]
        assert verdict.severity >= Severity.WARNING
        assert verdict.columns[0].column == "species"

    def test_rows_behind_moments_is_a_lower_bound(self):
        """n * shift / (extreme - expected): 400 * 0.01 / 1 = 4 rows."""
        history = _with_species(make_history())
        grid = to_grid(history)
        t = len(grid.partitions) - 1
        cols = {(c, s): j for j, (c, s) in enumerate(zip(grid.columns, grid.statistics))}
        grid.values[t, cols[("species", "length_mean")]] = 3.01
        grid.values[t, cols[("species", "length_max")]] = 4.0
        center = np.full(grid.values.shape, 3.0)
        moved = np.array([cols[("species", "length_mean")]])
        assert _judge._rows_behind_moments(grid, t, moved, center) == \
            __import__("pytest").approx(4.0)


def _with_id(history: pd.DataFrame) -> pd.DataFrame:
    """``order_id``: one value per row, every row non-null."""
    ids = history[history["statistic"] == "row_count"].assign(column="order_id")
    return pd.concat([history, ids.assign(statistic="non_null_count"),
                      ids.assign(statistic="distinct_count")], ignore_index=True)


class TestTableUniqueness:
    def test_table_uniqueness_is_its_most_unique_column(self, history):
        """``*`` uniqueness = the largest column uniqueness of the partition."""
        grid = with_uniqueness(to_grid(_with_id(history)))
        unique = {c: j for j, (c, s) in enumerate(zip(grid.columns, grid.statistics))
                  if s == "uniqueness"}
        assert set(unique) == {"city", "order_id", "*"}
        np.testing.assert_allclose(grid.values[:, unique["*"]],
                                   np.fmax(grid.values[:, unique["city"]],
                                           grid.values[:, unique["order_id"]]))

    def test_duplicated_rows_are_blamed_on_the_table(self, history):
        """Rows arriving twice: the table is named first, its id column beside it, and the
        id column's distinct count (rows x uniqueness) is not judged again."""
        past, new, day = _split(_with_id(history))
        doubled = new.copy()
        doubled.loc[doubled["statistic"].isin(["non_null_count", "row_count"]), "value"] *= 1.6
        verdict = RobustDetector().fit(past).judge(doubled)[0]
        assert verdict.severity >= Severity.WARNING
        assert verdict.columns[0].column == "*"
        assert ("order_id", "uniqueness") in {(e.column, e.statistic) for e in verdict.columns}
        assert ("order_id", "distinct_count") not in {(e.column, e.statistic)
                                                      for e in verdict.columns}

    def test_lost_rows_do_not_blame_the_id_column(self, history):
        """A partial load moves the row count and, with it, an id column's distinct
        count: only the row count is evidence (the distinct count restates it)."""
        past, new, day = _split(_with_id(history))
        half = new.copy()
        half.loc[half["statistic"].isin(["non_null_count", "row_count", "distinct_count"])
                 & (half["column"].isin(["*", "order_id", "amount"])), "value"] *= 0.4
        verdict = RobustDetector().fit(past).judge(half)[0]
        assert verdict.severity >= Severity.WARNING
        assert verdict.columns[0].column == "*"
        assert "order_id" not in {e.column for e in verdict.columns}

    def test_a_held_distinct_count_of_an_id_like_column_still_counts(self):
        """51 states with one row each: nulls in ``state`` lower its constant distinct
        count, a design invariant, which is judged although the column is id-like."""
        history = make_history()
        rows = history[history["statistic"] == "row_count"]
        state = pd.concat([rows.assign(column="state", statistic=s, value=51.0)
                           for s in ("non_null_count", "distinct_count")]
                          + [rows.assign(column="state", statistic="null_fraction", value=0.0)],
                          ignore_index=True)
        past, new, day = _split(pd.concat([history, state], ignore_index=True))
        nulls = set_value(new, day, "state", "distinct_count", 46.0)
        nulls = set_value(nulls, day, "state", "non_null_count", 46.0)
        verdict = RobustDetector().fit(past).judge(nulls)[0]
        assert ("state", "distinct_count") in {(e.column, e.statistic) for e in verdict.columns}
        assert verdict.severity >= Severity.WARNING


def _with_block(history: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """``race`` and ``gender``: null together (same rows) on 5-30% of rows, day to day."""
    rng = np.random.default_rng(seed)
    parts = sorted(history["partition"].unique())
    out = []
    for day in parts:
        share = float(rng.uniform(0.05, 0.3))
        for column in ("race", "gender", "reason"):
            out += [(day, column, "null_fraction", share), (day, column, "non_null_count", 100.0),
                    (day, column, "distinct_count", 5.0)]
    extra = pd.DataFrame(out, columns=["partition", "column", "statistic", "value"])
    return pd.concat([history, extra], ignore_index=True)


class TestNullGap:
    def test_partners_are_columns_null_on_the_same_rows(self, history):
        """Equal null fractions partition after partition make partners; others are not."""
        grid = to_grid(_with_block(history))
        partners = null_partners(grid)
        assert partners == {"race": ("gender", "reason"), "gender": ("race", "reason"),
                            "reason": ("gender", "race")}

    def test_nulls_in_one_field_of_a_block_alert_and_name_it(self, history):
        """10% more nulls in ``gender`` alone: inside the block's own swing (5-30%), but
        its gap to ``race`` and ``reason`` jumps from 0; ``gender`` is named first."""
        past, new, day = _split(_with_block(history))
        share = float(new[(new["column"] == "race") & (new["statistic"] == "null_fraction")]
                      ["value"].iloc[0])
        bad = set_value(new, day, "gender", "null_fraction", share + 0.1 * (1 - share))
        verdict = RobustDetector().fit(past).judge(bad)[0]
        assert verdict.severity >= Severity.WARNING
        assert (verdict.columns[0].column, verdict.columns[0].statistic) == \
            ("gender", "null_gap")
        plain = RobustDetector().fit(past)
        assert plain.null_partners_["gender"] == ("race", "reason")

    def test_the_block_moving_together_is_normal(self, history):
        """All three fields at a new (seen) level together: no gap, no alert from it."""
        past, new, day = _split(_with_block(history))
        moved = new.copy()
        moved.loc[moved["statistic"].eq("null_fraction")
                  & moved["column"].isin(["race", "gender", "reason"]), "value"] = 0.28
        verdict = RobustDetector().fit(past).judge(moved)[0]
        assert "null_gap" not in {e.statistic for e in verdict.columns}

    def test_backtest_and_judge_agree(self, history):
        """The gap is judged the same way in a backtest as live."""
        frame = _with_block(history)
        last = max(frame["partition"])
        bad = frame.copy()
        mask = (bad["partition"] == last) & (bad["column"] == "gender") & \
            (bad["statistic"] == "null_fraction")
        bad.loc[mask, "value"] = bad.loc[mask, "value"] + 0.1
        replay = RobustDetector().backtest(bad)[-1]
        live = RobustDetector().fit(bad[bad["partition"] < last]).judge(
            bad[bad["partition"] == last])[0]
        assert replay.severity == live.severity
        assert replay.score == __import__("pytest").approx(live.score)


def _fixed_design(days: int = 90, seed: int = 5, rows: float = 51.0) -> pd.DataFrame:
    """51 states a day: ``births`` statistics vary a little day to day (same entities);
    the row count never moves."""
    rng = np.random.default_rng(seed)
    out = []
    for day in pd.date_range("2024-01-01", periods=days, freq="D"):
        level = 200 + rng.normal(0, 2)
        values = {("*", "row_count"): rows, ("births", "non_null_count"): rows,
                  ("births", "null_fraction"): 0.0, ("births", "mean"): level,
                  ("births", "std"): 250 + rng.normal(0, 2),
                  ("births", "p05"): 20 + rng.normal(0, 0.5),
                  ("births", "p25"): 60 + rng.normal(0, 1), ("births", "p50"): 140 + rng.normal(0, 1.5),
                  ("births", "p75"): 250 + rng.normal(0, 2), ("births", "p95"): 700 + rng.normal(0, 5)}
        out.extend((day, c, s, float(v)) for (c, s), v in values.items())
    return pd.DataFrame(out, columns=["partition", "column", "statistic", "value"])


class TestFixedDesign:
    def test_a_fixed_design_is_judged_by_its_own_variation(self):
        """Six of 51 values written as -1 move p05 from 20 to -1: 40 of its own noise
        units, but less than one sampling-floor unit (sigma / sqrt(51) from an IQR of
        190). With the row count fixed at 51 the floor does not apply: it alerts (shifts
        paged: a quantile moving alone is otherwise a shift of shape, recorded as info)."""
        past, new, day = _split(_fixed_design())
        bad = set_value(new, day, "births", "p05", -1.0)
        verdict = RobustDetector(page_shifts=True).fit(past).judge(bad)[0]
        assert verdict.severity >= Severity.WARNING
        assert (verdict.columns[0].column, verdict.columns[0].statistic) == ("births", "p05")

    def test_a_varying_row_count_keeps_the_sampling_floor(self):
        """The same history with a row count that varies is a sample: the floor holds."""
        frame = _fixed_design()
        rng = np.random.default_rng(0)
        mask = frame["statistic"].isin(["row_count", "non_null_count"])
        frame.loc[mask, "value"] = frame.loc[mask, "value"] + np.repeat(
            rng.integers(-3, 4, mask.sum() // 2), 2)
        past, new, day = _split(frame)
        bad = set_value(new, day, "births", "p05", -1.0)
        verdict = RobustDetector().fit(past).judge(bad)[0]
        assert verdict.severity < Severity.WARNING


class TestDuplicateFraction:
    def test_the_engines_duplicate_fraction_is_a_fraction_of_the_table(self, history):
        """``*`` duplicate_fraction (the engine's rows repeating another row) is judged as
        a fraction: a fifth of the rows arriving twice alerts and names the table."""
        rng = np.random.default_rng(2)
        rows = history[history["statistic"] == "row_count"]
        dup = rows.assign(statistic="duplicate_fraction",
                          value=np.clip(rng.normal(0.01, 0.003, len(rows)), 0, 1))
        past, new, day = _split(pd.concat([history, dup], ignore_index=True))
        quiet = RobustDetector().fit(past).judge(new)[0]
        assert "duplicate_fraction" not in {e.statistic for e in quiet.columns}
        doubled = set_value(new, day, "*", "duplicate_fraction", 0.2)
        verdict = RobustDetector().fit(past).judge(doubled)[0]
        assert verdict.severity >= Severity.WARNING
        assert (verdict.columns[0].column, verdict.columns[0].statistic) == \
            ("*", "duplicate_fraction")
        [e] = [e for e in verdict.columns if e.statistic == "duplicate_fraction"]
        assert 0.0 <= e.expected_low <= e.expected_high <= 1.0


def _weekly_timestamps(weeks: int = 80, seed: int = 4) -> pd.DataFrame:
    """A weekly table whose ``ts`` lands on the partition's own days: its last value of a
    week is anywhere from Thursday to Sunday, its first on Monday or Tuesday."""
    rng = np.random.default_rng(seed)
    out = []
    for week in pd.date_range("2022-01-03", periods=weeks, freq="7D"):
        start = (week - pd.Timestamp(0)).total_seconds()
        first = start + rng.uniform(0, 2) * 86400
        last = start + rng.uniform(3, 7) * 86400
        out += [(week, "*", "row_count", 300.0 + rng.normal(0, 10)),
                (week, "ts", "non_null_count", 300.0), (week, "ts", "null_fraction", 0.0),
                (week, "ts", "min", first), (week, "ts", "max", last),
                (week, "ts", "lag_seconds", start + 7 * 86400 - last)]
    return pd.DataFrame(out, columns=["partition", "column", "statistic", "value"])


class TestPartitionOffsets:
    def test_timestamp_extremes_are_judged_within_their_partition(self):
        """A week whose last value is on Thursday, as seen before, is normal; the same
        week's timestamps a month late are not, and the report is in seconds since 1970."""
        past, new, day = _split(_weekly_timestamps())
        start = (day - pd.Timestamp(0)).total_seconds()
        quiet = RobustDetector().fit(past).judge(set_value(new, day, "ts", "max",
                                                           start + 3.2 * 86400))[0]
        assert quiet.severity < Severity.WARNING
        late = set_value(new, day, "ts", "max", start + 37 * 86400)
        late = set_value(late, day, "ts", "min", start + 31 * 86400)
        verdict = RobustDetector().fit(past).judge(late)[0]
        assert verdict.severity >= Severity.WARNING
        [e] = [e for e in verdict.columns if e.column == "ts"]
        assert e.statistic in ("min", "max")
        assert e.observed == __import__("pytest").approx(
            start + (37 if e.statistic == "max" else 31) * 86400)
        assert e.expected_low < start + 8 * 86400 and e.expected_high > start

    def test_offsets_take_off_the_partition_start(self):
        """Only a timestamp column's min and max move, by the start of their partition."""
        frame = _weekly_timestamps(weeks=20)
        grid = to_grid(frame)
        moved, offset = _grid_offsets(grid)
        stats = list(zip(grid.columns, grid.statistics))
        for j, (c, s) in enumerate(stats):
            if (c, s) in {("ts", "min"), ("ts", "max")}:
                assert (moved.values[:, j] >= 0).all() and (moved.values[:, j] < 7 * 86400).all()
                np.testing.assert_allclose(moved.values[:, j] + offset[:, j], grid.values[:, j])
            else:
                np.testing.assert_array_equal(moved.values[:, j], grid.values[:, j])
