"""Hostile or extreme dates: rows dated year 1 or 9999 are a notice (profile) or a
partition-key failure (ingest), never a crash; no check walks an unbounded calendar;
partition text is ISO 8601 or refused with the ISO form as the hint."""

from __future__ import annotations

import datetime as dt
import json
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from watchkeeper.store import Store

from cli_helpers import run

DAYS = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(5)]


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    days = DAYS + [dt.date(1, 1, 1), dt.date(9999, 12, 31)]
    pq.write_table(pa.table({
        "day": days, "x": [1.0] * len(days),
        "ts": [dt.datetime(2024, 1, 1)] * 5 + [dt.datetime(1, 1, 1, 5),
                                               dt.datetime(9999, 12, 31, 23)]}), "edge.parquet")
    (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump({
        "version": 1,
        "tables": {"t": {"source": "edge.parquet", "partition_column": "day"},
                   "u": {"source": "edge.parquet", "partition_column": "ts"}},
        "managed": {"feed": {"partition_column": "day"}},
        "slos": {"tables": {"t": {"checks": [{"kind": "not_null", "column": "x"},
                                             {"kind": "freshness", "deadline": "1d"}]}}}}))
    return tmp_path


@pytest.mark.parametrize("table", ["t", "u"])
def test_profile_reports_out_of_range_dates_as_a_notice(project, capsys, table):
    code, _out, err = run(["profile", table], capsys)
    assert code == 0, err
    assert "notice:" in err and "outside 1677-09-22 to 2262-04-11" in err
    stored = Store.open(root=project).partition_state(table)
    assert [p.date() for p in stored["partition"]] == (DAYS if table == "t" else DAYS[:1])


def test_freshness_never_walks_an_unbounded_calendar(project, capsys):
    """One row dated year 1 used to expect 739,957 daily partitions."""
    started = time.monotonic()
    code, out, err = run(["validate", "t", "--all", "--format", "json"], capsys)
    assert code == 1, err  # the missing days since 2024-01-05 fail the deadline
    fresh = [json.loads(line) for line in out.splitlines()
             if json.loads(line)["check"] == "freshness"]
    assert len(fresh) <= 1000 + 7
    assert time.monotonic() - started < 30


def test_ingest_quarantines_out_of_range_rows_as_partition_key_failures(project, capsys):
    code, out, err = run(["ingest", "feed", "edge.parquet", "--partition", "2024-01-01"],
                         capsys)
    assert code == 1 and "Traceback" not in err
    assert "partition_key" in out


@pytest.mark.parametrize("text, hint", [
    ("08/09/2017", "2017-08-09 or 2017-09-08"),
    ("09.08.2017", "2017-08-09 or 2017-09-08"),
    ("-1", "YYYY-MM-DD"),
    ("2017/08/09", "YYYY-MM-DD"),
])
def test_non_iso_partitions_are_refused_with_the_iso_form(project, capsys, text, hint):
    for args in (["gate", "t", "--partition", text],
                 ["ingest", "feed", "edge.parquet", "--partition", text]):
        code, _out, err = run(args, capsys)
        assert code == 2 and hint in err and len(err.strip().splitlines()) == 1, err
