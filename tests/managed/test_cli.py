"""wk ingest, read, quarantine, snapshot and versions through the real CLI entry point."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from watchkeeper.cli import main

from .data import batch


def _run(argv, capsys) -> tuple[int, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def files(project):
    batch("2024-03-01").to_parquet(project / "good.parquet")
    batch("2024-03-02", bad_price=2).to_parquet(project / "bad.parquet")
    batch("2024-03-02").to_csv(project / "fixed.csv", index=False)
    return project


class TestIngestCommand:
    """``wk ingest`` exits 0 when clean, 1 on a failed critical check, 2 on bad input."""

    def test_clean_exits_0(self, files, capsys):
        """A clean batch is committed; JSON says so."""
        code, out = _run(["ingest", "orders", "good.parquet", "--partition", "2024-03-01",
                          "--format", "json"], capsys)
        record = json.loads(out)
        assert code == 0 and record["version"] == 0 and record["rows_valid"] == 20

    def test_failed_check_exits_1(self, files, capsys):
        """Quarantined rows of a failing critical check exit 1 and point to wk quarantine."""
        code, out = _run(["ingest", "orders", "bad.parquet", "--partition", "2024-03-02"],
                         capsys)
        assert code == 1 and "2 quarantined" in out and "price_positive" in out

    @pytest.mark.parametrize("argv", [
        ["ingest", "orders", "missing.parquet", "--partition", "2024-03-01"],
        ["ingest", "orders", "good.parquet", "--partition", "someday"],
        ["ingest", "nope", "good.parquet", "--partition", "2024-03-01"],
        ["read", "orders", "--version", "3"],
    ])
    def test_bad_input_exits_2(self, files, capsys, argv):
        """A missing file, a bad partition, an unknown table, an unknown version: exit 2."""
        code, out = _run(argv, capsys)
        assert code == 2 and "error:" in out and "Traceback" not in out


class TestReadCommands:
    """``wk read``, ``wk quarantine``, ``wk snapshot`` and ``wk versions``."""

    @pytest.fixture
    def loaded(self, files, capsys):
        _run(["ingest", "orders", "good.parquet", "--partition", "2024-03-01"], capsys)
        _run(["ingest", "orders", "bad.parquet", "--partition", "2024-03-02"], capsys)
        return files

    def test_read_refuses_invalid_partitions(self, loaded, capsys):
        """Reading a partition that failed a critical check exits 1 and names it."""
        code, out = _run(["read", "orders"], capsys)
        assert code == 1 and "2024-03-02 (price_positive)" in out

    def test_read_flags_and_json(self, loaded, capsys):
        """--exclude-invalid / --allow-invalid read 20 / 38 rows as JSON lines."""
        code, out = _run(["read", "orders", "--exclude-invalid", "--format", "json"], capsys)
        assert code == 0 and len(out.splitlines()) == 20
        code, out = _run(["read", "orders", "--allow-invalid", "--format", "json"], capsys)
        assert code == 0 and len(out.splitlines()) == 38
        assert json.loads(out.splitlines()[0])["date"] == "2024-03-01"

    def test_quarantine_lists_and_exports(self, loaded, capsys):
        """wk quarantine lists the 2 rows as JSON and exports them to Parquet."""
        code, out = _run(["quarantine", "orders", "--format", "json"], capsys)
        rows = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and [r["_wk_failed_checks"] for r in rows] == [["price_positive"]] * 2
        code, _ = _run(["quarantine", "orders", "--export", "q.parquet"], capsys)
        assert code == 0 and len(pd.read_parquet(loaded / "q.parquet")) == 2

    def test_fix_then_snapshot_and_versions(self, loaded, capsys):
        """Re-ingesting a fixed CSV makes the table valid; a snapshot id reads it back."""
        code, _ = _run(["ingest", "orders", "fixed.csv", "--partition", "2024-03-02"], capsys)
        assert code == 0
        code, out = _run(["snapshot", "orders"], capsys)
        snap = out.strip()
        assert code == 0 and snap.startswith("snap-")
        code, out = _run(["read", "orders", "--snapshot", snap, "--format", "json"], capsys)
        assert code == 0 and len(out.splitlines()) == 40
        code, out = _run(["read", "orders", "--version", "1", "--exclude-invalid", "--format",
                          "json"], capsys)
        assert code == 0 and len(out.splitlines()) == 20
        code, out = _run(["versions", "orders", "--format", "json"], capsys)
        assert [json.loads(line)["version"] for line in out.splitlines()] == [0, 1, 2]
        code, out = _run(["quarantine", "orders"], capsys)
        assert "No quarantined rows" in out
