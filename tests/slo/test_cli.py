"""wk validate, wk slo status and wk suggest on a small project (DuckDB, Parquet)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from watchkeeper.cli import main
from watchkeeper.slo.attainment import attainment
from watchkeeper.slo.suggest import suggest
from watchkeeper.store import Store

DAYS = pd.date_range("2024-03-01", periods=12, freq="D")


def _orders(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for i, day in enumerate(DAYS):
        n = 50 + i
        price = rng.uniform(1, 20, n)
        if i >= 10:
            price = price + 25  # drift in the two newest partitions
        frames.append(pd.DataFrame({
            "day": day, "id": np.arange(i * 1000, i * 1000 + n),
            "price": price, "size": rng.choice(["S", "M", "L"], n),
            "qty": rng.integers(1, 6, n),
        }))
    out = pd.concat(frames, ignore_index=True)
    out.loc[out.index[-1], "price"] = -5.0  # one bad row in the newest partition
    return out


SLOS = {"target": 0.9, "tables": {"orders": {"key": ["id"], "checks": [
    {"name": "price_positive", "kind": "between", "column": "price", "min": 0},
    {"name": "price_small", "kind": "between", "column": "price", "max": 30,
     "severity": "warning"},
    {"kind": "not_null", "column": "id"},
    {"kind": "in_set", "column": "size", "values": ["S", "M", "L"]},
]}}}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    _orders().to_parquet(tmp_path / "orders.parquet")
    assert _run(["init", "."])[0] == 0
    assert _run(["table", "add", "orders", "--source", "orders.parquet",
                 "--partition-column", "day"])[0] == 0
    config = yaml.safe_load((tmp_path / "watchkeeper.yaml").read_text())
    config["slos"] = SLOS
    (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def _run(argv, capsys=None) -> tuple[int, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr().out if capsys else ""
    return code, out


class TestValidateCommand:
    def test_critical_failure_exits_1(self, project, capsys):
        """The newest partition has a negative price: a critical failure, exit code 1."""
        code, out = _run(["validate", "orders", "--format", "json"], capsys)
        records = [json.loads(line) for line in out.splitlines()]
        assert code == 1
        assert {r["partition"] for r in records} == {"2024-03-12"}
        bad = next(r for r in records if r["check"] == "price_positive")
        assert bad["passed"] is False and bad["unexpected_count"] == 1
        assert bad["sample"][0]["values"]["price"].startswith("-5")

    def test_only_warnings_exit_0(self, project, capsys):
        """An older partition breaks only the warning check: exit code 0."""
        code, out = _run(["validate", "orders", "--partition", "2024-03-11"], capsys)
        assert code == 0 and "1 warning verdict(s) failed" in out

    @pytest.mark.parametrize("argv", [
        ["validate", "nope"],
        ["validate", "orders", "--partition", "yesterday-ish"],
    ])
    def test_bad_input_exits_2(self, project, argv):
        """Unknown tables and unreadable partitions are user errors: exit code 2."""
        assert _run(argv)[0] == 2

    def test_type_error_in_spec_exits_2(self, project, tmp_path):
        """A string column compared with numeric bounds is refused before any scan."""
        (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"tables": {"orders": {"checks": [
            {"kind": "between", "column": "size", "min": 1}]}}}))
        assert _run(["validate", "orders", "--checks", "bad.yaml"])[0] == 2


class TestStatusCommand:
    def test_attainment_and_budget(self, project, capsys):
        """After validating every partition, status reports attainment per window."""
        assert _run(["validate", "orders", "--all"])[0] == 1
        capsys.readouterr()
        code, out = _run(["slo", "status", "orders", "--format", "json"], capsys)
        rows = {r["check"]: r for r in map(json.loads, out.splitlines())}
        assert code == 0
        assert rows["price_positive"]["attainment_7"] == pytest.approx(6 / 7)
        assert rows["price_positive"]["attainment_30"] == pytest.approx(11 / 12)
        assert rows["not_null_id"]["attainment_90"] == 1.0
        assert rows["price_positive"]["target"] == 0.9

    def test_no_results_is_a_user_error(self, project):
        """Status before any validation tells the user to run wk validate."""
        assert _run(["slo", "status", "orders"])[0] == 2


class TestAttainment:
    def test_budget(self):
        """One failure in 30 partitions against 99% overspends the 0.3-partition budget."""
        results = pd.DataFrame({"table": "t", "check": "c", "severity": "critical",
                                "kind": "not_null",
                                "partition": pd.date_range("2024-01-01", periods=30),
                                "passed": [True] * 29 + [False]})
        row = attainment(results, 0.99).iloc[0]
        assert row["attainment_30"] == pytest.approx(29 / 30)
        assert row["budget_left_30"] == pytest.approx(1 - 1 / 0.3)
        assert row["attainment_7"] == pytest.approx(6 / 7) and not row["latest_passed"]


class TestSuggest:
    def test_learns_and_drops_what_held_out_partitions_break(self, project, capsys):
        """Suggestions come from history; the drifted price range is dropped, the rest kept."""
        assert _run(["profile", "orders"])[0] == 0
        capsys.readouterr()
        code, out = _run(["suggest", "orders"], capsys)
        assert code == 0
        spec = yaml.safe_load(out)["slos"]["tables"]["orders"]["checks"]
        kinds = {(c["kind"], c.get("column")) for c in spec}
        assert ("not_null", "id") in kinds and ("row_count", None) in kinds
        assert ("between", "qty") in kinds and ("between", "price") not in kinds
        size = next(c for c in spec if c["kind"] == "in_set")
        assert size["column"] == "size" and size["values"] == ["L", "M", "S"]
        assert "# dropped between_price" in out

    def test_needs_enough_history(self, project):
        """Too few profiled partitions for learning plus hold-out is a user error."""
        assert _run(["profile", "orders"])[0] == 0
        store = Store.open(project / ".watchkeeper" / "store.duckdb")
        with pytest.raises(Exception, match="suggestions need at least"):
            suggest(store, "orders", holdout=11)
