"""Hints point the right way: the name a path was profiled under, a glob for a folder."""

from __future__ import annotations

import pytest

import watchkeeper as wk
from watchkeeper.errors import SourceError, UnknownTableError

from cli_helpers import run, write_orders


class TestHints:
    def test_unprofiled_name_points_at_the_name_a_path_got(self, tmp_path, monkeypatch, capsys):
        """After profiling events.parquet without a name, asking for ``events`` names the
        name it was stored under, and never says to run wk profile events."""
        write_orders(tmp_path, monkeypatch)
        (tmp_path / "orders.parquet").rename(tmp_path / "events.parquet")
        assert run(["init", "."], capsys)[0] == 0
        code, _, _ = run(["profile", "events.parquet", "--partition-column", "order_date"],
                         capsys)
        assert code == 0
        code, _, err = run(["summary", "events", "--column", "amount"], capsys)
        assert code == 2
        assert "events.parquet" in err and "run `wk profile events` first" not in err
        assert "name='events'" in err

    @pytest.mark.parametrize("given", ["folder", "folder/"])
    def test_a_folder_gets_a_glob(self, tmp_path, monkeypatch, capsys, given):
        """A folder of Parquet files: the CLI and the API say which glob reads them."""
        write_orders(tmp_path, monkeypatch)
        (tmp_path / "folder").mkdir()
        (tmp_path / "orders.parquet").rename(tmp_path / "folder" / "part-0.parquet")
        code, _, err = run(["profile", given, "--partition-column", "order_date"], capsys)
        assert code == 2 and "'folder/*.parquet'" in err
        with pytest.raises(SourceError, match=r"folder/\*\.parquet"):
            wk.profile(given, partition_column="order_date")
        with pytest.raises((SourceError, UnknownTableError), match=r"folder/\*\.parquet"):
            wk.gate(given, "2024-01-01", partition_column="order_date")
