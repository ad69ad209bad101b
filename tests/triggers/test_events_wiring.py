"""``partition.profiled`` and ``slo.failed`` reach the project's triggers from every layer that
stores those results (wk profile, wk validate, the gate, managed ingest), at no cost when
no trigger listens."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
import yaml

import watchkeeper as wk
from watchkeeper.cli import main
from watchkeeper.config import Project
from watchkeeper.triggers import announce_profiled, dispatch, fire_many, profiled_events

RECORDER = '''
import json, os

def record(event):
    with open(os.environ["WK_TEST_EVENTS"], "a") as handle:
        handle.write(json.dumps(event.to_dict(), default=str) + "\\n")
    return "recorded"
'''

CHECKS = [
    {"name": "items_positive", "kind": "between", "column": "items", "min": 1,
     "severity": "critical"},
    {"name": "rating_at_most_5", "kind": "between", "column": "rating", "max": 5,
     "severity": "warning"},
]


def _frame(days: int = 6, rows: int = 10) -> pd.DataFrame:
    """``days`` days of ``rows`` orders; day 3 has 2 items of -1 and one rating of 6."""
    rng = np.random.default_rng(4)
    start = pd.Timestamp("2024-03-01")
    frame = pd.DataFrame({
        "day": np.repeat([start + pd.Timedelta(days=i) for i in range(days)], rows),
        "items": rng.integers(1, 5, days * rows),
        "rating": rng.integers(1, 6, days * rows).astype(float),
    })
    third = frame.index[frame["day"] == start + pd.Timedelta(days=3)]
    frame.loc[third[:2], "items"] = -1
    frame.loc[third[5], "rating"] = 6.0
    return frame


@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """A project folder (the working directory) whose triggers record events to a file.

    ``recorded.write(triggers, managed=None)`` writes watchkeeper.yaml with the orders table,
    its checks and those triggers; ``recorded.events()`` reads what was fired.
    """
    (tmp_path / "wk_recorder.py").write_text(RECORDER)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("WK_TEST_EVENTS", str(tmp_path / "events.jsonl"))
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    _frame().to_parquet(tmp_path / "orders.parquet", index=False)

    class Recorded:
        root = tmp_path

        def write(self, events: list[str], managed: dict | None = None) -> Project:
            triggers = {f"record-{e}": {"event": e, "actions": [
                {"python": {"function": "wk_recorder:record"}}]} for e in events}
            config = {"version": 1, "store": ".watchkeeper/store.duckdb",
                      "tables": {"orders": {"source": "orders.parquet",
                                            "partition_column": "day"}},
                      "slos": {"tables": {"orders": {"checks": CHECKS}}},
                      "triggers": triggers}
            if managed:
                config["managed"] = managed
            (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
            return Project.load(tmp_path / "watchkeeper.yaml")

        def events(self, kind: str | None = None) -> list[dict]:
            path = tmp_path / "events.jsonl"
            found = [json.loads(line) for line in path.read_text().splitlines()] \
                if path.exists() else []
            return [e for e in found if kind is None or e["type"] == kind]

    return Recorded()


def _wk(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


class TestPartitionProfiled:
    """One ``partition.profiled`` per partition a profile run computed."""

    def test_wk_profile_fires_per_partition_with_row_count_and_fingerprint(self, recorded):
        """wk profile fires six events, each with the partition's row count and the
        fingerprint the store keeps; a re-run that refreshes nothing fires nothing."""
        project = recorded.write(["partition.profiled"])
        assert _wk("profile", "orders", "--format", "json") == 0
        events = recorded.events("partition.profiled")
        state = project.store().partition_state("orders")
        assert sorted(e["partition"] for e in events) == [
            f"2024-03-0{i}" for i in range(1, 7)]
        assert {e["table"] for e in events} == {"orders"}
        assert all(e["context"]["row_count"] == 10 for e in events)
        assert {e["context"]["fingerprint"] for e in events} == set(state["fingerprint"])
        assert _wk("profile", "orders", "--format", "json") == 0
        assert len(recorded.events("partition.profiled")) == 6

    def test_late_rows_fire_only_their_partition(self, recorded):
        """After rows arrive late in one day, only that day is profiled and announced."""
        recorded.write(["partition.profiled"])
        assert _wk("profile", "orders", "--format", "json") == 0
        frame = _frame()
        extra = frame[frame["day"] == pd.Timestamp("2024-03-02")].head(3)
        pd.concat([frame, extra]).to_parquet(recorded.root / "orders.parquet", index=False)
        assert _wk("profile", "orders", "--format", "json") == 0
        late = recorded.events("partition.profiled")[6:]
        assert [(e["partition"], e["context"]["row_count"]) for e in late] == [
            ("2024-03-02", 13)]

    def test_the_gate_announces_what_it_profiles(self, recorded):
        """The gate's profile step fires the same events as wk profile."""
        project = recorded.write(["partition.profiled"])
        wk.gate("orders", "2024-03-02", project=project)
        assert len(recorded.events("partition.profiled")) == 6


class TestSloFailed:
    """One ``slo.failed`` per failed check and partition, wherever results are stored."""

    def _expected(self, events: list[dict]) -> None:
        by_check = {e["context"]["check"]: e for e in events}
        assert sorted(by_check) == ["items_positive", "rating_at_most_5"]
        items, rating = by_check["items_positive"], by_check["rating_at_most_5"]
        assert (items["table"], items["partition"], items["severity"], items["column"]) == (
            "orders", "2024-03-04", "critical", "items")
        assert items["context"]["unexpected_fraction"] == pytest.approx(0.2)
        assert items["context"]["unexpected_count"] == 2
        assert (rating["severity"], rating["column"]) == ("warning", "rating")
        assert rating["context"]["unexpected_fraction"] == pytest.approx(0.1)
        assert all(e["context"]["error"] is None for e in events)

    def test_wk_validate_fires_per_failure(self, recorded):
        """wk validate --all fires the two failures of day 3, with severity, column and
        context; the passing checks of the other days fire nothing."""
        recorded.write(["slo.failed"])
        assert _wk("validate", "orders", "--all", "--format", "json") == 1
        self._expected(recorded.events("slo.failed"))

    def test_the_gate_fires_and_a_block_answer_blocks(self, recorded):
        """The gate's SLO step fires slo.failed; a block action on it blocks the partition."""
        project = recorded.write(["slo.failed"])
        project.extra["triggers"]["no-warnings"] = {
            "event": "slo.failed", "severity": "warning", "table": "orders",
            "actions": [{"block": {"reason": "a check failed"}}]}
        project.save()
        decision = wk.gate("orders", "2024-03-04", for_="serve", project=project)
        self._expected(recorded.events("slo.failed"))
        triggered = [r for r in decision.reasons if r.kind == "trigger"]
        assert {r.trigger for r in triggered} == {"no-warnings"}
        assert len(triggered) == 2  # one per failed check
        assert wk.gate("orders", "2024-03-03", for_="serve", project=project).allowed

    def test_managed_ingest_fires_per_failure(self, recorded):
        """A managed ingest fires slo.failed for each check its batch failed."""
        from watchkeeper.managed import managed_table

        project = recorded.write(["slo.failed", "ingest.quarantined"],
                                 managed={"orders": {"partition_column": "day"}})
        frame = _frame()
        table = managed_table("orders", project)
        table.ingest(frame[frame["day"] == pd.Timestamp("2024-03-02")], partition="2024-03-02")
        assert recorded.events() == []
        table.ingest(frame[frame["day"] == pd.Timestamp("2024-03-04")], partition="2024-03-04")
        self._expected(recorded.events("slo.failed"))
        assert len(recorded.events("ingest.quarantined")) == 1


class TestFiringCost:
    """Announcing hundreds of partitions costs nothing when no trigger listens."""

    @pytest.fixture
    def year(self):
        """A ProfileResult-like value: 365 computed partitions."""
        from watchkeeper.engine import Granularity
        from watchkeeper.summaries import ProfileResult

        days = list(pd.date_range("2023-01-01", periods=365, freq="D"))
        stats = pd.DataFrame({"partition": days, "column": "*", "statistic": "row_count",
                              "value": 100.0})
        return ProfileResult("orders", Granularity.DAY, "fp", days, days, stats, pd.DataFrame())

    def test_no_matching_trigger_reads_the_file_once_and_never_opens_the_store(
            self, recorded, year, monkeypatch):
        """With triggers on other events only, 365 events read the project file once and
        never open the store (so never write it)."""
        project = recorded.write(["incident.opened", "slo.failed"])
        loads = []
        real = dispatch.load_triggers
        monkeypatch.setattr(dispatch, "load_triggers", lambda p: loads.append(p) or real(p))
        monkeypatch.setattr(Project, "store", lambda self: pytest.fail("store opened"))
        results = announce_profiled(year, project)
        assert len(results) == 365 and not any(r.matched for r in results)
        assert len(loads) == 1
        assert not (recorded.root / ".watchkeeper" / "store.duckdb").exists()

    def test_matching_events_share_one_store(self, recorded, year, monkeypatch):
        """When a trigger listens, the store is opened once for all the events."""
        project = recorded.write(["partition.profiled"])
        opened = []
        real = Project.store
        monkeypatch.setattr(Project, "store", lambda self: opened.append(1) or real(self))
        results = fire_many(profiled_events(year)[:5], project)
        assert [r.matched for r in results] == [("record-partition.profiled",)] * 5
        assert len(opened) == 1 and len(recorded.events()) == 5

    def test_no_triggers_is_fast(self, recorded, year):
        """Without triggers, announcing a year of partitions is cheap (about 3 ms measured;
        opening the store per event would take seconds)."""
        project = recorded.write([])
        announce_profiled(year, project)
        started = time.perf_counter()
        announce_profiled(year, project)
        assert time.perf_counter() - started < 0.2
