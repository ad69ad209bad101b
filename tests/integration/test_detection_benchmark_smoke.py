"""The detection benchmark's pipeline at tiny size, on cases whose answer is known.

A method that alerts exactly on the faulty partitions scores precision = recall = 1; one
that alerts everywhere scores precision = the prevalence; the CLI writes the JSON it
prints. The full benchmark (``benchmarks/detection/run.py``) is not a test.
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "detection"))

import baselines  # noqa: E402
import protocol  # noqa: E402
import run  # noqa: E402

from watchkeeper.datasets import LOCKBOX_FAULTS  # noqa: E402
from watchkeeper.datasets.phenomena import small_partitions  # noqa: E402


def oracle(r):
    """Alerts exactly on the faulty partitions and blames the faulty columns."""
    return {p: protocol.Judgement(p in r.faults, r.faults[p].columns if p in r.faults else ())
            for p in r.table.judged}


def everywhere(r):
    return {p: protocol.Judgement(True, ("nothing",)) for p in r.table.judged}


def never(r):
    return {p: protocol.Judgement(False) for p in r.table.judged}


@pytest.fixture(scope="module")
def result():
    methods = {"oracle": oracle, "everywhere": everywhere, "never": never,
               "watchkeeper": protocol.METHODS["watchkeeper"], "avh": protocol.METHODS["avh"]}
    return run.run_table("small_partitions", [1, 2], methods, {},
                         dataset=small_partitions(seed=3, days=150))


def test_faults_at_ten_percent_of_judged_partitions(result):
    """Warm-up of 50 (a third of 150), 100 judged, 10 faulty per seed, types cycling."""
    assert result["partitions"] == 150 and result["judged"] == 100
    for seed in ("1", "2"):
        faults = result["seeds"][int(seed)]["faults"]
        assert len(faults) == 10
        assert len({f["fault"] for f in faults}) == 10  # round-robin: no type twice


def test_oracle_scores_one(result):
    """Alerting exactly on the faulty partitions: precision = recall = F1 = top-3 = 1."""
    m = result["pooled"]["oracle"]["metrics"]
    assert m["precision"] == m["recall"] == m["f1"] == m["top3"] == 1.0
    assert m["fa_per_30"] == 0.0
    locked = result["pooled"]["oracle"]["counts"]["lockbox_faults"]
    assert all(v[0] == v[1] == v[2] for v in locked.values())
    assert result["clean_run"]["oracle"]["rate"] == 0.0


def test_alerting_everywhere_scores_the_prevalence(result):
    """Precision = faulty / scored partitions (lockbox-fault partitions left out)."""
    counts = result["pooled"]["everywhere"]["counts"]
    main = counts["main"]
    locked = sum(v[1] for v in counts["lockbox_faults"].values())
    assert main["tp"] + main["fn"] + locked == 20 and main["clean"] == 180
    m = result["pooled"]["everywhere"]["metrics"]
    assert m["precision"] == pytest.approx(main["tp"] / (main["tp"] + 180))
    assert 0.05 < m["precision"] <= 0.1 and m["recall"] == 1.0 and m["fa_per_30"] == 30.0
    assert m["top3"] == 0.0  # it blames a column no fault hits
    assert result["clean_run"]["everywhere"]["rate"] == 1.0


def test_never_alerting(result):
    m = result["pooled"]["never"]["metrics"]
    assert m["recall"] == 0.0 and math.isnan(m["precision"]) and m["fa_per_30"] == 0.0


def test_faulty_partitions_are_reprofiled_into_the_series():
    """A replayed series holds the faulty partitions' new statistics, and only theirs."""
    table = protocol.prepare("small", small_partitions(seed=3, days=150))
    r = protocol.replay(table, seed=1, faults=("partial_load",))
    rows = {p: v for p, v in r.stats[r.stats["statistic"] == "row_count"]
            .set_index("partition")["value"].items()}
    clean = {p: v for p, v in table.stats[table.stats["statistic"] == "row_count"]
             .set_index("partition")["value"].items()}
    assert set(r.faults) and all(rows[p] < clean[p] for p in r.faults)
    assert all(rows[p] == clean[p] for p in clean if p not in r.faults)


def test_real_methods_judge_every_partition(result):
    """watchkeeper and AVH produce counts over all judged partitions of both seeds."""
    for m in ("watchkeeper", "avh"):
        main = result["pooled"][m]["counts"]["main"]
        locked = sum(v[1] for v in result["pooled"][m]["counts"]["lockbox_faults"].values())
        assert main["tp"] + main["fn"] + main["clean"] + locked == 200
    assert result["clean_run"]["avh"]["budget_rate"] == pytest.approx(1 / 90)


def test_budget_rates():
    """A budget reads as a rate per partition from a number or a phrase; none is None."""
    assert protocol.budget_rate("1 per 90") == pytest.approx(1 / 90)
    assert protocol.budget_rate("1 per 90 partitions") == pytest.approx(1 / 90)
    assert protocol.budget_rate("1/30") == pytest.approx(1 / 30)
    assert protocol.budget_rate(0.01) == 0.01 and protocol.budget_rate(None) is None


def test_cli_writes_json_with_medians(tmp_path, capsys):
    """One command: per-table results, worst and median per group, JSON on disk."""
    out = tmp_path / "r.json"
    run.main(["--tables", "small_partitions,bursts", "--seeds", "1",
              "--methods", "watchkeeper,coverage_drop,gate", "--no-speed",
              "--format", "json", "--out", str(out)])
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    f1s = [printed["tables"][t]["pooled"]["watchkeeper"]["metrics"]["f1"]
           for t in ("small_partitions", "bursts")]
    group = printed["summary"]["groups"]["design (synthetic)"]["watchkeeper"]
    assert group["median"]["f1"] == pytest.approx(statistics.median(f1s))
    assert group["worst"]["f1"] == pytest.approx(min(f1s))
    if not protocol.GATE_PYTHON.exists():
        assert "venv missing" in printed["notes"]["gate"]
    assert set(printed["by_fault"]["design (synthetic)"]["watchkeeper"]) - set(LOCKBOX_FAULTS)


class TestAVH:
    """The AVH baseline: distribution-free bands under a budget, differencing trends."""

    @staticmethod
    def history(values: dict, days: int) -> "pd.DataFrame":
        import pandas as pd

        parts = pd.date_range("2024-01-01", periods=days, freq="D")
        return pd.concat([pd.DataFrame({"partition": parts, "column": column,
                                        "statistic": stat, "value": v})
                          for (column, stat), v in values.items()], ignore_index=True)

    def test_quiet_on_noise_and_trend_alerts_on_a_break(self):
        """Gaussian noise and a steady trend raise no alert; a x0.5 break does, blamed."""
        import numpy as np

        rng = np.random.default_rng(0)
        days = 200
        mean = 100 + rng.normal(0, 1, days)
        rows = 1000 + 5 * np.arange(days) + rng.normal(0, 3, days)  # a trend: differenced
        mean[150] *= 0.5
        out = baselines.AVH().backtest(self.history(
            {("price", "mean"): mean, ("*", "row_count"): rows}, days))
        alerts = {i for i, (_, alert, _) in enumerate(out, start=14) if alert}
        assert alerts == {150}
        assert out[150 - 14][2] == ["price"]

    def test_realized_rate_within_budget_on_clean_noise(self):
        """On 20 columns of heavy-tailed noise the realized rate stays within the budget."""
        import numpy as np

        rng = np.random.default_rng(1)
        days = 400
        values = {(f"c{i}", "mean"): rng.standard_t(3, days) for i in range(20)}
        out = baselines.AVH().backtest(self.history(values, days))
        rate = sum(a for _, a, _ in out) / len(out)
        assert rate <= 1 / 90
