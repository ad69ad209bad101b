"""``read(..., for_="train"|"serve")`` asks the gate about each partition it would return."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml

from watchkeeper.errors import ConfigError
from watchkeeper.managed import InvalidPartitionError, InvalidPartitionWarning, managed_table
from watchkeeper.slo import SLOSpec

DAYS = 30  # the detector wants about four weeks of history
CHECKS = [{"name": "items_positive", "kind": "between", "column": "items", "min": 1,
           "severity": "critical"}]


def _config(triggers: dict | None = None) -> dict:
    config = {"version": 1, "store": ".watchkeeper/store.duckdb", "tables": {},
              "managed": {"orders": {"partition_column": "order_date"}},
              "slos": {"tables": {"orders": {"checks": CHECKS}}}}
    if triggers:
        config["triggers"] = triggers
    return config


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """30 days of synthetic orders (~80 rows a day) ingested one by one, once (~10 s), with
    two faults:

    - day 10: a tenth of the rows have items = -1, so its ingest fails the critical check
      (invalid without any gate);
    - day 29 (the last): ``watchkeeper.datasets.faults`` "nulls" on amount. Its ingest is
      clean: only the gate's detector sees it.
    """
    from watchkeeper.datasets import synthetic
    from watchkeeper.datasets.faults import inject

    root = tmp_path_factory.mktemp("gated")
    (root / "watchkeeper.yaml").write_text(yaml.safe_dump(_config(), sort_keys=False))
    frame = synthetic(seed=1, days=DAYS, rows_per_day=80).frame
    days = sorted(frame["order_date"].unique())
    table = managed_table("orders", root)
    rng = np.random.default_rng(0)
    for i, day in enumerate(days):
        part = frame[frame["order_date"] == day].reset_index(drop=True)
        if i == 10:
            part["items"] = part["items"].where(part.index % 10 != 0, -1)
        if i == DAYS - 1:
            part, _ = inject(part, "nulls", rng, column="amount")
        table.ingest(part, partition=day)
    return root, [pd.Timestamp(d).date().isoformat() for d in days]


@pytest.fixture
def orders(ingested, tmp_path, monkeypatch):
    """A private copy of the ingested project (the tests write to its store)."""
    source, days = ingested
    root = tmp_path / "project"
    shutil.copytree(source, root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    table = managed_table("orders", root)
    table.days = days
    return table


def _keys(rows) -> set[str]:
    return {pd.Timestamp(d).date().isoformat() for d in rows.column("order_date").to_pylist()}


class TestGatedRead:
    """The gate's reasons make a partition invalid for a read ``for_`` train or serve."""

    def test_refuses_the_injected_fault_that_the_ingest_let_through(self, orders):
        """The fault day reads fine without for_, but for_='train' refuses it, naming the
        gate's incident; the ingest-failed day keeps its own reason, once."""
        last, bad = orders.days[-1], orders.days[10]
        assert orders.read(partitions=[last]).num_rows > 0
        with pytest.raises(InvalidPartitionError, match=f"{last} .*may not be used for train"
                           ) as caught:
            orders.read(partitions=[bad, *orders.days[-3:]], for_="train")
        assert set(caught.value.partitions) == {bad, last}
        assert caught.value.partitions[bad] == ("items_positive",)
        [reason] = caught.value.partitions[last]
        assert reason.startswith("incident #") and "amount null_fraction" in reason

    def test_allows_clean_partitions(self, orders):
        """Clean days pass the gate and return the same rows as an ungated read."""
        clean = orders.days[12:20]
        gated = orders.read(partitions=clean, for_="train")
        assert gated.num_rows == orders.read(partitions=clean).num_rows
        assert _keys(gated) == set(clean)

    def test_exclude_invalid_drops_and_warn_returns_everything(self, orders):
        """exclude_invalid drops both invalid days (reads and snapshots); on_invalid='warn'
        warns and returns every row."""
        kept = orders.read(for_="train", exclude_invalid=True)
        assert _keys(kept) == set(orders.days) - {orders.days[10], orders.days[-1]}
        recent = orders.days[-4:]
        snap = orders.snapshot(partitions=recent, for_="serve", exclude_invalid=True)
        assert [p for p, _ in snap.partitions] == recent[:-1]
        with pytest.warns(InvalidPartitionWarning, match=orders.days[-1]):
            everything = orders.read(since=recent[0], for_="serve", on_invalid="warn")
        assert _keys(everything) == set(recent)

    def test_allow_invalid_skips_the_gate(self, orders):
        """allow_invalid=True reads every partition without profiling or checking them."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rows = orders.read(for_="train", allow_invalid=True)
        assert _keys(rows) == set(orders.days)
        assert orders.store.table("orders") is None  # the gate never profiled the table

    def test_a_train_before_block_trigger_blocks_training_only(self, orders):
        """A block action on train.before refuses a clean day for train; serve reads it."""
        config = _config({"no-training": {"event": "train.before", "table": "orders",
                                          "actions": [{"block": {"reason": "frozen"}}]}})
        (orders.root / "watchkeeper.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        table = managed_table("orders", orders.root)
        day = orders.days[15]
        with pytest.raises(InvalidPartitionError, match="no-training: frozen") as caught:
            table.read(partitions=[day], for_="train")
        assert list(caught.value.partitions) == [day]
        assert table.read(partitions=[day], for_="serve").num_rows == \
            table.read(partitions=[day]).num_rows

    def test_a_check_added_after_the_ingest_is_judged_on_the_stored_rows(self, orders):
        """A critical check declared later (here: amount not null) blocks the days whose
        stored rows fail it, and only those."""
        later = SLOSpec.from_dict({"tables": {"orders": {"checks": [
            *CHECKS, {"name": "amount_present", "kind": "not_null", "column": "amount",
                      "severity": "critical"}]}}}).tables["orders"]
        table = managed_table("orders", orders.root, slo=later)
        last = orders.days[-1]
        with pytest.raises(InvalidPartitionError) as caught:
            table.read(partitions=orders.days[15:], for_="serve")
        assert list(caught.value.partitions) == [last]
        assert any(r.startswith("SLO check amount_present failed")
                   for r in caught.value.partitions[last])

    def test_unknown_purpose(self, orders):
        """for_ other than train or serve is a ConfigError before any work."""
        with pytest.raises(ConfigError, match="for_='fun'"):
            orders.read(for_="fun")
        assert orders.store.table("orders") is None


class TestGatedReadCli:
    """``wk read --for train`` is the same gated read from the shell."""

    def test_cli_refuses_then_allows(self, orders, capsys):
        """The fault day is refused with exit 1; a clean day reads with exit 0."""
        from watchkeeper.cli import main

        with pytest.raises(SystemExit) as refused:
            main(["read", "orders", "--partition", orders.days[-1], "--for", "train"])
        assert refused.value.code == 1
        assert orders.days[-1] in capsys.readouterr().err
        main(["read", "orders", "--partition", orders.days[-2], "--for", "train",
              "--format", "json"])
        lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
        assert len(lines) > 10
