"""benchmarks/ingest_speed.py cannot rot: every entry runs at tiny size on the same file."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import ingest_speed  # noqa: E402
import synthetic  # noqa: E402


class TestIngestBenchmark:
    """The benchmark's entries load the same rows; the ingest quarantines what it should."""

    def test_entries_at_tiny_size(self, tmp_path, monkeypatch):
        """Insert, copy, Delta write and ingest all run; ingest keeps every row somewhere."""
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        path = tmp_path / "day.parquet"
        pq.write_table(synthetic.day_table(0, 3_000, seed=11), path)
        for name, fn in (("a", ingest_speed.duckdb_insert), ("b", ingest_speed.duckdb_copy),
                         ("c", ingest_speed.delta_write)):
            (tmp_path / name).mkdir()
            fn(path, tmp_path / name)
        con = duckdb.connect(str(tmp_path / "a" / "plain.duckdb"))
        assert con.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3_000
        (tmp_path / "d").mkdir()
        result = ingest_speed.ingest(path, tmp_path / "d")
        over = int(pc.sum(pc.greater(pq.read_table(path)["retries"], 3)).as_py())
        assert len(ingest_speed.CHECKS.checks) == 10
        assert result.rows_quarantined == over > 0
        assert result.rows_valid + result.rows_quarantined == 3_000
