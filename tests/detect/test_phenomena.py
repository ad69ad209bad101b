"""The seeded phenomenon tables hold the phenomenon their docstring names."""

from __future__ import annotations

import pandas as pd
import pytest

from watchkeeper.datasets import GENERATORS, load, names


@pytest.fixture(scope="module")
def tables():
    return {name: load(name, seed=2).frame for name in GENERATORS}


def per_day(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("day").size()


def test_seeded_and_known_by_name():
    """Every generator is a dataset name, daily, and the same seed gives the same rows."""
    for name in GENERATORS:
        assert name in names()
        a, b = load(name, seed=5), load(name, seed=5)
        assert a.granularity == "day" and a.partition_column == "day"
        pd.testing.assert_frame_equal(a.frame, b.frame)


def test_zero_inflated(tables):
    """Rain is 0 all day on most days; waits are 0 on most rows."""
    frame = tables["zero_inflated"]
    dry = frame.groupby("day")["rain_mm"].max().eq(0).mean()
    assert 0.55 <= dry <= 0.85 and (frame["wait_days"] == 0).mean() > 0.8


def test_holidays_drop_volume(tables):
    """Independence Day and Christmas carry 20-35% fewer rows than a median day (±noise)."""
    counts = per_day(tables["holidays"])
    for day in ("2023-07-04", "2023-12-25"):
        assert counts[pd.Timestamp(day)] < 0.88 * counts.median()


def test_extreme_days_move_columns_together(tables):
    """On the windiest days the gust sensor loses many more readings than on calm ones."""
    frame = tables["extreme_days"]
    by_day = frame.groupby("day").agg(wind=("wind_kmh", "mean"),
                                      lost=("gust_kmh", lambda s: s.isna().mean()))
    stormy = by_day["wind"] > by_day["wind"].quantile(0.98)
    assert by_day["lost"][stormy].mean() > 5 * by_day["lost"][~stormy].mean()


def test_bursts_share_one_value(tables):
    """Some days hold >= 5 rows with one identical price (a group booking)."""
    frame = tables["bursts"]
    biggest = frame.groupby("day")["price"].agg(lambda s: s.value_counts().max())
    assert (biggest >= 5).mean() > 0.1


def test_volatile_volume_and_trend(tables):
    """Volume swings by ~50% day to day; the trend table triples (±noise)."""
    volatile = per_day(tables["volatile_volume"])
    assert volatile.std() / volatile.mean() > 0.35
    grows = per_day(tables["trend"])
    assert grows.iloc[-30:].mean() > 2.3 * grows.iloc[:30].mean()


def test_calendar_flags_constant_within_a_day(tables):
    """Each 0/1 flag takes one value per day, and both values occur."""
    frame = tables["calendar_flags"]
    for flag in ("is_weekend", "is_holiday", "is_month_end", "promo"):
        assert frame.groupby("day")[flag].nunique().max() == 1
        assert set(frame[flag].unique()) == {0, 1}


def test_small_partitions(tables):
    """About 30 rows a day."""
    assert 25 <= per_day(tables["small_partitions"]).mean() <= 35


def test_often_null_columns(tables):
    """The coupon, request, referrer and tip columns are 35-60% NULL."""
    for name, column in (("holidays", "coupon"), ("bursts", "request"),
                         ("volatile_volume", "referrer"), ("small_partitions", "tip")):
        assert 0.3 <= tables[name][column].isna().mean() <= 0.65, name
