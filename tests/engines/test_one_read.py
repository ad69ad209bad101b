"""CSV parsed once (staged as Parquet, removed afterwards) and queries that never rerun
without their memory budget."""

from __future__ import annotations

import glob
import os
import tempfile

import numpy as np
import pandas as pd
import pytest

import watchkeeper
from watchkeeper.engine import QueryFailed, Relation, open_source


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 600
    return pd.DataFrame({
        "ts": pd.Timestamp("2024-02-01") + pd.to_timedelta(np.arange(n) * 7, unit="min"),
        "x": rng.normal(0, 1, n).round(4),
        "k": rng.integers(0, 9, n),
        "s": rng.choice(["a", "b", "c", "d e"], n),  # CSV reads "" as NULL
    })


def _stages() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "watchkeeper-stage-*")))


def _table(result) -> dict:
    return {(p, c, s): v for p, c, s, v in result.statistics.itertuples(index=False, name=None)}


def test_csv_is_parsed_once_and_agrees_with_parquet(frame, tmp_path, queries):
    """No query reads the CSV text: it is staged once, and gives the Parquet statistics."""
    csv, parquet = tmp_path / "t.csv", tmp_path / "t.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    before = _stages()
    from_csv = watchkeeper.profile(str(csv), partition_column="ts")
    assert queries and not any("read_csv" in q.lower() for q in queries)
    assert _stages() == before  # the staged copy is gone once the profile ends
    from_parquet = watchkeeper.profile(str(parquet), partition_column="ts")
    got, want = _table(from_csv), _table(from_parquet)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-9, nan_ok=True), key


def test_staged_copy_removed_when_a_query_fails(frame, tmp_path, monkeypatch):
    """A failing run leaves no staged copy behind."""
    csv = tmp_path / "t.csv"
    frame.to_csv(csv, index=False)
    before = _stages()

    def boom(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Relation, "partition_counts", boom)
    with pytest.raises(KeyboardInterrupt):
        watchkeeper.profile(str(csv), partition_column="ts")
    assert _stages() == before


def test_bad_csv_is_a_source_error_and_leaves_nothing(tmp_path):
    """A file that is not CSV gives a SourceError and no staged directory."""
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n\xff\xfe,1\n")  # not UTF-8
    before = _stages()
    with pytest.raises(watchkeeper.errors.SourceError, match="bad.csv"):
        open_source(str(bad)).close()
    assert _stages() == before


def test_value_counts_over_budget_are_not_rerun_without_it(frame, tmp_path, monkeypatch):
    """A value-count query that runs out of its budget fails once; the run falls back to
    sketches with a notice, never to the same query without the budget."""
    path = tmp_path / "t.parquet"
    frame.to_parquet(path, index=False)
    calls: list[str] = []
    real = Relation._execute

    def fake(self, expr):
        sql = self.sql(expr)
        if "arg_min" in sql.lower():  # the value-count query (bounded top-k)
            calls.append(sql)
            raise QueryFailed("OutOfMemoryException: Out of Memory Error: budget reached")
        return real(self, expr)

    monkeypatch.setattr(Relation, "_execute", fake)
    result = watchkeeper.profile(str(path), partition_column="ts")
    assert len(calls) == 1
    assert any("top values could not be computed" in n.message for n in result.notices)
    assert set(result.statistics["column"]) == {"*", "ts", "x", "k", "s"}
