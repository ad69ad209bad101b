"""Shared by the CLI tests: run ``wk`` in-process, and a synthetic orders file to run it on.

Importable from any test module (pytest puts ``tests/`` on ``sys.path`` for its conftest).
"""

from __future__ import annotations

import numpy as np
import pytest

from watchkeeper.cli import main
from watchkeeper.datasets import synthetic


def run(args, capsys) -> tuple[int, str, str]:
    """``wk ARGS``: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as done:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def write_orders(tmp_path, monkeypatch, *, null_last_day: float = 0.0):
    """40 days of synthetic orders as Parquet in a fresh working directory (no store URL);
    with ``null_last_day``, that share of the last day's ``amount`` is NULL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    frame = synthetic(seed=2, days=40, rows_per_day=60).frame
    if null_last_day:
        last = frame["order_date"] == frame["order_date"].max()
        hit = last & (np.random.default_rng(1).random(len(frame)) < null_last_day)
        frame.loc[hit, "amount"] = None
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path, index=False)
    return path


def run_quiet(args) -> int:
    """``wk ARGS`` outside a test's capsys (e.g. in a session fixture): the exit code."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(args)
        except SystemExit as done:
            return int(done.code or 0)
    return 0
