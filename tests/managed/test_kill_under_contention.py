"""Two ``wk ingest`` processes on one table and one store, one SIGKILLed at a random
moment: the survivor's ingest completes (it waits for the table lock and the store,
which the dead process's OS releases), the killed one's partition reads exactly as
before or as after, and the table and store stay consistent for the next ingest."""

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

from .data import batch, user_rows

WK = str(Path(sys.executable).parent / "wk")
VICTIM_DAY, SURVIVOR_DAY = "2024-03-01", "2024-03-03"


def _ingest(root: Path, file: str, day: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in {"WK_STORE_URL", "WK_TEST_INGEST_PAUSE"}}
    return subprocess.Popen([WK, "ingest", "orders", file, "--partition", day], cwd=root,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def _rows(root: Path, day: str):
    return user_rows(managed_table("orders", root).read(partitions=[day], allow_invalid=True))


def _same(a, b) -> bool:
    return a.shape == b.shape and a.equals(b)


@pytest.fixture
def contended(orders):
    """The victim's partition holds an old batch; its new batch and one batch per round
    for the survivor's partition are on disk."""
    orders.ingest(batch(VICTIM_DAY, seed=1), partition=VICTIM_DAY)
    batch(VICTIM_DAY, n=30, seed=2).to_parquet(orders.root / "victim.parquet")
    return orders.root


def test_a_killed_ingest_never_spoils_the_survivors(contended):
    root = contended
    old, new = _rows(root, VICTIM_DAY), user_rows(batch(VICTIM_DAY, n=30, seed=2))
    started = time.monotonic()
    probe = _ingest(root, "victim.parquet", VICTIM_DAY)
    assert probe.wait(timeout=120) == 0, probe.stderr.read()
    probe.stderr.close()
    took = time.monotonic() - started  # one whole run; the kills land inside two at once
    rng = np.random.default_rng(7)
    for round_ in range(3):
        managed_table("orders", root).ingest(batch(VICTIM_DAY, seed=1), partition=VICTIM_DAY)
        mine = batch(SURVIVOR_DAY, n=10 + round_, seed=20 + round_)
        mine.to_parquet(root / "survivor.parquet")
        first, second = ("victim", "survivor") if rng.random() < 0.5 else ("survivor", "victim")
        procs = {}
        for who in (first, second):
            day = VICTIM_DAY if who == "victim" else SURVIVOR_DAY
            procs[who] = _ingest(root, f"{who}.parquet", day)
        time.sleep(rng.uniform(0.2, 1.2) * took)
        procs["victim"].send_signal(signal.SIGKILL)
        procs["victim"].wait(timeout=60)
        procs["victim"].stderr.close()
        survivor = procs["survivor"]
        code = survivor.wait(timeout=180)
        err = survivor.stderr.read()
        survivor.stderr.close()
        assert code == 0, err
        assert _same(_rows(root, SURVIVOR_DAY), user_rows(mine)), f"round {round_}"
        state = _rows(root, VICTIM_DAY)
        assert _same(state, old) or _same(state, new), f"round {round_}: a mix of rows"
        versions = managed_table("orders", root).versions()
        committed = versions[versions["status"] == "committed"]["version"].astype(int)
        assert committed.is_unique and committed.is_monotonic_increasing, versions
    managed_table("orders", root).ingest(root / "victim.parquet", partition=VICTIM_DAY)
    assert _same(_rows(root, VICTIM_DAY), new)
