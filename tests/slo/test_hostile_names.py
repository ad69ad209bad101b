"""Internal aliases never collide with user columns, whatever the users name them."""

from __future__ import annotations

import pandas as pd
import pytest

import watchkeeper as wk
from watchkeeper.managed import managed_table
from watchkeeper.slo import Check, TableSLO, evaluate

HOSTILE = ["n", "count", "__wk_n", "wk_n", "wk_partition", "__wk_partition_1", "wk_sql_r0",
           "wk_bad", "wk_names", "judged", "duplicates", "rank", 'we"ird', "two words",
           "it's", "c0"]


def _frame(name: str) -> pd.DataFrame:
    """Two days; day 2 repeats the value 1 in the hostile column (rows 0 and 1)."""
    return pd.DataFrame({"day": pd.to_datetime(["2024-01-01"] * 3 + ["2024-01-02"] * 3),
                         name: [1, 2, 3, 1, 1, 3], "b": [1, 2, 2, 2, 2, 3]})


def _slo(name: str) -> TableSLO:
    return TableSLO("t", checks=tuple(Check.from_dict(c) for c in (
        {"kind": "unique", "column": name, "name": "u"},
        {"kind": "compound_unique", "columns": [name, "b"], "name": "cu"},
        {"kind": "sql_row", "expression": "b < 3", "name": "small_b"},
        {"kind": "sql_aggregate", "expression": "count(*) = 3", "name": "three_rows"},
        {"kind": "not_null", "column": name, "name": "nn"})))


@pytest.mark.parametrize("name", HOSTILE)
class TestHostileColumnNames:
    def test_checks_evaluate(self, name):
        """Every check gets its verdict; the duplicates are counted, every copy of them."""
        results = evaluate(_frame(name), _slo(name), partition_column="day").results
        assert results["error"].isna().all(), results["error"].tolist()
        got = {(r.check, str(r.partition.date())): r.unexpected_count
               for r in results.itertuples() if r.check in ("u", "cu", "small_b")}
        assert got == {("u", "2024-01-01"): 0, ("u", "2024-01-02"): 2,
                       ("cu", "2024-01-01"): 0, ("cu", "2024-01-02"): 2,
                       ("small_b", "2024-01-01"): 0, ("small_b", "2024-01-02"): 1}

    def test_profile_runs(self, name, tmp_path, monkeypatch):
        """The summary scan profiles the column under its own name."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        stats = wk.profile(_frame(name), partition_column="day").statistics
        assert name in set(stats["column"])

    def test_ingest_quarantines_by_the_rules(self, name, tmp_path, monkeypatch):
        """Ingest keeps the first copy of a duplicated value and quarantines the second (and
        the row failing ``small_b``)."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        table = managed_table("t", slo=_slo(name), partition_column="day", root=tmp_path)
        day2 = _frame(name).iloc[3:].reset_index(drop=True)
        result = table.ingest(day2, partition="2024-01-02")
        assert (result.rows_valid, result.rows_quarantined) == (1, 2)
        quarantined = table.quarantine(format="pandas")
        assert sorted(quarantined["_wk_row"]) == [1, 2]
