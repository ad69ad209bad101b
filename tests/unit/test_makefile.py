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
