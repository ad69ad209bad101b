"""Under CI=true a skipped test fails the run; an xfail (a declared gap) does not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


def _run(tmp_path: Path, body: str, ci: str) -> int:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_case.py").write_text(body)
    env = {**os.environ, "CI": ci}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path)], cwd=tmp_path, env=env, capture_output=True).returncode


class TestSkipPolicy:
    def test_skip_fails_under_ci(self, tmp_path):
        """A skip is a failure when CI=true."""
        assert _run(tmp_path, "import pytest\ndef test_a():\n    pytest.skip('x')\n", "true") == 1

    def test_skip_is_allowed_locally(self, tmp_path):
        """Outside CI a skip stays a skip (exit 0)."""
        assert _run(tmp_path, "import pytest\ndef test_a():\n    pytest.skip('x')\n", "") == 0

    def test_xfail_is_not_a_skip(self, tmp_path):
        """A strict xfail that fails as declared passes the run under CI=true."""
        body = ("import pytest\n@pytest.mark.xfail(strict=True, reason='gap')\n"
                "def test_a():\n    assert False\n")
        assert _run(tmp_path, body, "true") == 0
