"""Derived statistics and their rules: constant counts, top-value shares, uniqueness,
tolerance, hooks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from watchkeeper.detect import RobustDetector, Severity, backtest, thresholds
from watchkeeper.detect._features import top_features, with_uniqueness
from watchkeeper.detect._grid import to_grid
from watchkeeper.errors import ConfigError

from detect_histories import make_history, set_value


def _split(history: pd.DataFrame):
    last = sorted(history["partition"].unique())[-1]
    return history[history["partition"] < last], history[history["partition"] == last], last


def _constant_city(history: pd.DataFrame, value: float = 20.0) -> pd.DataFrame:
    out = history.copy()
    out.loc[(out["column"] == "city") & (out["statistic"] == "distinct_count"), "value"] = value
    return out


def _tops(parts, shares: dict, drop_on=None, k: int = 10) -> pd.DataFrame:
    """Top values of ``city``: the same shares every day, ``drop_on`` without its second value."""
    rows = []
    for p in parts:
        listed = dict(shares)
        if p == drop_on:
            first, second = list(listed)[:2]
            listed[first] += listed.pop(second)
        for rank, (v, r) in enumerate(sorted(listed.items(), key=lambda x: -x[1]), 1):
            rows.append((p, "city", rank, v, r))
    return pd.DataFrame(rows, columns=["partition", "column", "rank", "value", "ratio"])


SHARES = {"paris": 0.4, "lyon": 0.3, "nice": 0.2, "lille": 0.1}


class TestConstantCounts:
    def test_unit_drop_from_a_never_varying_count_warns(self, history):
        """A distinct count that was 20 every day and is 19 today pages, banded tightly."""
        past, new, day = _split(_constant_city(history))
        verdict = RobustDetector().fit(past).judge(set_value(new, day, "city", "distinct_count",
                                                             19.0))[0]
        assert verdict.severity >= Severity.WARNING
        top = verdict.columns[0]
        assert (top.column, top.statistic) == ("city", "distinct_count")
        assert 19.0 < top.expected_low < 20.0 < top.expected_high < 21.0

    def test_one_more_distinct_value_is_not_a_design_change(self, history):
        """One odd row can add one distinct value: 20 -> 21 stays below warning."""
        past, new, day = _split(_constant_city(history))
        verdict = RobustDetector().fit(past).judge(set_value(new, day, "city", "distinct_count",
                                                             21.0))[0]
        assert verdict.severity < Severity.WARNING

    def test_a_varying_count_keeps_its_floor(self, history):
        """A distinct count that wobbles by one (the fixture's 19-21) does not alert on 19."""
        past, new, day = _split(history)
        verdict = RobustDetector().fit(past).judge(set_value(new, day, "city", "distinct_count",
                                                             19.0))[0]
        assert verdict.severity < Severity.WARNING


class TestTopValueShares:
    def test_a_merged_category_vanishes(self, history):
        """A usual value folded into another shows as vanished_share = its usual ratio."""
        parts = pd.DatetimeIndex(sorted(history["partition"].unique()))
        tops = _tops(parts, SHARES, drop_on=parts[-1])
        found = top_features(tops, parts[-1:], pd.DatetimeIndex([]), 7)
        got = dict(zip(found["statistic"], found["value"]))
        assert got == {"vanished_share": pytest.approx(0.3), "new_share": 0.0}

    def test_features_use_only_earlier_partitions(self, history):
        """The first ``level`` partitions have no derived shares (nothing before them)."""
        parts = pd.DatetimeIndex(sorted(history["partition"].unique()))
        found = top_features(_tops(parts, SHARES), parts, pd.DatetimeIndex([]), 7)
        assert found["partition"].min() == parts[7]

    def test_merge_alerts_through_fit_and_judge(self, history):
        """With top values, a 30% category vanishing in 500 rows is at least a warning."""
        past, new, day = _split(history)
        parts = pd.DatetimeIndex(sorted(history["partition"].unique()))
        tops = _tops(parts, SHARES, drop_on=day)
        verdict = RobustDetector().fit(past, top_values=tops[tops["partition"] < day]).judge(
            new, top_values=tops[tops["partition"] == day])[0]
        assert verdict.severity >= Severity.WARNING
        assert (verdict.columns[0].column, verdict.columns[0].statistic) == \
            ("city", "vanished_share")
        assert 0.0 <= verdict.columns[0].expected_low  # a fraction's band stays in [0, 1]

    def test_backtest_equals_live_with_top_values(self, history):
        """The backtest's verdict of the last partition is the live fit + judge verdict."""
        past, new, day = _split(history)
        parts = pd.DatetimeIndex(sorted(history["partition"].unique()))
        tops = _tops(parts, SHARES, drop_on=day)
        replay = backtest(history, RobustDetector(), top_values=tops)[-1]
        live = RobustDetector().fit(past, top_values=tops[tops["partition"] < day]).judge(
            new, top_values=tops[tops["partition"] == day])[0]
        assert (replay.severity, replay.score) == (live.severity, pytest.approx(live.score))

    def test_a_small_category_dropping_out_is_not_a_page(self, history):
        """A value with about 5 expected rows absent is a Poisson event: below warning."""
        small = {"paris": 0.5, "lyon": 0.49, "nice": 0.01}
        past, new, day = _split(history)
        parts = pd.DatetimeIndex(sorted(history["partition"].unique()))
        tops = _tops(parts, small)
        tops = tops[~((tops["partition"] == day) & (tops["value"] == "nice"))]
        verdict = RobustDetector().fit(past, top_values=tops[tops["partition"] < day]).judge(
            new, top_values=tops[tops["partition"] == day])[0]
        assert verdict.severity < Severity.WARNING


class TestUniqueness:
    def test_ratio_of_distinct_to_non_null(self, history):
        """uniqueness = distinct_count / non_null_count per partition and column."""
        grid = with_uniqueness(to_grid(history))
        [j] = np.flatnonzero((grid.statistics == "uniqueness") & (grid.columns != "*"))
        first = history[(history["partition"] == grid.partitions[0])
                        & (history["column"] == "city")]
        stats = dict(zip(first["statistic"], first["value"]))
        assert grid.columns[j] == "city"
        assert grid.values[0, j] == pytest.approx(stats["distinct_count"]
                                                  / stats["non_null_count"])

    def test_duplicated_rows_on_an_id_column_alert(self):
        """Doubling the rows halves an id column's uniqueness: at least a warning."""
        history = make_history()
        ids = history[history["statistic"] == "non_null_count"].assign(column="order_id")
        rng = np.random.default_rng(1)
        distinct = ids.assign(statistic="distinct_count",
                              value=ids["value"] - rng.integers(0, 3, len(ids)))
        history = pd.concat([history, ids.drop_duplicates("partition"),
                             distinct.drop_duplicates("partition")], ignore_index=True)
        past, new, day = _split(history)
        doubled = new.copy()
        doubled.loc[doubled["statistic"].isin(["non_null_count", "row_count"]), "value"] *= 1.5
        verdict = RobustDetector().fit(past).judge(doubled)[0]
        assert verdict.severity >= Severity.WARNING
        assert ("order_id", "uniqueness") in {(e.column, e.statistic) for e in verdict.columns}

    def test_category_columns_are_not_judged_on_it(self, history):
        """A category column's uniqueness (20 / 500) never alerts by itself."""
        past, new, day = _split(history)
        verdict = RobustDetector().fit(past).judge(set_value(new, day, "city", "distinct_count",
                                                             20.0))[0]
        assert "uniqueness" not in {e.statistic for e in verdict.columns}


class TestToleranceAndHooks:
    def test_tolerance_widens_the_band_inside_the_detector(self, history):
        """A x3 tolerance divides the series' score by 3 and is reported with the band."""
        past, new, day = _split(history)
        bad = set_value(new, day, "amount", "mean", 53.0)
        plain = RobustDetector().fit(past).judge(bad)[0]
        wide = RobustDetector().fit(past, tolerance={("amount", "mean"): 3.0}).judge(bad)[0]
        [a] = [e for e in plain.columns if e.statistic == "mean"]
        [b] = [e for e in wide.columns if e.statistic == "mean"] or [None]
        assert b is None or b.score == pytest.approx(a.score / 3)
        assert b is None or b.tolerance == 3.0
        assert wide.score < plain.score

    def test_bad_tolerance_is_a_config_error(self, history):
        """A multiplier that is not a positive number names the fix."""
        with pytest.raises(ConfigError, match="must be > 0"):
            RobustDetector().fit(history, tolerance={("amount", "mean"): 0})

    def test_public_thresholds_and_fitted_levels(self, history):
        """detect.thresholds gives a budget's levels in bits, and fit records them as levels_:
        a warning is as surprising as the budget, critical a deviation twice as far (8 times rarer)."""
        info, warning, critical = thresholds("1 per 90")
        assert warning == pytest.approx(math.log2(90)) and info < warning < critical
        assert critical - warning == pytest.approx(3.0)
        assert RobustDetector(false_alarms="1 per 30").fit(history).levels_ == \
            thresholds("1/30")
        with pytest.raises(ConfigError):
            thresholds("loud")

    def test_fraction_bands_are_clipped(self, history):
        """A null fraction's reported band never goes below 0 or above 1."""
        past, new, day = _split(history)
        verdict = RobustDetector().fit(past).judge(set_value(new, day, "amount", "null_fraction",
                                                             0.5))[0]
        [e] = [e for e in verdict.columns if e.statistic == "null_fraction"]
        assert 0.0 <= e.expected_low <= e.expected_high <= 1.0
