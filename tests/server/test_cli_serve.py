"""``wk serve`` and ``wk report`` through the real entry point."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
from cli_helpers import run
from dashboard_project import TOKEN


class TestReport:
    def test_writes_one_self_contained_file(self, project, capsys, tmp_path):
        out = tmp_path / "orders.html"
        code, stdout, _ = run(["report", "orders", "--out", str(out)], capsys)
        assert code == 0 and "Wrote" in stdout
        html = out.read_text()
        assert 'id="incident-1"' in html and 'data-series-id="series-0"' in html
        assert 'id="series-0"' in html and "var uPlot" in html  # data and library inline
        assert 'src="/' not in html and 'href="/static' not in html  # nothing to fetch

    def test_default_name(self, project, capsys):
        code, _, _ = run(["report", "orders"], capsys)
        assert code == 0 and (project.root / "orders-report.html").is_file()

    def test_unknown_table_is_one_line_exit_2(self, project, capsys):
        code, _, err = run(["report", "nope"], capsys)
        assert code == 2 and "wk profile nope" in err and len(err.strip().splitlines()) == 1
        assert not (project.root / "nope-report.html").exists()


class TestServe:
    def test_beyond_loopback_needs_a_token_or_open_read(self, project, capsys, monkeypatch):
        monkeypatch.delenv("WK_SERVER_TOKEN", raising=False)
        code, _, err = run(["serve", "--host", "0.0.0.0"], capsys)
        assert code == 2 and "WK_SERVER_TOKEN" in err and "--open-read" in err

    def test_serves_and_never_logs_the_token(self, project):
        """The real server answers reads and a write with the token; its log holds no token."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "WK_SERVER_TOKEN": TOKEN,
               "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        proc = subprocess.Popen([sys.executable, "-m", "watchkeeper.cli", "serve", "--port",
                                 str(port)], cwd=project.root, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/api/tables", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "no server"
                time.sleep(0.2)
            r = httpx.post(url + "/api/incidents/1/feedback", json={"action": "ack"},
                           headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            assert r.status_code == 200 and r.json()["status"] == "acknowledged"
            assert httpx.get(url + "/", timeout=30).status_code == 200
        finally:
            proc.terminate()
            log, _ = proc.communicate(timeout=30)
        assert "dashboard on http://127.0.0.1" in log and "POST /api/incidents/1/feedback" in log
        assert TOKEN not in log


def test_every_dashboard_asset_ships_in_the_wheel():
    """Each template and static file matches a package-data pattern of pyproject.toml,
    so a pip-installed watchkeeper serves the same pages, offline."""
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["watchkeeper.server"]
    package = root / "src" / "watchkeeper" / "server"
    assets = [p.relative_to(package).as_posix() for folder in ("static", "templates")
              for p in (package / folder).rglob("*") if p.is_file()]
    assert "static/vendor/uplot/uPlot.iife.min.js" in assets
    assert [a for a in assets if not any(fnmatch.fnmatch(a, pat) for pat in patterns)] == []
