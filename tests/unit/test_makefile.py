"""``make demo`` and ``make test`` install quietly: errors only, never a wall of warnings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pip_lines() -> list[str]:
    """Every pip install command ``make`` would run, as ``make -n`` expands it."""
    out = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), "dev", "bench-peers",
                          f"PYTHON={sys.executable}"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "MAKEFLAGS": ""})
    return [line for line in out.stdout.splitlines() if "pip install" in line]


class TestMakefileInstalls:
    def test_every_pip_install_prints_errors_only(self):
        """Each pip install runs with -qq (warnings hidden, errors shown) and no version
        check."""
        lines = _pip_lines()
        assert len(lines) >= 3, lines
        for line in lines:
            assert re.search(r"(^|\s)-qq(\s|$)", line), line
            assert "--disable-pip-version-check" in line, line

    def test_errors_still_show(self, tmp_path):
        """With those flags, pip still says why an install fails."""
        run = subprocess.run([sys.executable, "-m", "pip", "install", "-qq",
                              "--disable-pip-version-check", "--no-index",
                              "--find-links", str(tmp_path), "no-such-package-wk"],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "PIP_FIND_LINKS": str(tmp_path / "missing")})
        assert run.returncode != 0 and "No matching distribution" in run.stderr


def _demo_commands() -> tuple[list[list[str]], str]:
    """The ``wk`` commands ``make demo`` runs, and the whole recipe as ``make -n`` expands
    it (installs included)."""
    out = subprocess.run(["make", "-n", "-B", "-C", str(ROOT), "demo",
                          f"PYTHON={sys.executable}"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "MAKEFLAGS": ""})
    assert out.returncode == 0, out.stderr
    return [line.split()[1:] for line in out.stdout.splitlines()
            if line.split() and line.split()[0].endswith("/bin/wk")], out.stdout


class TestMakeDemo:
    def test_demo_runs_the_monitoring_loop_then_the_pipeline_story(self):
        """``make demo`` runs ``wk demo`` then ``wk demo --pipeline`` (the two commands
        tests/integration/test_demo.py and tests/pipelines/test_demo_pipeline.py run),
        each in its own folder, with the pipelines extra installed (MLflow,
        scikit-learn)."""
        commands, text = _demo_commands()
        assert [c[:2] for c in commands] == [["demo", "--workdir"], ["demo", "--pipeline"]], text
        first, second = commands
        assert first == ["demo", "--workdir", first[2]]
        assert second == ["demo", "--pipeline", "--workdir", second[3]]
        assert Path(second[3]) != Path(first[2])  # each demo starts from an empty folder
        installs = [line for line in text.splitlines() if "pip install" in line]
        extras = re.search(r"-e '?\.\[([a-z,]+)\]", installs[-1]).group(1).split(",")
        assert {"demo", "pipelines"} <= set(extras), installs
