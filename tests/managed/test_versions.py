"""Versioned snapshots: every ingest is a Delta version; reads as of a version, a time or a
snapshot id; unchanged partitions are never rewritten."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from deltalake import DeltaTable

from watchkeeper.errors import ConfigError
from watchkeeper.managed import SnapshotId

from .data import batch, user_rows


def _files(orders, partition: str) -> set[str]:
    table = DeltaTable(str(orders.data_path))
    return {u for u in table.file_uris() if f"_wk_partition={partition}" in u}


class TestVersions:
    """Versions, time travel and snapshot ids of a managed table."""

    def test_each_ingest_is_a_version(self, orders):
        """Three ingests make versions 0, 1, 2; version 0 still reads the first batch."""
        first = batch("2024-03-01")
        orders.ingest(first, partition="2024-03-01")
        orders.ingest(batch("2024-03-02"), partition="2024-03-02")
        orders.ingest(batch("2024-03-01", n=25, seed=4), partition="2024-03-01")
        assert orders.versions()["version"].tolist() == [0, 1, 2]
        pd.testing.assert_frame_equal(user_rows(orders.read(version=0)), user_rows(first),
                                      check_dtype=False)
        assert orders.read(version=1).num_rows == 40 and orders.read().num_rows == 45

    def test_unchanged_partitions_are_not_copied(self, orders):
        """Ingesting one partition leaves every file of the others untouched."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        before = _files(orders, "2024-03-01")
        orders.ingest(batch("2024-03-02"), partition="2024-03-02")
        orders.ingest(batch("2024-03-02", seed=9), partition="2024-03-02")
        assert _files(orders, "2024-03-01") == before and len(before) == 1

    def test_as_of_a_time(self, orders):
        """as_of picks the newest version committed at or before that time."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        between = pd.Timestamp.utcnow()
        time.sleep(0.05)
        orders.ingest(batch("2024-03-02"), partition="2024-03-02")
        assert orders.read(as_of=between).num_rows == 20
        assert orders.read(as_of=pd.Timestamp.utcnow()).num_rows == 40
        with pytest.raises(ConfigError, match="had no version"):
            orders.read(as_of="2000-01-01")

    def test_unknown_version(self, orders):
        """A version that was never committed is a one-line error naming the good ones."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        with pytest.raises(ConfigError, match="not a committed version"):
            orders.read(version=7)

    def test_snapshot_reads_the_same_rows_later(self, orders):
        """A snapshot id resolves to the same rows after the partition is re-ingested."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        orders.ingest(batch("2024-03-02"), partition="2024-03-02")
        snap = orders.snapshot(since="2024-03-02")
        before = user_rows(orders.read(snapshot=snap))
        orders.ingest(batch("2024-03-02", n=7, seed=5), partition="2024-03-02")
        assert orders.read(partitions=["2024-03-02"]).num_rows == 7
        pd.testing.assert_frame_equal(user_rows(orders.read(snapshot=str(snap))), before)
        assert [p for p, _ in snap.partitions] == ["2024-03-02"] and snap.version == 1

    def test_snapshot_id_is_a_content_hash(self, orders):
        """The same partitions at the same version give the same id; another version does not."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        a, b = orders.snapshot(), orders.snapshot()
        assert a == b and str(a).startswith("snap-")
        orders.ingest(batch("2024-03-02"), partition="2024-03-02")
        assert orders.snapshot(partitions=["2024-03-01"]).id != a.id
        assert SnapshotId.of("orders", 0, a.partitions).id == a.id

    def test_unknown_snapshot(self, orders):
        """An id the store does not know is a one-line error."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        with pytest.raises(ConfigError, match="no snapshot"):
            orders.read(snapshot="snap-000")

    @pytest.mark.parametrize("fmt", ["arrow", "pandas", "polars", "ibis"])
    def test_formats(self, orders, fmt):
        """Every format holds the same rows."""
        frame = batch("2024-03-01")
        orders.ingest(frame, partition="2024-03-01")
        out = orders.read(format=fmt)
        if fmt == "ibis":
            out = out.to_pyarrow()
        if fmt == "polars":
            out = out.to_arrow()
        pd.testing.assert_frame_equal(user_rows(out), user_rows(frame), check_dtype=False)

    def test_new_columns_read_as_null_in_old_partitions(self, orders):
        """A batch with an extra column widens the table; older partitions read it as NULL."""
        orders.ingest(batch("2024-03-01"), partition="2024-03-01")
        orders.ingest(batch("2024-03-02").assign(note="x"), partition="2024-03-02")
        out = orders.read(format="pandas")
        assert out["note"].isna().sum() == 20 and (out["note"] == "x").sum() == 20
