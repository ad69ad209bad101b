"""The detector's calibration: the false-alarm budget, point masses, calendars, cause classes
and muting, on summary histories made in code."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from watchkeeper.detect import RobustDetector, Severity, thresholds
from watchkeeper.detect._calendar import calendar_days
from watchkeeper.detect._calibration import MAX_BITS, PooledTail, budget_rate
from watchkeeper.detect._causes import co_moved
from watchkeeper.engine.types import Granularity
from watchkeeper.errors import ConfigError

from detect_histories import make_history, set_value

STATS = ("mean", "p25", "p50", "p75", "std", "null_fraction")


def heavy_history(days: int = 600, columns: int = 12, seed: int = 0) -> pd.DataFrame:
    """Clean daily summaries with heavy-tailed noise (Student t, 3 degrees of freedom)."""
    rng = np.random.default_rng(seed)
    parts = pd.date_range("2022-01-03", periods=days, freq="D")
    rows = []
    for t, p in enumerate(parts):
        n = 1000 + 80 * (p.dayofweek >= 5) + rng.standard_t(3) * 15
        rows.append((p, "*", "row_count", float(round(n))))
        for c in range(columns):
            shift = rng.standard_t(3) * 0.5
            base = 100.0 * (c + 1)
            values = {"mean": base + shift, "p25": base - 7 + shift + rng.normal(0, 0.3),
                      "p50": base + shift + rng.normal(0, 0.3),
                      "p75": base + 7 + shift + rng.normal(0, 0.3),
                      "std": 10 + rng.standard_t(3) * 0.2,
                      "null_fraction": min(1.0, max(0.0, 0.05 + rng.standard_t(3) * 0.005))}
            rows.extend((p, f"c{c}", s, float(v)) for s, v in values.items())
            rows.append((p, f"c{c}", "non_null_count", float(round(n * 0.95))))
    return pd.DataFrame(rows, columns=["partition", "column", "statistic", "value"])


def _alert_rate(verdicts) -> float:
    judged = [v for v in verdicts if v.judged]
    return sum(v.severity >= Severity.WARNING for v in judged) / len(judged)


class TestBudget:
    @pytest.mark.parametrize("text, rate", [("1 per 90", 1 / 90), ("1/30", 1 / 30),
                                            ("2 per 365 partitions", 2 / 365), (0.01, 0.01)])
    def test_budget_forms(self, text, rate):
        """A budget is 'k per n', 'k/n' or a fraction in (0, 1)."""
        assert budget_rate(text) == pytest.approx(rate)

    @pytest.mark.parametrize("budget", ["1 per 90", "1 per 30", "1 per 365"])
    def test_realized_rate_on_clean_data_meets_the_budget(self, budget):
        """On 600 clean days of heavy-tailed noise, the realized alert rate is at most twice
        the budget (the issue's promise), and a stricter budget never alerts more."""
        verdicts = RobustDetector(false_alarms=budget).backtest(heavy_history())
        assert _alert_rate(verdicts) <= 2 * budget_rate(budget)

    def test_stricter_budget_alerts_less(self):
        history = heavy_history(seed=1)
        loose = _alert_rate(RobustDetector(false_alarms="1 per 20").backtest(history))
        strict = _alert_rate(RobustDetector(false_alarms="1 per 365").backtest(history))
        assert strict <= loose

    def test_a_real_fault_still_pages_and_scores_are_bounded(self):
        """A unit change in one column of the heavy-tailed table pages; every score is a
        surprise in bits within [0, 64]."""
        history = heavy_history(days=200, seed=2)
        last = history["partition"].max()
        bad = history.copy()
        hit = (bad["partition"] == last) & (bad["column"] == "c3") & \
            bad["statistic"].isin(["mean", "p25", "p50", "p75", "std"])
        bad.loc[hit, "value"] *= 1.8
        verdicts = RobustDetector().backtest(bad)
        assert verdicts[-1].severity >= Severity.WARNING
        assert verdicts[-1].columns[0].column == "c3"
        assert all(0.0 <= v.score <= MAX_BITS for v in verdicts)

    def test_the_band_is_where_warning_starts(self):
        """An explanation's band is where the value would have stayed below warning: it has
        a width, and the observed value that paged lies outside it."""
        history = heavy_history(days=200, seed=3)
        last = history["partition"].max()
        bad = set_value(history, last, "c1", "mean", 260.0)
        verdict = RobustDetector().backtest(bad)[-1]
        top = verdict.columns[0]
        assert top.expected_high > top.expected_low
        assert not top.expected_low <= top.observed <= top.expected_high

    def test_pooled_tail_counts_clusters(self):
        """Exceedances per partition that has any: three partitions, one with three at once."""
        tail = PooledTail.fit_counts(np.array([0, 3, 1, 0, 1]), np.full(5, 10))
        assert tail.cluster == pytest.approx(5 / 3) and tail.rate == pytest.approx(6 / 51)
        assert tail.tests(50) == pytest.approx(30.0)
        assert tail.quantile(tail.rate / 8) == pytest.approx(2.0)


class TestPointMasses:
    def test_a_flag_that_never_moved_cannot_page_alone(self):
        """A 0/1 calendar flag (mean 1 on weekdays, 0 at weekends) read 0 on a Monday: a
        value not seen on Mondays in the window, but a point mass can only say that much."""
        history = make_history(days=120)
        parts = sorted(history["partition"].unique())
        flag = pd.DataFrame([(p, "workday", "mean", float(p.dayofweek < 5)) for p in parts],
                            columns=["partition", "column", "statistic", "value"])
        history = pd.concat([history, flag], ignore_index=True)
        monday = [p for p in parts if p.dayofweek == 0][-1]
        history = set_value(history, monday, "workday", "mean", 0.0)
        verdict = [v for v in RobustDetector().backtest(history) if v.partition == monday][0]
        assert verdict.severity < Severity.WARNING

    def test_a_zero_inflated_quantile_cannot_page_alone(self):
        """p75 of rain is 0 for two months, then 12 mm on a rainy day: no page from it."""
        history = make_history(days=90)
        parts = sorted(history["partition"].unique())
        rain = pd.DataFrame([(p, "rain", "p75", 0.0) for p in parts],
                            columns=["partition", "column", "statistic", "value"])
        history = set_value(pd.concat([history, rain], ignore_index=True), parts[-1], "rain",
                            "p75", 12.0)
        assert RobustDetector().backtest(history)[-1].severity < Severity.WARNING


class TestCalendar:
    def _holiday_history(self) -> pd.DataFrame:
        """Two years of days whose row count drops by a third on US public holidays."""
        history = make_history(days=730, start="2023-01-02")
        named = calendar_days(pd.DatetimeIndex(sorted(history["partition"].unique())),
                              Granularity.DAY, "US")
        days = pd.DatetimeIndex(sorted(history["partition"].unique()))
        holidays = [days[r] for r, name in named.items() if not name.startswith("eve")]
        hit = history["partition"].isin(holidays) & (history["statistic"] == "row_count")
        history.loc[hit, "value"] *= 0.65
        return history, holidays

    def test_holidays_are_expected_with_a_calendar(self):
        """Without a calendar the holidays page; with calendar='US' they are recorded as
        info, with the holiday's name and the cause 'calendar'."""
        history, holidays = self._holiday_history()
        plain = [v for v in RobustDetector().backtest(history) if v.partition in holidays]
        assert sum(v.severity >= Severity.WARNING for v in plain) >= 5
        aware = [v for v in RobustDetector(calendar="US").backtest(history)
                 if v.partition in holidays and v.judged]
        assert all(v.severity < Severity.WARNING for v in aware)
        named = [v for v in aware if "cause" in v.extra]
        assert named and all(v.extra["cause"] == "calendar" and v.extra["calendar"]
                             for v in named)

    def test_a_fault_on_a_holiday_still_pages(self):
        """Nulls in a column on Christmas are an engineering fault, holiday or not."""
        history, holidays = self._holiday_history()
        christmas = pd.Timestamp("2024-12-25")
        history = set_value(history, christmas, "amount", "null_fraction", 0.4)
        verdict = [v for v in RobustDetector(calendar="US").backtest(history)
                   if v.partition == christmas][0]
        assert verdict.severity >= Severity.WARNING and verdict.extra["cause"] == "fault"

    def test_a_series_holidays_never_moved_is_judged_as_on_any_day(self):
        """The amount's mean never moved on a holiday; when it leaps on Christmas that
        is no holiday effect, and it pages (the row count's drop still does not)."""
        history, holidays = self._holiday_history()
        christmas = pd.Timestamp("2024-12-25")
        for name in ("mean", "p25", "p50", "p75"):
            old = history[(history["partition"] == christmas) & (history["column"] == "amount")
                          & (history["statistic"] == name)]["value"].iloc[0]
            history = set_value(history, christmas, "amount", name, old + 25.0)
        verdicts = {v.partition: v for v in RobustDetector(calendar="US").backtest(history)}
        assert verdicts[christmas].severity >= Severity.WARNING
        assert verdicts[christmas].extra["calendar"] == "Christmas Day"
        assert verdicts[christmas].columns[0].column == "amount"

    def test_a_holiday_drop_far_beyond_earlier_ones_pages(self):
        """Earlier holidays cost a third of the rows; a Christmas with 5% of them left is a
        partial load, not a holiday."""
        history, holidays = self._holiday_history()
        christmas = pd.Timestamp("2024-12-25")
        history = set_value(history, christmas, "*", "row_count", 25.0)
        verdict = [v for v in RobustDetector(calendar="US").backtest(history)
                   if v.partition == christmas][0]
        assert verdict.severity >= Severity.WARNING and verdict.extra["cause"] == "fault"

    def test_unknown_calendar_is_a_config_error(self):
        with pytest.raises(ConfigError, match="ISO country code"):
            RobustDetector(calendar="Atlantis").fit(make_history())


class TestCauses:
    def _moved(self, columns, statistic="mean", by=40.0):
        history = make_history(days=100)
        extra = []
        parts = sorted(history["partition"].unique())
        rng = np.random.default_rng(4)
        for c in ("wind", "rain", "visibility", "gusts"):
            extra += [(p, c, "mean", 10.0 + rng.normal(0, 0.5)) for p in parts]
        history = pd.concat([history, pd.DataFrame(
            extra, columns=["partition", "column", "statistic", "value"])], ignore_index=True)
        for c in columns:
            history = set_value(history, parts[-1], c, statistic, by)
        return history

    def test_many_columns_moving_together_are_a_shift(self):
        """Four weather columns leap at once with no sign of a fault: a real-world shift,
        recorded as info; page_shifts=True pages it."""
        history = self._moved(["wind", "rain", "visibility", "gusts"])
        quiet = RobustDetector().backtest(history)[-1]
        assert quiet.severity is Severity.INFO and quiet.extra["cause"] == "shift"
        loud = RobustDetector(page_shifts=True).backtest(history)[-1]
        assert loud.severity >= Severity.WARNING and loud.extra["cause"] == "shift"

    def test_one_column_is_a_fault(self):
        """One column's leap nothing else explains pages as a likely fault."""
        verdict = RobustDetector().backtest(self._moved(["wind"]))[-1]
        assert verdict.severity >= Severity.WARNING and verdict.extra["cause"] == "fault"

    def test_a_quantile_moving_alone_is_a_shift_of_shape(self):
        """The amount's p75 leaps while its mean, spread and extremes stay (a group of rows
        sharing one value): a shift of the values' shape, recorded as info. With the mean
        moving too, values were rewritten: a fault."""
        history = make_history(days=100)
        last = history["partition"].max()
        alone = set_value(history, last, "amount", "p75", 68.0)
        verdict = RobustDetector().backtest(alone)[-1]
        assert verdict.severity is Severity.INFO and verdict.extra["cause"] == "shift"
        assert verdict.columns[0].statistic == "p75"
        rewritten = set_value(alone, last, "amount", "mean", 62.0)
        verdict = RobustDetector().backtest(rewritten)[-1]
        assert verdict.severity >= Severity.WARNING and verdict.extra["cause"] == "fault"

    def test_nulls_are_a_fault_even_among_many_columns(self):
        """An integrity statistic (nulls) is a fault however many columns moved."""
        history = self._moved(["wind", "rain", "visibility", "gusts"])
        last = history["partition"].max()
        history = set_value(history, last, "amount", "null_fraction", 0.5)
        verdict = RobustDetector().backtest(history)[-1]
        assert verdict.severity >= Severity.WARNING and verdict.extra["cause"] == "fault"

    def _storms(self, last_nulls: float, last_columns=("rain", "visibility", "gusts")):
        """Weather columns with a storm every 20 days: rain and visibility leap and the gust
        sensor drops out (its null fraction leaps), as storms do; the last day is judged."""
        history = make_history(days=200)
        parts = sorted(history["partition"].unique())
        rng = np.random.default_rng(5)
        rows = []
        for i, p in enumerate(parts):
            storm = i % 20 == 7
            rows += [(p, "rain", "mean", (30.0 if storm else 2.0) + rng.normal(0, 0.3)),
                     (p, "visibility", "mean", (3.0 if storm else 20.0) + rng.normal(0, 0.3)),
                     (p, "gusts", "mean", 30.0 + rng.normal(0, 0.5)),
                     (p, "gusts", "null_fraction", (0.4 if storm else 0.0)),
                     (p, "gusts", "non_null_count", 500.0)]
        history = pd.concat([history, pd.DataFrame(
            rows, columns=["partition", "column", "statistic", "value"])], ignore_index=True)
        last = parts[-1]
        if "rain" in last_columns:
            history = set_value(history, last, "rain", "mean", 30.0)
        if "visibility" in last_columns:
            history = set_value(history, last, "visibility", "mean", 3.0)
        return set_value(history, last, "gusts", "null_fraction", last_nulls)

    def test_a_familiar_pattern_of_co_movement_is_a_shift(self):
        """A storm moves the same columns as earlier storms did, the gust sensor's nulls
        included: a real-world shift, not a fault."""
        verdict = RobustDetector().backtest(self._storms(0.4))[-1]
        assert verdict.extra.get("cause") == "shift" and verdict.severity is Severity.INFO

    def test_a_pattern_member_moving_alone_is_a_fault(self):
        """The gust sensor's nulls with no storm around them: a fault."""
        verdict = RobustDetector().backtest(self._storms(0.4, last_columns=()))[-1]
        assert verdict.severity >= Severity.WARNING and verdict.extra["cause"] == "fault"


class TestDuplicates:
    def _loads(self, duplicates: float) -> pd.DataFrame:
        """A table that duplicates nothing (but a row now and then); on the last day 12% more
        rows arrive, with the duplicate fraction at ``duplicates``."""
        history = make_history(days=100)
        parts = sorted(history["partition"].unique())
        rng = np.random.default_rng(6)
        dup = pd.DataFrame([(p, "*", "duplicate_fraction", float(rng.binomial(500, 0.002)) / 500)
                            for p in parts], columns=["partition", "column", "statistic", "value"])
        history = pd.concat([history, dup], ignore_index=True)
        history = set_value(history, parts[-1], "*", "row_count", 560.0)
        return set_value(history, parts[-1], "*", "duplicate_fraction", duplicates)

    def test_more_rows_and_nothing_else_is_a_burst(self):
        """More rows, every one of them new: a burst of activity, recorded as a shift."""
        verdict = RobustDetector().backtest(self._loads(0.002))[-1]
        assert verdict.extra["cause"] == "shift" and verdict.severity is Severity.INFO

    def test_more_rows_with_duplicates_rising_is_a_double_load(self):
        """The same extra rows with the duplicate fraction up beyond its noise (as far as an
        info, short of a page on its own) are rows loaded twice: a likely fault that pages."""
        verdict = RobustDetector().backtest(self._loads(0.014))[-1]
        assert verdict.severity >= Severity.WARNING and verdict.extra["cause"] == "fault"
        assert verdict.columns[0].statistic == "row_count"

    def test_earlier_double_loads_never_make_one_familiar(self):
        """Co-movement explains a storm's columns as earlier storms did, but never the
        duplicate fraction: earlier double loads would make every next one look familiar."""
        z = np.zeros((300, 4))
        columns = np.array(["*", "lat", "long", "name"])
        statistics = np.array(["duplicate_fraction", "uniqueness", "uniqueness", "uniqueness"])
        judged = np.ones(300, dtype=bool)
        z[[100, 150, 200], :] = 8.0  # earlier double loads: all four moved together
        z[299, :] = 9.0
        familiar = co_moved(z, judged, 299, np.arange(4), columns, statistics, 56, 3)
        assert familiar.tolist() == [False, True, True, True]


class TestMute:
    def test_muted_column_and_pair(self):
        """A muted column is never explained; a muted pair silences only that statistic."""
        history = make_history(days=100)
        last = history["partition"].max()
        bad = set_value(history, last, "amount", "mean", 90.0)
        assert RobustDetector().backtest(bad)[-1].severity >= Severity.WARNING
        assert RobustDetector(mute=["amount"]).backtest(bad)[-1].severity < Severity.WARNING
        other = RobustDetector(mute=["amount.p50"]).backtest(bad)[-1]
        assert other.severity >= Severity.WARNING and all(
            (e.column, e.statistic) != ("amount", "p50") for e in other.columns)

    def test_bad_mute_is_a_config_error(self):
        with pytest.raises(ConfigError, match="mute"):
            RobustDetector(mute="amount").fit(make_history())


def test_levels_follow_the_budget():
    """Warning is the budget's surprise; critical 8 times rarer (twice as far beyond the
    anchor); info ten times more frequent."""
    info, warning, critical = thresholds("1 per 64")
    assert (info, warning, critical) == pytest.approx((6 - np.log2(10), 6.0, 6 + 3.0))


class TestSparseTables:
    def test_partitions_now_and_then_are_judged(self):
        """A weekly table with a partition only every fourth week (survey weeks) is modelled
        on the partitions it has: they are judged, and a fault in the newest pages."""
        weekly = make_history(days=1400, start="2018-01-01")
        mondays = sorted(p for p in weekly["partition"].unique() if p.dayofweek == 0)
        sparse = weekly[weekly["partition"].isin(mondays[::4])]
        last = sparse["partition"].max()
        verdicts = RobustDetector(granularity="week").backtest(
            set_value(sparse, last, "amount", "null_fraction", 0.4))
        assert sum(v.judged for v in verdicts) >= len(verdicts) - 30
        assert verdicts[-1].judged and verdicts[-1].severity >= Severity.WARNING


class TestCountTests:
    """Fractions of small partitions: the rows behind the window's history count."""

    def _never_null(self, nulls: int) -> tuple[pd.DataFrame, pd.Timestamp]:
        rng = np.random.default_rng(3)
        parts = pd.date_range("2024-01-01", periods=160, freq="D")
        rows = []
        for p in parts:
            rows += [(p, "*", "row_count", 7.0), (p, "t", "null_fraction", 0.0),
                     (p, "t", "non_null_count", 7.0), (p, "t", "mean", 60 + rng.normal(0, 8))]
        frame = pd.DataFrame(rows, columns=["partition", "column", "statistic", "value"])
        day = parts[-5]
        frame = set_value(frame, day, "t", "null_fraction", nulls / 7)
        return set_value(frame, day, "t", "non_null_count", 7.0 - nulls), day

    def _verdict(self, nulls: int):
        history, day = self._never_null(nulls)
        return [v for v in RobustDetector().backtest(history) if v.partition == day][0]

    def test_three_nulls_in_seven_rows_of_a_never_null_column_are_critical(self):
        """Under the sampling floor of one row in seven (the old floor) 3 NULLs scored as
        noise; against the ~200 NULL-free rows of the window they are a fault."""
        verdict = self._verdict(3)
        assert verdict.severity == Severity.CRITICAL
        assert (verdict.columns[0].column, verdict.columns[0].statistic) == ("t", "null_fraction")

    def test_surprise_grows_with_the_count(self):
        scores = [self._verdict(k).score for k in (1, 2, 3)]
        assert scores == sorted(scores) and scores[2] - scores[0] > 3.0
        assert self._verdict(1).severity < Severity.CRITICAL


def test_bands_of_spreads_never_go_negative():
    """A std's band is clipped at 0, as fractions' are at 0 and 1."""
    history = make_history(days=120)
    day = pd.Timestamp(sorted(history["partition"].unique())[-3])
    history = set_value(history, day, "amount", "std", 60.0)
    verdict = [v for v in RobustDetector().backtest(history) if v.partition == day][0]
    spread = [e for e in verdict.columns if e.statistic == "std"]
    assert spread and spread[0].expected_low >= 0.0 and spread[0].observed == 60.0


class TestSmallPartitionExtremes:
    """The min of a few rows is judged as the outermost of that many draws."""

    def _verdict(self, low: float, high: float):
        """Ratings of films by id, 150-300 rows a day and now and then 12; the judged day
        has 12 rows whose ids lie in [low, high], one of them at ``low``."""
        rng = np.random.default_rng(8)
        parts = pd.date_range("2024-01-01", periods=150, freq="D")
        rows = []
        for i, p in enumerate(parts):
            judged = i == len(parts) - 3
            n = 12 if judged else int(rng.choice([12, 150, 200, 250, 300],
                                                 p=[.01, .24, .25, .25, .25]))
            ids = rng.uniform(0, 90_000, n)
            if judged:
                ids = np.append(rng.uniform(low, high, n - 1), low)
            q = np.quantile(ids, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
            stats = dict(zip(("p01", "p05", "p25", "p50", "p75", "p95", "p99"), q),
                         min=ids.min(), max=ids.max(), mean=ids.mean(), std=ids.std())
            rows += [(p, "*", "row_count", float(n)), (p, "movie_id", "non_null_count", float(n))]
            rows += [(p, "movie_id", s, float(v)) for s, v in stats.items()]
        frame = pd.DataFrame(rows, columns=["partition", "column", "statistic", "value"])
        detector = RobustDetector(mute=["*.row_count"])  # a volume SLO watches the rows
        return [v for v in detector.backtest(frame) if v.partition == parts[-3]][0]

    def test_a_high_min_of_twelve_rows_is_sampling(self):
        """12 draws from ids spread over 0-90,000: a min of 9,000 happens a third of the
        time, whatever the band of 150-300-row partitions (a min below 700) says."""
        assert self._verdict(9_000.0, 90_000.0).severity < Severity.WARNING

    def test_ids_beyond_any_row_of_the_window_still_page(self):
        """Every id above any the window held (a unit or key change): no sampling explains
        it, however few the rows."""
        verdict = self._verdict(95_000.0, 99_000.0)
        assert verdict.severity >= Severity.WARNING
        assert verdict.columns[0].column == "movie_id"


def _jump(history: pd.DataFrame, days, column: str, statistic: str, by: float) -> pd.DataFrame:
    out = history.copy()
    hit = out["partition"].isin(days) & (out["column"] == column) & \
        (out["statistic"] == statistic)
    out.loc[hit, "value"] += by
    return out


class TestFamiliarDeviations:
    """The calibration set of a series: past deviations in the statistic's own unit, the
    same way; two at least as far make a deviation familiar, unless they were paged."""

    def setup_method(self):
        self.history = heavy_history(days=160, columns=6, seed=4)
        self.parts = sorted(self.history["partition"].unique())
        self.last = self.parts[-1]

    def _verdict(self, history):
        # Shifts paged: a quantile moving alone is otherwise a shift of shape (info).
        return RobustDetector(page_shifts=True).backtest(history)[-1]

    def test_a_jump_the_series_often_makes_is_familiar(self):
        """p75 of c1 jumps by +12 every 19th day (a batch of late rows; no fixed weekday):
        the same jump on the newest day is not paged, while it pages on a series that
        never jumped."""
        weekly = [p for i, p in enumerate(self.parts) if i % 19 == 3 and p != self.last]
        assert self.last not in weekly
        fresh = _jump(self.history, [self.last], "c1", "p75", 12.0)
        assert self._verdict(fresh).severity >= Severity.WARNING
        recurring = _jump(fresh, weekly, "c1", "p75", 12.0)
        assert self._verdict(recurring).severity < Severity.WARNING

    def test_familiar_only_the_same_way(self):
        """The recurring jumps are upwards: a smaller jump downwards still pages."""
        weekly = [p for i, p in enumerate(self.parts) if i % 10 == 3 and p != self.last]
        down = _jump(_jump(self.history, weekly, "c1", "p75", 20.0), [self.last], "c1", "p75",
                     -15.0)
        verdict = self._verdict(down)
        assert verdict.severity >= Severity.WARNING
        assert verdict.columns[0].column == "c1"

    def test_a_fault_paged_critical_does_not_make_itself_familiar(self):
        """The same unit change three times in a month: each is paged critical, because the
        earlier ones were paged and so calibrate nothing after them."""
        days = [self.parts[-25], self.parts[-12], self.last]
        broken = _jump(self.history, days, "c2", "mean", 120.0)
        verdicts = {v.partition: v for v in RobustDetector().backtest(broken)}
        assert all(verdicts[d].severity == Severity.CRITICAL for d in days)
        fitted = RobustDetector().fit(broken[broken["partition"] < self.last])
        assert fitted.judge(broken[broken["partition"] == self.last])[0].severity == \
            Severity.CRITICAL


class TestVolumeShare:
    """The row count gets a quarter of the budget (weighted Bonferroni): rows lost are the
    commonest fault, and one series among 80 would otherwise get 1/80 of it."""

    def setup_method(self):
        self.history = heavy_history(days=200, columns=12, seed=7)
        self.last = self.history["partition"].max()

    def test_rows_lost_page_with_the_volume_share_only(self):
        lost = _jump(self.history, [self.last], "*", "row_count", -200.0)
        plain = RobustDetector(volume_share=0).backtest(lost)[-1]
        shared = RobustDetector().backtest(lost)[-1]
        assert plain.severity < Severity.WARNING <= shared.severity
        top = shared.columns[0]
        assert (top.column, top.statistic) == ("*", "row_count")
        assert not top.expected_low <= top.observed <= top.expected_high  # left its band

    def test_a_drop_inside_the_band_does_not_warn(self):
        """The band in an explanation is where the score stays below warning."""
        lost = _jump(self.history, [self.last], "*", "row_count", -150.0)
        verdict = RobustDetector().backtest(lost)[-1]
        row = [e for e in verdict.columns if e.statistic == "row_count"][0]
        assert row.expected_low <= row.observed and verdict.severity < Severity.WARNING

    @pytest.mark.parametrize("share", [1.0, -0.1, "a quarter", True])
    def test_a_bad_share_is_a_config_error(self, share):
        with pytest.raises(ConfigError, match="volume_share"):
            RobustDetector(volume_share=share).backtest(self.history)

    def test_paged_deviations_leave_the_calibration_set(self):
        """Unit level: a series that leapt to 8 noise units twice; a third leap is familiar
        (the share of the window that went as far) unless the earlier two were paged."""
        from watchkeeper.detect._calibration import tail_probabilities

        rng = np.random.default_rng(0)
        z = rng.uniform(0.0, 2.0, (100, 3))
        z[[60, 75, 90], 0] = 8.0
        args = (z, np.zeros_like(z, dtype=bool), np.ones(100, dtype=bool), np.arange(20, 100),
                56, 14)
        kept = tail_probabilities(*args, scale=np.ones_like(z), side=np.ones_like(z))[0]
        paged = tail_probabilities(*args, scale=np.ones_like(z), side=np.ones_like(z),
                                   paged=0.5)[0]
        assert kept[90 - 20, 0] == pytest.approx(3 / 57)   # two of 56 went as far
        assert paged[60 - 20, 0] < 0.5 / 3                  # the first leap was paged...
        assert paged[90 - 20, 0] < kept[90 - 20, 0] / 10    # ...so the third is a surprise
