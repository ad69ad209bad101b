"""The dashboard's store connection: one per burst of requests, let go when idle, and
writes inside it as safe as outside."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import dashboard_speed  # noqa: E402


@pytest.fixture
def wide_store(tmp_path):
    from watchkeeper.store import Store

    store = Store.open(tmp_path / "store.duckdb")
    dashboard_speed.fill_store(store, columns=60, partitions=3)
    return store


def _count_connects(monkeypatch) -> list:
    from watchkeeper.store import _db, store as store_module

    opened = []
    real = _db.connect

    def counting(*args, **kwargs):
        opened.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(store_module._db, "connect", counting)
    return opened


class TestOneConnectionPerBurst:
    def test_requests_of_a_burst_share_one_connection(self, wide_store, monkeypatch):
        """A page and its charts open the store once, not once per store call."""
        from fastapi.testclient import TestClient

        from watchkeeper.server import create_app

        app = create_app(None, store=wide_store)
        opened = _count_connects(monkeypatch)
        with TestClient(app) as client:
            assert client.get("/table", params={"name": "wide"}).status_code == 200
            for column in ("feature_0000", "feature_0001", "feature_0002"):
                r = client.get("/api/series", params={"table": "wide", "column": column,
                                                       "statistic": "mean"})
                assert r.status_code == 200 and len(r.json()["points"]) == 3
        assert len(opened) == 1

    def test_the_connection_is_let_go_when_idle(self, wide_store):
        """Between bursts the store file is free for wk check in another process."""
        from fastapi.testclient import TestClient

        from watchkeeper.server import create_app
        from watchkeeper.server.held_store import IDLE_SECONDS

        app = create_app(None, store=wide_store)
        with TestClient(app) as client:
            client.get("/api/tables")
            assert wide_store._held is not None
            deadline = time.monotonic() + IDLE_SECONDS + 5
            while wide_store._held is not None and time.monotonic() < deadline:
                time.sleep(0.1)
                client.get("/static/wk.css")  # keeps the event loop turning, no store use
            assert wide_store._held is None


    def test_another_process_writes_between_bursts(self, wide_store):
        """While the dashboard idles, a wk process can open the store file and write."""
        import os
        import subprocess

        from fastapi.testclient import TestClient

        from watchkeeper.server import create_app

        code = ("import sys; from watchkeeper.store import Store, TableRecord; "
                "Store.open(sys.argv[1]).register_table("
                "TableRecord('written', 'memory', 'day', 'day'))")
        env = {**os.environ, "WK_LOCK_TIMEOUT": "20",
               "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).resolve()
                                                             .parents[2] / "src"),
                                                         os.environ.get("PYTHONPATH")) if p)}
        with TestClient(create_app(None, store=wide_store)) as client:
            assert client.get("/table", params={"name": "wide"}).status_code == 200
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-c", code, wide_store.url], env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert time.monotonic() - started < 15
            names = [t["name"] for t in client.get("/api/tables").json()["items"]]
        assert "written" in names


class TestWritesInASession:
    def test_a_failed_write_inside_a_session_leaves_nothing(self, wide_store):
        """Nothing is lost and nothing half-done: atomic() inside a session still rolls
        back as a whole."""
        from watchkeeper.store import TableRecord

        with wide_store.session():
            with pytest.raises(RuntimeError):
                with wide_store.atomic():
                    wide_store.register_table(TableRecord("other", "memory", "day", "day"))
                    raise RuntimeError("boom")
            assert wide_store.table("other") is None
            wide_store.register_table(TableRecord("kept", "memory", "day", "day"))
        assert wide_store.table("kept") is not None and wide_store.table("other") is None


class TestChartPages:
    def test_a_wide_table_charts_one_page_of_columns_and_lists_all(self, wide_store):
        from fastapi.testclient import TestClient

        from watchkeeper.server import create_app
        from watchkeeper.server.views import CHARTS_PER_PAGE

        with TestClient(create_app(None, store=wide_store)) as client:
            html = client.get("/table", params={"name": "wide"}).text
            assert html.count('class="wk-chart"') == CHARTS_PER_PAGE
            assert "feature_0059" in html  # every column in the health table
            assert 'href="/table?name=wide&amp;chart_offset=50"' in html
            # A column beyond the first page links to the page that charts it.
            assert 'href="/table?name=wide&amp;column=feature_0059#col-60"' in html
            later = client.get("/table", params={"name": "wide", "column": "feature_0059"}).text
            assert "column=feature_0059&amp;statistic=mean" in later
            assert "column=feature_0000&amp;statistic=mean" not in later
            assert client.get("/table", params={"name": "wide",
                                                "chart_offset": -1}).status_code == 422
