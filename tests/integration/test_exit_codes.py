"""Exit codes mean what they say: 0 success, 1 blocked/failed, 2 user mistake,
70 internal error (one line; the traceback only with --debug), 130 interrupted."""

from __future__ import annotations

import duckdb
import ibis.expr.types as ir
import pytest

from watchkeeper.cli import EXIT_CODES, INTERNAL_ERROR, INTERRUPTED
from watchkeeper.store import Store

from cli_helpers import run, write_orders


def _stored(tmp_path) -> list:
    store = Store.open(root=tmp_path)
    return sorted(store.partition_state("orders").itertuples(index=False, name=None))


class TestInterrupt:
    def test_ctrl_c_inside_the_engine_exits_130_and_keeps_the_previous_profile(
            self, tmp_path, monkeypatch, capsys):
        """DuckDB turns SIGINT into its own exception mid-query: the run stops with 130
        (never a notice and exit 0) and the store keeps the previous profile intact."""
        write_orders(tmp_path, monkeypatch)
        assert run(["init", "."], capsys)[0] == 0
        assert run(["table", "add", "orders", "--source", "orders.parquet",
                    "--partition-column", "order_date"], capsys)[0] == 0
        assert run(["profile", "orders"], capsys)[0] == 0
        before = _stored(tmp_path)
        real = ir.Table.execute
        calls = {"n": 0}

        def interrupted(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] >= 2:  # the counts pass, a later summary query is interrupted
                raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")
            return real(self, *args, **kwargs)

        monkeypatch.setattr(ir.Table, "execute", interrupted)
        code, _out, err = run(["profile", "orders", "--full-refresh"], capsys)
        assert code == INTERRUPTED, err
        assert "Traceback" not in err
        monkeypatch.setattr(ir.Table, "execute", real)
        assert _stored(tmp_path) == before

    def test_keyboard_interrupt_exits_130(self, tmp_path, monkeypatch, capsys):
        write_orders(tmp_path, monkeypatch)

        def boom(*_a, **_k):
            raise KeyboardInterrupt

        monkeypatch.setattr("watchkeeper.cli._common.run_profile", boom)
        code, _out, _err = run(["profile", "orders.parquet", "--partition-column",
                                "order_date"], capsys)
        assert code == 130


class TestInternalError:
    def _break(self, monkeypatch):
        def boom(*_a, **_k):
            raise TypeError("'<' not supported between instances of 'float' and 'str'")

        monkeypatch.setattr("watchkeeper.cli._common.run_profile", boom)

    def test_an_internal_error_is_one_line_and_never_exit_1(self, tmp_path, monkeypatch,
                                                             capsys):
        write_orders(tmp_path, monkeypatch)
        self._break(monkeypatch)
        code, _out, err = run(["profile", "orders.parquet", "--partition-column",
                               "order_date"], capsys)
        assert code == INTERNAL_ERROR != 1
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("internal error: TypeError") and "--debug" in err

    def test_debug_shows_the_traceback(self, tmp_path, monkeypatch, capsys):
        write_orders(tmp_path, monkeypatch)
        self._break(monkeypatch)
        code, _out, err = run(["--debug", "profile", "orders.parquet", "--partition-column",
                               "order_date"], capsys)
        assert code == INTERNAL_ERROR
        assert "Traceback" in err and "internal error" in err

    def test_secrets_in_an_internal_error_are_scrubbed(self, tmp_path, monkeypatch, capsys):
        write_orders(tmp_path, monkeypatch)

        def boom(*_a, **_k):
            raise RuntimeError("failed on https://hooks.example.com/services/T0KEN?sig=abc")

        monkeypatch.setattr("watchkeeper.cli._common.run_profile", boom)
        code, _out, err = run(["profile", "orders.parquet", "--partition-column",
                               "order_date"], capsys)
        assert code == INTERNAL_ERROR
        assert "T0KEN" not in err and "sig=abc" not in err


def test_docs_list_every_exit_code():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    for code, _meaning in EXIT_CODES:
        assert f"| {code} |" in text, code
