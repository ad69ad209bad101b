"""Atomicity: an ingest killed at any point leaves the old partition or the new one.

Each test kills a real ``wk ingest`` process with SIGKILL: at every step (the
process stops there through the test hook ``WK_TEST_INGEST_PAUSE``), and at
random moments. Afterwards the table must read exactly as before or exactly as
after the ingest, and the next ingest must work.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from watchkeeper.managed import managed_table
from watchkeeper.managed.ingest import STEPS

from .data import batch, user_rows

WK = str(Path(sys.executable).parent / "wk")
DAY = "2024-03-01"


def _state(root: Path):
    orders = managed_table("orders", root)
    rows = user_rows(orders.read(partitions=[DAY], allow_invalid=True))
    other = user_rows(orders.read(partitions=["2024-03-02"]))
    return rows, user_rows(orders.quarantine(partitions=[DAY])), other


def _same(a, b) -> bool:
    return all(x.shape == y.shape and x.reset_index(drop=True).equals(y.reset_index(drop=True))
               for x, y in zip(a, b))


@pytest.fixture
def prepared(orders):
    """Old state: two partitions ingested; new batch on disk; expected new state computed."""
    old_batch = batch(DAY, bad_price=2, seed=1)
    orders.ingest(old_batch, partition=DAY)
    orders.ingest(batch("2024-03-02", seed=2), partition="2024-03-02")
    new_batch = batch(DAY, n=40, bad_size=3, seed=3)
    new_batch.to_parquet(orders.root / "new.parquet")
    old = _state(orders.root)
    bad = new_batch["size"] == "XXL"
    new = (user_rows(new_batch[~bad]), user_rows(new_batch[bad]), old[2])
    return orders.root, old, new


def _start(root: Path, pause: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "WK_STORE_URL"}
    if pause:
        env["WK_TEST_INGEST_PAUSE"] = f"{pause}:120"
    return subprocess.Popen([WK, "ingest", "orders", "new.parquet", "--partition", DAY],
                            cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_pause(proc: subprocess.Popen, step: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if f"wk-ingest-paused {step}" in line:
            return
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"the ingest never reached step {step} (exit {proc.poll()})")


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()


class TestKilledIngest:
    """SIGKILL at any point of ``wk ingest`` never leaves a mix of old and new rows."""

    @pytest.mark.parametrize("step", STEPS)
    def test_kill_at_each_step(self, prepared, step):
        """Killed before the commit, the table reads as before; after it, as the new batch;
        either way the next ingest succeeds and reads as the new batch."""
        root, old, new = prepared
        proc = _start(root, step)
        _wait_for_pause(proc, step)
        _kill(proc)
        assert _same(_state(root), new if step == "committed" else old)
        assert subprocess.run([WK, "ingest", "orders", "new.parquet", "--partition", DAY],
                              cwd=root, capture_output=True).returncode == 1
        assert _same(_state(root), new)
        files = {p.name for p in (root / ".watchkeeper/managed/orders/quarantine").iterdir()}
        recorded = managed_table("orders", root).versions()["ingest_id"]
        assert files <= {f"{i}.parquet" for i in recorded}  # leftovers were removed

    @pytest.mark.parametrize("seed", range(4))
    def test_kill_at_random_moments(self, prepared, seed):
        """Killed at a random moment, the table reads exactly as before or as after."""
        root, old, new = prepared
        started = time.monotonic()
        probe = _start(root, None)
        probe.wait(timeout=120)
        probe.stderr.close()
        took = time.monotonic() - started  # a full run; the kills land inside it
        managed_table("orders", root).ingest(batch(DAY, bad_price=2, seed=1), partition=DAY)
        assert _same(_state(root), old)
        delay = np.random.default_rng(seed).uniform(0.2, 1.0) * took
        proc = _start(root, None)
        time.sleep(delay)
        _kill(proc)
        state = _state(root)
        assert _same(state, old) or _same(state, new)
        managed_table("orders", root).ingest(root / "new.parquet", partition=DAY)
        assert _same(_state(root), new)
