"""Guarded reads: invalid partitions raise, warn, or are let through explicitly."""

from __future__ import annotations

import warnings

import pytest

from watchkeeper.errors import ConfigError, UserError
from watchkeeper.managed import InvalidPartitionError, InvalidPartitionWarning, managed_table

from .data import batch, write_project


@pytest.fixture
def mixed(orders):
    """2024-03-01 clean, 2024-03-02 with a failed critical check."""
    orders.ingest(batch("2024-03-01"), partition="2024-03-01")
    orders.ingest(batch("2024-03-02", bad_price=1), partition="2024-03-02")
    return orders


class TestGuardedRead:
    """``read`` and ``snapshot`` refuse partitions whose ingest failed a critical check."""

    def test_raises_naming_partitions_and_checks(self, mixed):
        """The error is a UserError naming the partition and the failed check."""
        with pytest.raises(InvalidPartitionError, match=r"2024-03-02 \(price_positive\)") as e:
            mixed.read()
        assert isinstance(e.value, UserError)
        assert e.value.partitions == {"2024-03-02": ("price_positive",)}

    def test_valid_partitions_read_without_error(self, mixed):
        """Reading only the clean partition needs no flag."""
        assert mixed.read(partitions="2024-03-01").num_rows == 20

    def test_exclude_and_allow(self, mixed):
        """exclude_invalid skips the bad partition; allow_invalid reads it."""
        assert mixed.read(exclude_invalid=True).num_rows == 20
        assert mixed.read(allow_invalid=True).num_rows == 39
        with pytest.raises(ConfigError, match="not both"):
            mixed.read(allow_invalid=True, exclude_invalid=True)

    def test_warn_by_parameter_and_by_config(self, mixed, project):
        """on_invalid='warn' (or on_invalid: warn in YAML) warns and returns every row."""
        with pytest.warns(InvalidPartitionWarning, match="2024-03-02"):
            assert mixed.read(on_invalid="warn").num_rows == 39
        write_project(project, managed={"on_invalid": "warn"})
        with pytest.warns(InvalidPartitionWarning):
            assert managed_table("orders", project).read().num_rows == 39

    def test_snapshot_is_guarded(self, mixed):
        """A snapshot of an invalid partition is refused unless excluded."""
        with pytest.raises(InvalidPartitionError):
            mixed.snapshot()
        snap = mixed.snapshot(exclude_invalid=True)
        assert [p for p, _ in snap.partitions] == ["2024-03-01"]

    def test_for_keeps_the_ingest_verdicts(self, mixed):
        """for_= refuses what the default refuses (the gate adds reasons: see
        test_read_gated.py); an unknown purpose is an error."""
        with pytest.raises(InvalidPartitionError):
            mixed.read(for_="train")
        with warnings.catch_warnings():
            warnings.simplefilter("error", InvalidPartitionWarning)
            assert mixed.read(for_="serve", exclude_invalid=True).num_rows == 20
        with pytest.raises(ConfigError, match="for_"):
            mixed.read(for_="fun")

    def test_reingest_makes_it_valid(self, mixed):
        """A clean re-ingest of the bad partition makes the table readable again."""
        mixed.ingest(batch("2024-03-02"), partition="2024-03-02")
        assert mixed.read().num_rows == 40
        with pytest.raises(InvalidPartitionError):
            mixed.read(version=1)  # time travel keeps the old verdict

    def test_unknown_partition(self, mixed):
        """Asking for a partition the version does not hold names the newest ones."""
        with pytest.raises(ConfigError, match="no partition 2024-04-01"):
            mixed.read(partitions=["2024-04-01"])
