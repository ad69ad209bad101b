"""Fixtures for trigger tests: a real HTTP server on loopback, stores, projects."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from watchkeeper import Store
from watchkeeper.config import Project


class HookServer:
    """A webhook receiver on 127.0.0.1 that answers with scripted status codes."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict] = []
        self.script: list[int] = []  # status codes to answer first; then 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = outer.script.pop(0) if outer.script else 200
                outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body, "status": status})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def delivered(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests if r["status"] == 200]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def hook():
    server = HookServer()
    yield server
    server.close()


@pytest.fixture
def free_port() -> int:
    """A loopback port nobody listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request, tmp_path) -> str:
    """The metadata store, once as a DuckDB file and once as a Postgres schema."""
    if request.param == "duckdb":
        return str(tmp_path / "store.duckdb")
    schema = request.getfixturevalue("pg_schema")
    return f"{request.getfixturevalue('pg_dsn')}?schema={schema}"


@pytest.fixture
def store(store_url) -> Store:
    return Store.open(store_url)


@pytest.fixture
def duck_store(tmp_path) -> Store:
    return Store.open(tmp_path / "store.duckdb")


@pytest.fixture
def make_project(tmp_path, monkeypatch):
    """Write a watchkeeper.yaml with a triggers section; returns the loaded Project."""
    monkeypatch.delenv("WK_STORE_URL", raising=False)

    def make(triggers: dict, store: str | None = None, folder=None) -> Project:
        root = folder or tmp_path / "project"
        root.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "store": store or ".watchkeeper/store.duckdb", "tables": {},
                "triggers": triggers}
        (root / "watchkeeper.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        return Project.load(root / "watchkeeper.yaml")

    return make
