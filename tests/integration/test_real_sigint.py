"""A real Ctrl-C: ``wk profile`` as a subprocess gets SIGINT while the engine reads the
data; it exits 130 with a one-line message and the store keeps the previous profile
whole (no partition, statistic or top value of the interrupted run)."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from watchkeeper.store import Store

WK = str(Path(sys.executable).parent / "wk")


def _wk(root: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "WK_STORE_URL"}
    return subprocess.Popen([WK, *args], cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _reading(proc: subprocess.Popen, name: str) -> bool:
    """Whether the process holds ``name`` open: the engine is scanning it."""
    try:
        return any(os.readlink(f"/proc/{proc.pid}/fd/{fd}").endswith(name)
                   for fd in os.listdir(f"/proc/{proc.pid}/fd"))
    except OSError:  # the process (or one of its descriptors) just went away
        return False


def _stored(root: Path) -> tuple:
    store = Store.open(root=root)
    stats = store.load_statistics("big")
    return (sorted(store.partition_state("big").itertuples(index=False, name=None)),
            stats.shape, float(pd.to_numeric(stats["value"], errors="coerce").sum()))


def test_sigint_during_wk_profile_exits_130_and_writes_nothing(tmp_path):
    rng = np.random.default_rng(0)
    n = 2_000_000  # a few seconds of engine work, so the signal lands mid-scan
    pd.DataFrame({
        "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "a": rng.normal(size=n), "b": rng.integers(0, 1000, n),
        "c": rng.choice(["x", "y", "z", "w"], n),
    }).to_parquet(tmp_path / "big.parquet", index=False)
    for args in (["init", "."], ["table", "add", "big", "--source", "big.parquet",
                                 "--partition-column", "day"], ["profile", "big"]):
        done = _wk(tmp_path, *args)
        assert done.wait(timeout=300) == 0, done.stderr.read()
        done.stderr.close()
    before = _stored(tmp_path)
    spills = set(glob.glob(os.path.join(tempfile.gettempdir(), "watchkeeper-*")))

    proc = _wk(tmp_path, "profile", "big", "--full-refresh")
    deadline = time.monotonic() + 120
    while not _reading(proc, "big.parquet"):
        assert proc.poll() is None and time.monotonic() < deadline, "never read the data"
        time.sleep(0.01)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=120)
    err = proc.stderr.read()
    proc.stderr.close()

    assert code == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert _stored(tmp_path) == before
    left = set(glob.glob(os.path.join(tempfile.gettempdir(), "watchkeeper-*"))) - spills
    assert not {p for p in left if str(proc.pid) in p}, left  # its spill folder is gone
