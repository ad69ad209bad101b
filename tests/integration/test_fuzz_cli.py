"""Property-based: no ``wk`` invocation, however hostile its arguments, gives a traceback
or an internal error; every exit code is one docs/cli.md lists for a user (0, 1, 2)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from watchkeeper.cli import main
from watchkeeper.datasets import synthetic

_DIR = Path(tempfile.mkdtemp(prefix="wk-cli-fuzz-"))
synthetic(seed=3, days=4, rows_per_day=15).frame.to_parquet(_DIR / "orders.parquet",
                                                               index=False)
(_DIR / "watchkeeper.yaml").write_text(yaml.safe_dump({
    "version": 1, "tables": {"orders": {"source": "orders.parquet",
                                        "partition_column": "order_date"}},
    "managed": {"feed": {"partition_column": "order_date"}}}))

COMMANDS = [["profile"], ["summary"], ["validate"], ["gate"], ["check"], ["ingest"],
            ["alerts"], ["alerts", "show"], ["alerts", "ack"], ["table", "add"],
            ["table", "list"], ["triggers", "test"], ["triggers", "log"], ["slo", "status"],
            ["init"], ["read"], ["versions"], ["quarantine"], ["snapshot"], ["suggest"]]
OPTIONS = ["--partition", "--partition-column", "--granularity", "--format", "--column",
           "--last", "--for", "--table", "--source", "--all", "--full-refresh", "--limit",
           "--since", "--replace", "--note"]
WORDS = st.one_of(
    st.sampled_from(["orders", "feed", "orders.parquet", "*.parquet", "-1", "0", "1e309",
                     "08/09/2017", "2023-01-02", "0001-01-01", "9999-12-31", "json", "day",
                     "week", "hour", "decade", "order_date", "amount", "nope", "", " ", "#1",
                     "x1", "watchkeeper.yaml", "..", "/", "a b", "'", "%s", "NaN", "serve"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            max_size=6))
ARGS = st.tuples(st.sampled_from(COMMANDS),
                 st.lists(st.one_of(WORDS, st.sampled_from(OPTIONS)), max_size=5))


def _wk(args: list[str], capsys) -> tuple[int, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


@pytest.fixture(autouse=True)
def _in_project(monkeypatch):
    monkeypatch.chdir(_DIR)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.setenv("WK_LOCK_TIMEOUT", "5")


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(ARGS)
@example((["ingest"], ["feed", "*.parquet", "--partition", "-1"]))
@example((["init"], ["orders.parquet"]))
@example((["gate"], ["orders", "--partition", "08/09/2017"]))
def test_no_invocation_gives_a_traceback(capsys, argv):
    command, rest = argv
    before = sorted(p.name for p in _DIR.iterdir())
    code, err = _wk([*command, *rest], capsys)
    assert code in {0, 1, 2}, err
    assert "Traceback" not in err and "internal error" not in err, err
    if command == ["init"] and code == 2:  # a refused init leaves the folder as it was
        assert sorted(p.name for p in _DIR.iterdir()) == before
    os.environ.pop("WK_STORE_URL", None)
